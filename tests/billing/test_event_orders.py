"""Every order of a realistic sequence of Stripe's events leaves the same membership behind."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select

from campus.accounts.models import User
from campus.billing.access import has_paid_access
from campus.billing.models import CheckoutSession, StripeCustomer, Subscription, WebhookEvent
from campus.extensions import db
from campus.mail.models import EmailMessage
from campus.models.base import utcnow
from tests import support
from tests.billing.fake_stripe import PRICE_ID, event, invoice, new_id, post_event, subscription

# How the member stands when their events come: their customer linked (as every checkout
# Campus opens links it first) or not (forgotten meanwhile: the subscription links it), at the
# current price or with the price changed since they opened their checkout (a subscription at
# the former price is Campus's by that checkout).
STANDINGS = ("linked", "unlinked", "former_price", "unlinked_former_price")
NEW_PRICE = "price_new_membership"


def _completed(user_id: int, customer_id: str) -> dict:
    return {
        "id": new_id("cs"),
        "object": "checkout.session",
        "mode": "subscription",
        "client_reference_id": str(user_id),
        "customer": customer_id,
        "subscription": "sub_a",
        "status": "complete",
        "payment_status": "paid",
    }


def _join(user_id: int, customer_id: str, t: int, stripe: dict) -> list[dict]:
    """Checkout: the subscription made incomplete, its first invoice paid, then active."""
    incomplete = subscription("sub_a", customer_id, status="incomplete", user_id=user_id)
    stripe["sub_a"] = subscription("sub_a", customer_id, user_id=user_id)
    return [
        event("customer.subscription.created", incomplete, t),
        event("invoice.paid", invoice("sub_a", customer_id, paid=True), t + 1),
        event("customer.subscription.updated", stripe["sub_a"], t + 1),
        event("checkout.session.completed", _completed(user_id, customer_id), t + 2),
    ]


def _join_then_fail(user_id: int, customer_id: str, t: int, stripe: dict) -> list[dict]:
    """A member who joined, whose renewal failed a minute on (Stripe: past due)."""
    failed = invoice("sub_a", customer_id, paid=False)
    stripe["sub_a"] = subscription("sub_a", customer_id, status="past_due", user_id=user_id)
    stripe["sub_a"]["latest_invoice"] = failed["id"]
    return [
        event("customer.subscription.created", subscription("sub_a", customer_id), t),
        event("checkout.session.completed", _completed(user_id, customer_id), t + 1),
        event("invoice.paid", invoice("sub_a", customer_id, paid=True), t + 1),
        event("invoice.payment_failed", failed, t + 60),
        event("customer.subscription.updated", stripe["sub_a"], t + 60),
    ]


def _new_member(app, standing: str) -> tuple[int, str]:
    """A member who opened Campus's checkout with a new customer, standing as named."""
    with app.app_context():
        user_id = support.create_user().id
        customer_id = new_id("cus")
        if not standing.startswith("unlinked"):
            db.session.add(StripeCustomer(user_id=user_id, stripe_customer_id=customer_id))
        db.session.add(
            CheckoutSession(
                user_id=user_id,
                stripe_session_id=new_id("cs"),
                stripe_customer_id=customer_id,
                url="https://checkout.stripe.test/pay",
                status="open",
                expires_at=utcnow() + timedelta(hours=23),
            )
        )
        db.session.commit()
    if standing.endswith("former_price"):
        app.config["STRIPE_PRICE_ID"] = NEW_PRICE
    return user_id, customer_id


def _outcome(
    app, fake_stripe, scenario: Callable, order: tuple[int, ...], t: int, standing: str = "linked"
) -> tuple:
    """Deliver a new member's events in this order; return what the member ends up with."""
    fake_stripe.reset()
    app.config["STRIPE_PRICE_ID"] = PRICE_ID
    user_id, customer_id = _new_member(app, standing)
    events = scenario(user_id, customer_id, t, fake_stripe.subscriptions)
    client = app.test_client()
    for i in order:
        assert post_event(client, events[i]).status_code == 200
    with app.app_context():
        row = db.session.scalar(select(Subscription))
        assert set(db.session.scalars(select(WebhookEvent.status))) <= {"processed", "ignored"}
        keys = db.session.scalars(select(EmailMessage.dedupe_key)).all()
        since = row.past_due_since
        owner = db.session.scalar(
            select(StripeCustomer.user_id).where(StripeCustomer.stripe_customer_id == customer_id)
        )
        outcome = (
            row.status,
            has_paid_access(db.session.get(User, user_id)),
            int(since.timestamp()) if since else None,
            sum(key.startswith("billing:started:") for key in keys),
            owner == user_id,
        )
    app.config["STRIPE_PRICE_ID"] = PRICE_ID
    support.clean_database(app)
    return outcome


def _outcomes(
    app, fake_stripe, scenario: Callable, size: int, t: int, standing: str = "linked"
) -> dict[tuple, list]:
    found: dict[tuple, list] = {}
    for order in itertools.permutations(range(size)):
        # Then each again, in the same order: Stripe delivers an event more than once.
        outcome = _outcome(app, fake_stripe, scenario, order + order, t, standing)
        found.setdefault(outcome, []).append(order)
    return found


@pytest.mark.parametrize("standing", STANDINGS)
def test_every_order_of_a_joins_events_gives_one_welcome_and_access(
    stripe_app, fake_stripe, standing
):
    found = _outcomes(stripe_app, fake_stripe, _join, 4, int(time.time()) - 300, standing)
    assert list(found) == [("active", True, None, 1, True)], found


@pytest.mark.slow
def test_every_order_of_a_failed_renewals_events_gives_the_same_grace(stripe_app, fake_stripe):
    # The grace runs from the failure whichever event showed the subscription past due first.
    t = int(time.time()) - 300
    found = _outcomes(stripe_app, fake_stripe, _join_then_fail, 5, t)
    assert list(found) == [("past_due", True, t + 60, 1, True)], found

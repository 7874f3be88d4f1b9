"""A stored event that fails try after try is given up; one Stripe keeps failing is retried."""

from __future__ import annotations

import json
import time

import pytest
import time_machine
from sqlalchemy import select

from campus.billing import actions, claims, tasks
from campus.billing.models import StripeCustomer, WebhookEvent
from campus.extensions import db
from tests import support
from tests.admin import helpers
from tests.billing.fake_stripe import event, invoice, new_id, post_event, subscription


@pytest.fixture
def customer(stripe_app):
    """A user with a Stripe customer record: (user_id, customer_id)."""
    with stripe_app.app_context():
        user = support.create_user()
        customer_id = new_id("cus")
        db.session.add(StripeCustomer(user_id=user.id, stripe_customer_id=customer_id))
        db.session.commit()
        return user.id, customer_id


def _row(app, stripe_event_id: str) -> WebhookEvent:
    with app.app_context():
        row = db.session.scalar(
            select(WebhookEvent).where(WebhookEvent.stripe_event_id == stripe_event_id)
        )
        db.session.expunge(row)
        return row


def _odd_event(customer_id: str) -> dict:
    """A signed subscription update whose items are ids where Stripe sends objects."""
    sub = subscription(new_id("sub"), customer_id)
    sub["items"]["data"] = ["si_only_an_id"]
    return event("customer.subscription.updated", sub)


def _requeued_in_an_hour(app) -> int:
    with time_machine.travel(time.time() + 3600, tick=False), app.app_context():
        return tasks.reconcile.apply().get()["requeued"]


def test_an_event_of_an_odd_shape_is_given_up_after_its_tries_not_requeued_for_good(
    stripe_app, stripe_client, customer
):
    _user_id, customer_id = customer
    evt = _odd_event(customer_id)
    post_event(stripe_client, evt)  # its first try, inline
    row = _row(stripe_app, evt["id"])
    assert row.status == "failed" and "AttributeError" in row.last_error
    assert _requeued_in_an_hour(stripe_app) == 1  # one failure may pass: tried again (inline)
    # The tries before the last: the intake's, reconcile's requeue and the task's retries.
    for _ in range(claims.CLAIMED_TRIES - 3):
        tasks.process_webhook_event.apply(args=(row.id,))
    row = _row(stripe_app, evt["id"])
    assert row.status == "failed" and row.attempts == claims.CLAIMED_TRIES - 1
    assert "given up" not in row.last_error.lower()

    assert tasks.process_webhook_event.apply(args=(row.id,)).get() == "failed"  # its last try
    row = _row(stripe_app, evt["id"])
    assert row.status == "failed" and row.attempts == claims.CLAIMED_TRIES
    assert row.last_error.startswith(f"Given up after {claims.CLAIMED_TRIES} tries")
    assert "AttributeError" in row.last_error and "replay" in row.last_error
    given_up = row.last_error
    # The admin reads why on the event's page, beside its Replay.
    helpers.sign_in_admin(stripe_app, stripe_client)
    page = stripe_client.get(f"/admin/webhooks/details/?id={row.id}").get_data(as_text=True)
    assert "Given up after" in page and "Replay this event" in page

    # Neither the hourly reconcile nor a late copy of its task tries it again.
    assert _requeued_in_an_hour(stripe_app) == 0
    assert tasks.process_webhook_event.apply(args=(row.id,)).get() == "failed"
    row = _row(stripe_app, evt["id"])
    assert (row.attempts, row.last_error) == (claims.CLAIMED_TRIES, given_up)

    # The admin's replay tries it again, with every try anew.
    with stripe_app.app_context():
        actions.replay_event(db.session.get_one(WebhookEvent, row.id), actor=None)
        db.session.commit()
    row = _row(stripe_app, evt["id"])
    assert row.status == "failed" and row.attempts == claims.CLAIMED_TRIES + 1
    assert "given up" not in row.last_error.lower()
    assert _requeued_in_an_hour(stripe_app) == 1


def test_an_event_that_stripe_keeps_failing_is_retried_however_often(
    stripe_app, stripe_client, customer, fake_stripe
):
    _user_id, customer_id = customer
    fake_stripe.fail_paths.add("/v1/subscriptions/sub_down")
    evt = event("invoice.paid", invoice("sub_down", customer_id, paid=True))
    post_event(stripe_client, evt)
    row = _row(stripe_app, evt["id"])
    for _ in range(claims.CLAIMED_TRIES + 2):
        assert tasks.process_webhook_event.apply(args=(row.id,)).get() == "failed"
    row = _row(stripe_app, evt["id"])
    assert row.status == "failed" and "down" in row.last_error
    assert "Given up" not in row.last_error
    assert _requeued_in_an_hour(stripe_app) == 1


def test_a_drain_stops_retrying_an_event_once_it_is_given_up(stripe_app, customer, monkeypatch):
    _user_id, customer_id = customer
    evt = _odd_event(customer_id)
    with stripe_app.app_context():
        db.session.add(
            WebhookEvent(
                stripe_event_id=evt["id"],
                type=evt["type"],
                created=evt["created"],
                payload=json.dumps(evt),
            )
        )
        db.session.commit()
    monkeypatch.setattr(claims, "CLAIMED_TRIES", 1)  # the drain's try is its last
    sent = []
    monkeypatch.setattr(
        tasks.process_webhook_event, "apply_async", lambda **options: sent.append(options)
    )
    with stripe_app.app_context():
        assert tasks.drain_webhook_events.run() == 1  # as the worker runs it
    assert sent == []
    row = _row(stripe_app, evt["id"])
    assert row.status == "failed" and row.last_error.startswith("Given up after 1 tries")


def test_a_checkout_whose_subscription_stripe_does_not_know_is_given_up_after_its_tries(
    stripe_app, stripe_client, customer
):
    # Stripe answers 404 for it every time (made with other keys, or in the other mode).
    user_id, customer_id = customer
    session = {
        "id": new_id("cs"),
        "object": "checkout.session",
        "mode": "subscription",
        "client_reference_id": str(user_id),
        "customer": customer_id,
        "subscription": "sub_unknown",
        "status": "complete",
    }
    evt = event("checkout.session.completed", session)
    post_event(stripe_client, evt)
    row_id = _row(stripe_app, evt["id"]).id
    for _ in range(claims.CLAIMED_TRIES - 1):
        tasks.process_webhook_event.apply(args=(row_id,))
    row = _row(stripe_app, evt["id"])
    assert row.status == "failed" and row.last_error.startswith("Given up after")
    assert "sub_unknown not found at Stripe" in row.last_error
    assert _requeued_in_an_hour(stripe_app) == 0

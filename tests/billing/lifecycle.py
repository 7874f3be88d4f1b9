"""Subscription lifecycles driven through the simulator, and the checks of their outcome.

Shared by the property test (eager tasks) and the real-worker test.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select

from campus.accounts.models import User
from campus.billing.access import has_paid_access
from campus.billing.models import Subscription, WebhookEvent
from campus.extensions import db
from campus.mail.models import EmailMessage
from campus.models.base import utcnow
from tests import support
from tests.billing.fake_stripe import post_event

ACTIONS = ("renew", "fail", "recover", "cancel_end", "resume", "cancel_now", "resubscribe")


def _user(n: int) -> User:
    # A direct insert: hashing a password per user would dominate the test's time.
    user = User(
        email=f"member{n}@example.com",
        password_hash="not-a-real-hash",
        full_name=f"Member {n}",
        email_verified_at=utcnow(),
    )
    db.session.add(user)
    db.session.flush()
    return user


def _checkout(user: User) -> str:
    from campus.billing import services, simulator

    customer_id = services.ensure_customer(user)
    session = simulator.create_checkout_session(
        customer_id=customer_id, user=user, success_url="http://x/s", cancel_url="http://x/c"
    )
    return simulator.complete_checkout(session["id"])["subscription"]


def run_plans(app, plans: list[list[str]], tick: Callable[[], None] = lambda: None) -> None:
    """Create one member per plan, subscribe them and walk their subscription through it."""
    from campus.billing import simulator

    app.config["SIMULATED_STRIPE_AUTO_DELIVER"] = False  # the test delivers the events itself
    with app.test_request_context():
        for n, plan in enumerate(plans):
            user = _user(n)
            sub_id = _checkout(user)
            for action in plan:
                tick()
                sub = simulator.get_object(sub_id)
                if action == "resubscribe":
                    if sub["status"] == "canceled":
                        sub_id = _checkout(user)
                    continue
                if sub["status"] == "canceled":
                    continue
                change = {
                    "renew": simulator.renew,
                    "fail": simulator.fail_payment,
                    "recover": simulator.pay_open_invoice,
                    "cancel_end": simulator.cancel_at_period_end,
                    "resume": simulator.resume,
                    "cancel_now": simulator.cancel_now,
                }[action]
                change(sub_id)
        db.session.commit()


def stripe_events(app) -> list[dict]:
    """Every event the simulated Stripe emitted, in creation order."""
    from campus.billing import simulator

    with app.app_context():
        return simulator.objects("event")


def duplicated_and_shuffled(events: list[dict], rng: random.Random, dup_rate: float) -> list:
    """Stripe's delivery: some events more than once, in any order."""
    deliveries = list(events) + [e for e in events if rng.random() < dup_rate]
    rng.shuffle(deliveries)
    return deliveries


def deliver(client, deliveries: list[dict]) -> None:
    for evt in deliveries:
        response = post_event(client, evt)
        assert response.status_code == 200, response.get_data(as_text=True)


def all_processed(app, expected_events: int) -> bool:
    with app.app_context():
        statuses = db.session.scalars(select(WebhookEvent.status)).all()
        return len(statuses) == expected_events and set(statuses) <= {"processed", "ignored"}


def emails_settled(app) -> bool:
    with app.app_context():
        return all(
            status == "sent" for status in db.session.scalars(select(EmailMessage.status)).all()
        )


def check_outcome(app) -> None:
    """Every member's mirror and access match Stripe's final state; no email went out twice."""
    from campus.billing import simulator

    with app.app_context():
        stripe_subs = simulator.objects("subscription")
        for stripe_sub in stripe_subs:
            row = db.session.scalar(
                select(Subscription).where(Subscription.stripe_subscription_id == stripe_sub["id"])
            )
            assert row is not None, f"{stripe_sub['id']} was never mirrored"
            item = stripe_sub["items"]["data"][0]
            assert (row.status, row.cancel_at_period_end) == (
                stripe_sub["status"],
                stripe_sub["cancel_at_period_end"],
            ), stripe_sub["id"]
            assert int(row.current_period_end.timestamp()) == item["current_period_end"]
        grace = timedelta(days=app.config["PAST_DUE_GRACE_DAYS"])
        now = utcnow()
        for user in db.session.scalars(select(User)).all():
            customer = db.session.scalar(
                select(Subscription.stripe_customer_id).where(Subscription.user_id == user.id)
            )
            expected = False
            for s in simulator.objects("subscription", customer):
                end = s["items"]["data"][0]["current_period_end"]
                if s["status"] == "active" and (
                    not s["cancel_at_period_end"] or end > now.timestamp()
                ):
                    expected = True
                # Every failure in these runs is younger than the grace period.
                if s["status"] == "past_due" and s["created"] > (now - grace).timestamp():
                    expected = True
            assert has_paid_access(user) is expected, user.email

        events = simulator.objects("event")
        messages = db.session.scalars(select(EmailMessage)).all()
        kinds = Counter(m.dedupe_key.split(":")[1] for m in messages)
        keys = {m.dedupe_key for m in messages}
        # A welcome for each checkout, except one delivered after its subscription had ended;
        # so every subscription still active got one.
        checkouts = [e for e in events if e["type"] == "checkout.session.completed"]
        assert kinds.pop("started", 0) <= len(checkouts)
        for e in checkouts:
            sub_id = e["data"]["object"]["subscription"]
            sub_id = sub_id["id"] if isinstance(sub_id, dict) else sub_id
            if any(s["id"] == sub_id and s["status"] == "active" for s in stripe_subs):
                assert f"billing:started:{sub_id}" in keys, sub_id
        # An ended email for a subscription that ended, unless another still gave access then;
        # so a member whose every subscription ended was told at least once.
        canceled = [s for s in stripe_subs if s["status"] == "canceled"]
        assert kinds.pop("ended", 0) <= len(canceled)
        by_customer: dict[str, list[dict]] = {}
        for s in stripe_subs:
            by_customer.setdefault(s["customer"], []).append(s)
        for subs in by_customer.values():
            if all(s["status"] == "canceled" for s in subs):
                assert any(f"billing:ended:{s['id']}" in keys for s in subs), subs[0]["customer"]
        # Cancel and resume emails follow the mirror's transitions, a subsequence of Stripe's
        # when events arrive late or out of order: never more than Stripe made.
        scheduled = sum(
            e["type"] == "customer.subscription.updated"
            and e["data"]["object"]["cancel_at_period_end"]
            for e in events
        )
        assert kinds.pop("cancel_scheduled", 0) <= scheduled
        assert kinds.pop("resumed", 0) <= scheduled
        # A failure delivered after the subscription was paid again, or ended, asks for no card.
        failures = sum(e["type"] == "invoice.payment_failed" for e in events)
        assert kinds.pop("payment_failed", 0) <= failures
        assert not +kinds, kinds  # no other email
        # The same message to the same person about the same thing, never twice.
        identities = Counter((m.to, m.subject, m.dedupe_key) for m in messages)
        assert max(identities.values(), default=1) == 1
        assert all(m.status == "sent" for m in messages)
    files = support.outbox(app)
    assert len(files) == len(messages)


def event_summary(events: list[dict]) -> str:
    return json.dumps([(e["type"], e["created"]) for e in events])

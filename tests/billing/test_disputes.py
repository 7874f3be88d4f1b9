"""Refunds and disputes: recorded on the member's history; a lost dispute ends the membership."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from campus.accounts.models import User
from campus.audit import AuditEntry
from campus.billing.access import has_paid_access
from campus.billing.models import StripeCustomer, Subscription, WebhookEvent
from campus.extensions import db
from tests import support
from tests.billing.fake_stripe import event, new_id, post_event, subscription


@pytest.fixture
def member(stripe_app, fake_stripe) -> tuple[int, str, str]:
    """A paying member, their customer, and a charge of theirs at Stripe."""
    with stripe_app.app_context():
        user = support.create_user()
        customer_id = new_id("cus")
        db.session.add(StripeCustomer(user_id=user.id, stripe_customer_id=customer_id))
        db.session.add(
            Subscription(
                user_id=user.id,
                stripe_subscription_id="sub_a",
                stripe_customer_id=customer_id,
                status="active",
                current_period_end=datetime.fromtimestamp(int(time.time()) + 20 * 86400, UTC),
                source_timestamp=int(time.time()) - 3600,
            )
        )
        db.session.commit()
        user_id = user.id
    fake_stripe.subscriptions["sub_a"] = subscription("sub_a", customer_id, user_id=user_id)
    charge_id = new_id("ch")
    fake_stripe.charges[charge_id] = _charge(charge_id, customer_id)
    return user_id, customer_id, charge_id


def _charge(charge_id: str, customer_id: str, refunded: int = 0) -> dict:
    return {
        "id": charge_id,
        "object": "charge",
        "customer": customer_id,
        "amount": 1995,
        "amount_refunded": refunded,
        "refunded": refunded == 1995,
        "currency": "usd",
    }


def _dispute(charge_id: str, status: str) -> dict:
    return {
        "id": "dp_1",
        "object": "dispute",
        "charge": charge_id,
        "amount": 1995,
        "currency": "usd",
        "reason": "fraudulent",
        "status": status,
    }


def _actions(app, user_id: int) -> list[str]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.object_type == "User", AuditEntry.object_id == str(user_id))
                .order_by(AuditEntry.id)
            )
        )


def _access(app, user_id: int) -> bool:
    with app.app_context():
        return has_paid_access(db.session.get(User, user_id))


def test_a_lost_dispute_ends_the_membership_at_stripe(
    stripe_client, stripe_app, fake_stripe, member
):
    # The bank took the payment back: the member keeps no paid access, and is not billed again.
    user_id, _customer_id, charge_id = member
    post_event(
        stripe_client, event("charge.dispute.created", _dispute(charge_id, "needs_response"))
    )
    assert _access(stripe_app, user_id)  # a dispute may yet be won
    lost = event("charge.dispute.closed", _dispute(charge_id, "lost"))
    post_event(stripe_client, lost)
    post_event(stripe_client, lost)  # a duplicate delivery
    assert len(fake_stripe.calls("DELETE", "/v1/subscriptions/sub_a")) == 1
    assert not _access(stripe_app, user_id)
    with stripe_app.app_context():
        assert db.session.scalar(select(Subscription.status)) == "canceled"
        assert set(db.session.scalars(select(WebhookEvent.status))) == {"processed"}
    assert _actions(stripe_app, user_id) == ["payment_disputed", "payment_dispute_closed"]


def test_a_won_dispute_leaves_the_membership_on(stripe_client, stripe_app, fake_stripe, member):
    user_id, _customer_id, charge_id = member
    post_event(stripe_client, event("charge.dispute.closed", _dispute(charge_id, "won")))
    assert fake_stripe.calls("DELETE", "/v1/subscriptions/sub_a") == []
    assert _access(stripe_app, user_id)
    assert _actions(stripe_app, user_id) == ["payment_dispute_closed"]


def test_a_refund_is_recorded_on_the_members_history(
    stripe_client, stripe_app, fake_stripe, member
):
    # Refunding is an admin's own act at Stripe; ending the membership too is a second one there.
    user_id, customer_id, charge_id = member
    post_event(stripe_client, event("charge.refunded", _charge(charge_id, customer_id, 1995)))
    assert _actions(stripe_app, user_id) == ["payment_refunded"]
    with stripe_app.app_context():
        [entry] = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "payment_refunded")
        )
        assert "19.95 USD refunded in full" in entry.summary
    assert _access(stripe_app, user_id)


def test_a_dispute_of_a_charge_stripe_does_not_know_is_ignored(stripe_client, stripe_app, member):
    post_event(stripe_client, event("charge.dispute.closed", _dispute("ch_unknown", "lost")))
    with stripe_app.app_context():
        row = db.session.scalar(select(WebhookEvent))
        assert row.status == "ignored" and "ch_unknown" in row.reason


def test_a_dispute_is_stored_without_the_person_in_its_evidence(stripe_client, stripe_app, member):
    # A dispute names no customer, so deleting the account could never find it to take the
    # person out: its evidence (name, email, addresses, IP) is dropped when it is processed.
    _user_id, _customer_id, charge_id = member
    dispute = _dispute(charge_id, "needs_response")
    dispute["evidence"] = {
        "customer_name": "Dana Member",
        "customer_email_address": "dana@example.com",
        "billing_address": "1 Main St, Miami",
        "shipping_address": "1 Main St, Miami",
        "customer_purchase_ip": "203.0.113.9",
        "product_description": "Campus membership",
    }
    post_event(stripe_client, event("charge.dispute.created", dispute))
    with stripe_app.app_context():
        payload = db.session.scalar(select(WebhookEvent.payload))
    for value in ("Dana Member", "dana@example.com", "Main St", "203.0.113.9"):
        assert value not in payload
    assert "Campus membership" in payload and charge_id in payload


@pytest.mark.parametrize(
    "kind", ["charge.refunded", "charge.dispute.created", "charge.dispute.closed"]
)
def test_a_replayed_refund_or_dispute_is_on_the_members_history_once(
    stripe_client, stripe_app, fake_stripe, member, kind
):
    # The admin's Replay says processing again changes nothing: the history must agree.
    from campus.billing import actions

    user_id, customer_id, charge_id = member
    obj = (
        _charge(charge_id, customer_id, 1995)
        if kind == "charge.refunded"
        else _dispute(charge_id, "lost" if kind.endswith("closed") else "needs_response")
    )
    evt = event(kind, obj)
    post_event(stripe_client, evt)
    before = _actions(stripe_app, user_id)
    assert len(before) == 1
    with stripe_app.app_context():
        row = db.session.scalar(select(WebhookEvent))
        actions.replay_event(row, actor=None)
        db.session.commit()
        assert db.session.scalar(select(WebhookEvent.status)) == "processed"
    assert _actions(stripe_app, user_id) == before


def test_a_replayed_lost_dispute_leaves_the_membership_joined_since(
    stripe_client, stripe_app, fake_stripe, member
):
    # The lost dispute ended the membership of its time; the member's new one paid for itself.
    from campus.billing import actions

    user_id, customer_id, charge_id = member
    post_event(stripe_client, event("charge.dispute.closed", _dispute(charge_id, "lost")))
    assert not _access(stripe_app, user_id)
    joined = subscription("sub_b", customer_id, user_id=user_id)
    fake_stripe.subscriptions["sub_b"] = joined
    post_event(stripe_client, event("customer.subscription.created", joined))
    assert _access(stripe_app, user_id)
    with stripe_app.app_context():
        row = db.session.scalar(
            select(WebhookEvent).where(WebhookEvent.type == "charge.dispute.closed")
        )
        actions.replay_event(row, actor=None)
        db.session.commit()
    assert fake_stripe.calls("DELETE", "/v1/subscriptions/sub_b") == []
    assert _access(stripe_app, user_id)
    assert _actions(stripe_app, user_id) == ["payment_dispute_closed"]


def test_a_cancellation_stripe_refuses_spends_the_lost_disputes_try(
    stripe_client, stripe_app, fake_stripe, member
):
    # Stripe answers a refused cancellation the same every time: it is no outage to wait out.
    from campus.billing.stripe_api import RequestRefused, gateway

    _user_id, _customer_id, charge_id = member
    fake_stripe.refuse["/v1/subscriptions/sub_a"] = (
        400,
        {"error": {"type": "invalid_request_error", "message": "This subscription is locked."}},
    )
    with stripe_app.app_context(), pytest.raises(RequestRefused):
        gateway().cancel_subscription("sub_a")
    post_event(stripe_client, event("charge.dispute.closed", _dispute(charge_id, "lost")))
    with stripe_app.app_context():
        row = db.session.scalar(select(WebhookEvent))
        assert row.status == "failed" and "locked" in row.last_error
        assert row.cut_off_tries == 1  # spent: after its tries it is given up, not retried


def test_a_lost_dispute_retried_after_the_member_joined_again_leaves_the_new_membership(
    stripe_client, stripe_app, fake_stripe, member
):
    # Stripe cancelled the disputed subscription but went away before answering what it became:
    # the try failed, its deletion ended access, and the member joined again before the retry.
    from campus.billing import tasks

    user_id, customer_id, charge_id = member
    fake_stripe.subscriptions["sub_a"]["created"] = int(time.time()) - 40 * 86400
    path = "/v1/subscriptions/sub_a"

    def gone_after_the_cancellation() -> None:
        if fake_stripe.requests[-1]["method"] == "DELETE":
            fake_stripe.fail_paths.add(path)
        else:
            fake_stripe.after[path] = gone_after_the_cancellation

    fake_stripe.after[path] = gone_after_the_cancellation
    closed = event("charge.dispute.closed", _dispute(charge_id, "lost"), int(time.time()) - 600)
    post_event(stripe_client, closed)
    with stripe_app.app_context():
        assert db.session.scalar(select(WebhookEvent.status)) == "failed"
    fake_stripe.fail_paths.discard(path)
    post_event(
        stripe_client, event("customer.subscription.deleted", fake_stripe.subscriptions["sub_a"])
    )
    assert not _access(stripe_app, user_id)
    joined = subscription("sub_b", customer_id, user_id=user_id)
    fake_stripe.subscriptions["sub_b"] = joined
    post_event(stripe_client, event("customer.subscription.created", joined))
    assert _access(stripe_app, user_id)
    with stripe_app.app_context():
        row_id = db.session.scalar(
            select(WebhookEvent.id).where(WebhookEvent.type == "charge.dispute.closed")
        )
        assert tasks._process(row_id)[0] == "processed"
    assert fake_stripe.calls("DELETE", "/v1/subscriptions/sub_b") == []
    assert _access(stripe_app, user_id)


@pytest.mark.skipif(not support.is_postgres(), reason="needs PostgreSQL's concurrent writers")
def test_two_workers_on_one_lost_dispute_end_and_note_it_once(stripe_app, fake_stripe, member):
    # A drain and the event's own task (or a replay) can take one event at the same moment: the
    # second waits on the first's lock on the event and finds it processed.
    import json
    import threading

    from campus.billing import tasks

    user_id, _customer_id, charge_id = member
    fake_stripe.subscriptions["sub_a"]["created"] = int(time.time()) - 40 * 86400
    closed = event("charge.dispute.closed", _dispute(charge_id, "lost"))
    with stripe_app.app_context():
        row = WebhookEvent(
            stripe_event_id=closed["id"],
            type=closed["type"],
            created=closed["created"],
            payload=json.dumps(closed),
            status="received",
        )
        db.session.add(row)
        db.session.commit()
        row_id = row.id
    stall = fake_stripe.stalls["/v1/subscriptions/sub_a"] = threading.Event()
    outcomes: list[str | None] = []

    def work() -> None:
        with stripe_app.app_context():
            outcomes.append(tasks._process(row_id)[0])

    workers = [threading.Thread(target=work) for _ in range(2)]
    for worker in workers:
        worker.start()
    time.sleep(1)  # the first waits on Stripe holding the event; the second waits on it
    stall.set()
    for worker in workers:
        worker.join(30)
    assert outcomes == ["processed", "processed"]
    assert len(fake_stripe.calls("DELETE", "/v1/subscriptions/sub_a")) == 1
    assert _actions(stripe_app, user_id) == ["payment_dispute_closed"]
    assert not _access(stripe_app, user_id)

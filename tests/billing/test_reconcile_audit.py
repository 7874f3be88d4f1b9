"""A repair by the reconciliation (`billing sync`, the hourly task) leaves its audit entry."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from campus.audit import AuditEntry
from campus.billing.models import StripeCustomer, Subscription
from campus.extensions import db
from tests import support
from tests.billing.fake_stripe import new_id, subscription


@pytest.fixture
def member(stripe_app) -> tuple[int, str]:
    """A member with a Stripe customer and an active subscription in the mirror."""
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
        return user.id, customer_id


def _entries(app, user_id: int) -> list[AuditEntry]:
    with app.app_context():
        rows = db.session.scalars(
            select(AuditEntry).where(
                AuditEntry.object_type == "User", AuditEntry.object_id == str(user_id)
            )
        ).all()
        db.session.expunge_all()
        return list(rows)


def test_sync_that_ends_a_membership_is_in_the_members_audit_log(stripe_app, member, fake_stripe):
    user_id, customer_id = member
    # Stripe cancelled it; the event never reached us.
    fake_stripe.subscriptions["sub_a"] = subscription("sub_a", customer_id, status="canceled")
    result = stripe_app.test_cli_runner().invoke(args=["billing", "sync"])
    assert result.exit_code == 0, result.output
    [entry] = [e for e in _entries(stripe_app, user_id) if e.action == "subscription_synced"]
    assert entry.actor_id is None and entry.actor_email == "system"
    assert entry.before["status"] == "active" and entry.after["status"] == "canceled"
    assert entry.before["stripe_subscription_id"] == "sub_a"
    assert "sub_a" in entry.summary and "active -> canceled" in entry.summary


def test_sync_that_starts_a_missed_membership_is_logged_with_no_before(stripe_app, fake_stripe):
    with stripe_app.app_context():
        user = support.create_user()
        db.session.add(StripeCustomer(user_id=user.id, stripe_customer_id="cus_new"))
        db.session.commit()
        user_id = user.id
    fake_stripe.subscriptions["sub_b"] = subscription("sub_b", "cus_new", user_id=user_id)
    result = stripe_app.test_cli_runner().invoke(args=["billing", "sync"])
    assert result.exit_code == 0, result.output
    [entry] = [e for e in _entries(stripe_app, user_id) if e.action == "subscription_synced"]
    assert entry.before is None and entry.after["status"] == "active"


def test_sync_that_finds_nothing_to_repair_logs_nothing(stripe_app, member, fake_stripe):
    user_id, customer_id = member
    with stripe_app.app_context():
        row = db.session.scalar(select(Subscription))
        assert row is not None
        period_end = int(row.current_period_end.timestamp())
    fake_stripe.subscriptions["sub_a"] = subscription(
        "sub_a", customer_id, status="active", period_end=period_end
    )
    result = stripe_app.test_cli_runner().invoke(args=["billing", "sync"])
    assert result.exit_code == 0, result.output
    assert "0 repaired" in result.output
    assert not [e for e in _entries(stripe_app, user_id) if e.action == "subscription_synced"]


def test_sync_does_not_undo_a_newer_state_an_event_stored_while_it_waited(
    stripe_app, member, fake_stripe, monkeypatch
):
    from sqlalchemy import update

    from campus.billing import syncing

    user_id, customer_id = member
    # Stripe listed the subscription past due; the payment that followed went through and its
    # event was processed while the sync came to this subscription (after it read the mirror).
    fake_stripe.subscriptions["sub_a"] = subscription("sub_a", customer_id, status="past_due")
    paid_at = int(time.time()) + 60
    real_lock = syncing.lock_subscription

    def event_lands_first(sub_id: str):
        with db.engine.begin() as connection:
            connection.execute(
                update(Subscription)
                .where(Subscription.stripe_subscription_id == sub_id)
                .values(status="active", source_timestamp=paid_at)
            )
        monkeypatch.setattr(syncing, "lock_subscription", real_lock)
        return real_lock(sub_id)

    monkeypatch.setattr(syncing, "lock_subscription", event_lands_first)
    result = stripe_app.test_cli_runner().invoke(args=["billing", "sync"])
    assert result.exit_code == 0, result.output
    with stripe_app.app_context():
        row = db.session.scalar(select(Subscription))
        assert row is not None
        assert (row.status, row.source_timestamp) == ("active", paid_at)
    assert not [e for e in _entries(stripe_app, user_id) if e.action == "subscription_synced"]

"""Billing's actions audit themselves: the admin and the CLI share one write path per change."""

from __future__ import annotations

from sqlalchemy import select

from campus.audit import AuditEntry
from campus.billing import actions
from campus.billing.models import CompMembership
from campus.extensions import db
from tests import support
from tests.billing.fake_stripe import event, post_event


def _entries(app, action: str) -> list[AuditEntry]:
    with app.app_context():
        rows = db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)).all()
        db.session.expunge_all()
        return list(rows)


def _cli(app, *args: str):
    return app.test_cli_runner().invoke(args=list(args))


def test_comp_grant_from_the_cli_is_audited_as_an_operator_action(app):
    with app.app_context():
        user = support.create_user()
        user_id, email = user.id, user.email
    result = _cli(app, "billing", "comp", "grant", email, "--days", "30", "--reason", "speaker")
    assert result.exit_code == 0, result.output
    [entry] = _entries(app, "comp_grant")
    assert (entry.object_type, entry.object_id) == ("User", str(user_id))
    assert entry.actor_id is None and entry.actor_email == "system"
    assert entry.summary == f"cli: {email}: comp for 30 days (speaker)"
    assert entry.after["reason"] == "speaker"


def test_comp_end_from_the_cli_is_audited_and_ending_nothing_is_refused(app):
    with app.app_context():
        user = support.create_user()
        email = user.email
    refused = _cli(app, "billing", "comp", "end", email)
    assert refused.exit_code == 1 and "has no comp membership in force" in refused.output
    assert _entries(app, "comp_end") == []
    _cli(app, "billing", "comp", "grant", email, "--days", "5", "--reason", "gift")
    result = _cli(app, "billing", "comp", "end", email)
    assert "Ended 1 comp membership" in result.output
    [entry] = _entries(app, "comp_end")
    assert entry.summary.startswith("cli: ") and entry.actor_id is None
    assert entry.after["comps"][0]["revoked_at"] is not None


def test_bad_comp_grant_changes_nothing_and_logs_nothing(app):
    import pytest

    from campus.billing.services import BillingError

    with app.app_context():
        user = support.create_user()
        # A reason of zero-width characters alone reads as none on the member's page and log.
        for days, reason in (
            (0, "x"),
            (3661, "x"),
            (10, "  "),
            (10, "\u200b"),
            (10, "\u200d\u0301"),
        ):
            with pytest.raises(BillingError):
                actions.grant_comp(user, days=days, reason=reason, actor=None)
        db.session.commit()
        assert db.session.scalar(select(CompMembership)) is None
        assert db.session.scalar(select(AuditEntry)) is None


def test_the_same_comp_granted_again_at_once_is_granted_once(app):
    import pytest

    from campus.billing.services import BillingError

    with app.app_context():
        user = support.create_user()
        admin = support.create_user(role="admin")
        actions.grant_comp(user, days=30, reason="Speaker", actor=admin)
        db.session.commit()
        with pytest.raises(BillingError, match="a moment ago; it was not granted twice"):
            actions.grant_comp(user, days=30, reason="Speaker", actor=admin)
        db.session.rollback()
        # Another grant (other days, or another reason) is one the admin meant to make.
        actions.grant_comp(user, days=60, reason="Speaker", actor=admin)
        actions.grant_comp(user, days=30, reason="Scholarship", actor=admin)
        db.session.commit()
        assert len(db.session.scalars(select(CompMembership)).all()) == 3
    assert len(_entries(app, "comp_grant")) == 3


def test_replay_from_the_cli_is_audited(stripe_client, stripe_app):
    evt = event("ping", {"id": "x", "object": "thing"})
    post_event(stripe_client, evt)
    result = _cli(stripe_app, "billing", "replay", evt["id"])
    assert result.exit_code == 0, result.output
    [entry] = _entries(stripe_app, "replay")
    assert entry.object_type == "WebhookEvent"
    assert entry.summary == f"cli: {evt['id']} (ping) replayed"
    assert "payload" not in entry.before


def test_the_same_comp_granted_twice_at_once_is_granted_once(app, monkeypatch):
    # Two admins' clicks (or a double submit) at the same moment, on every database.
    import contextlib
    import threading
    from datetime import UTC, datetime

    from campus.billing.services import BillingError
    from campus.mail.models import EmailMessage

    with app.app_context():
        user_id = support.create_user().id
    arrived = threading.Barrier(2, timeout=2)

    def now_after_both_arrive() -> datetime:
        # Both grants get here before either writes, unless the first holds the member's lock.
        with contextlib.suppress(threading.BrokenBarrierError):
            arrived.wait()
        return datetime.now(UTC)

    monkeypatch.setattr(actions, "utcnow", now_after_both_arrive)
    outcomes: list[str] = []

    def grant() -> None:
        from campus.accounts.models import User

        with app.app_context():
            try:
                user = db.session.get_one(User, user_id)
                actions.grant_comp(user, days=30, reason="speaker", actor=None)
                db.session.commit()
                outcomes.append("granted")
            except BillingError:
                db.session.rollback()
                outcomes.append("refused")

    threads = [threading.Thread(target=grant) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes) == ["granted", "refused"]
    with app.app_context():
        assert len(db.session.scalars(select(CompMembership)).all()) == 1
        assert len(db.session.scalars(select(EmailMessage)).all()) == 1
    assert len(_entries(app, "comp_grant")) == 1

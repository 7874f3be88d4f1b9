"""seed-demo creates its accounts through the same actions as every other path, logged."""

from __future__ import annotations

from sqlalchemy import select

from campus.extensions import db

DEMO_ACCOUNTS = {
    "admin@campus.example": "admin",
    "student@campus.example": "student",
    "assessor@campus.example": "assessor",
    "member@campus.example": "student",
}


def _entries(action: str | None = None):
    from campus.audit import AuditEntry

    query = select(AuditEntry).order_by(AuditEntry.id)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    return db.session.scalars(query).all()


def test_seed_demo_logs_every_account_and_license_it_creates(app):
    from campus.accounts.services import get_user_by_email

    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        created = {
            (e.object_type, e.object_id): e
            for e in _entries()
            if e.action in ("create_admin", "member_created")
        }
        for email, role in DEMO_ACCOUNTS.items():
            user = get_user_by_email(email)
            assert user is not None and user.role == role
            entry = created[("User", str(user.id))]
            assert entry.actor_id is None and entry.summary.startswith("cli:")
            assert email in entry.summary
            if entry.action == "member_created":
                assert entry.after["email"] == email and entry.after["role"] == role
        [license] = _entries("license_added")
        assert license.after and license.after["number"] == "MA98765"
        logged = len(_entries())
    # Run again: nothing is missing, so nothing is created, and nothing more is logged of it.
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        again = [e for e in _entries()[logged:] if e.action in ("create_admin", "member_created")]
        assert again == []

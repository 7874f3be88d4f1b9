"""flask set-role: the operator appoints and retires assessors, and retires admins."""

from sqlalchemy import select

from campus.accounts.models import User
from campus.audit import AuditEntry
from campus.extensions import db
from tests.support import body_of, create_user, login, outbox


def _run(app, *args: str):
    return app.test_cli_runner().invoke(args=["set-role", *args])


def _role(app, email: str) -> str:
    with app.app_context():
        return db.session.scalar(select(User.role).where(User.email == email))


def _changes(app) -> list[tuple[int | None, str, dict, dict]]:
    with app.app_context():
        return [
            (e.actor_id, e.summary, e.before, e.after)
            for e in db.session.scalars(
                select(AuditEntry)
                .where(AuditEntry.action == "role_changed")
                .order_by(AuditEntry.id)
            )
        ]


def test_makes_an_assessor_and_takes_the_role_back(app, client):
    with app.app_context():
        create_user(email="reviewer@example.com")
    login(client, "reviewer@example.com")
    result = _run(app, "Reviewer@Example.com", "assessor")
    assert result.exit_code == 0, result.output
    assert "reviewer@example.com is now an assessor" in result.output
    assert _role(app, "reviewer@example.com") == "assessor"
    assert client.get("/account").status_code == 302  # signed out everywhere
    result = _run(app, "reviewer@example.com", "student")
    assert result.exit_code == 0, result.output
    assert _role(app, "reviewer@example.com") == "student"
    changes = _changes(app)
    assert [(actor, before["role"], after["role"]) for actor, _, before, after in changes] == [
        (None, "student", "assessor"),
        (None, "assessor", "student"),
    ]
    assert all(summary.startswith("cli: ") for _, summary, _, _ in changes)
    subjects = [str(m["Subject"]) for m in outbox(app)]
    assert "You are now an assessor on Campus" in subjects
    assert "Your Campus account is a member's account again" in subjects
    # The staff made the change, not the member: "if it was you" would make no sense.
    told = next(m for m in outbox(app) if "assessor" in str(m["Subject"]))
    body = body_of(told)
    assert "If it was you" not in body and "reply to this email" in body


def test_retires_an_admin_but_never_the_last_one(app):
    with app.app_context():
        create_user(email="first@example.com", role="admin")
        create_user(email="second@example.com", role="admin")
    result = _run(app, "second@example.com", "student")
    assert result.exit_code == 0, result.output
    assert _role(app, "second@example.com") == "student"
    result = _run(app, "first@example.com", "student")
    assert result.exit_code != 0
    assert "last active admin" in result.output
    assert _role(app, "first@example.com") == "admin"
    assert len(_changes(app)) == 1


def test_a_disabled_admin_does_not_count_as_another(app):
    from campus.models.base import utcnow

    with app.app_context():
        create_user(email="first@example.com", role="admin")
        create_user(email="gone@example.com", role="admin", disabled_at=utcnow())
    result = _run(app, "first@example.com", "assessor")
    assert result.exit_code != 0 and "last active admin" in result.output
    assert _role(app, "first@example.com") == "admin"


def test_refuses_bad_input_and_changes_nothing(app):
    with app.app_context():
        create_user(email="squatter@example.com", verified=False)
        create_user(email="reviewer@example.com")
    for args, hint in (
        (("nobody@example.com", "assessor"), "No account"),
        (("not an address", "assessor"), "EMAIL"),
        (("reviewer@example.com", "admin"), "create-admin"),
        (("reviewer@example.com", "root"), "ROLE"),
        (("squatter@example.com", "assessor"), "never confirmed"),
    ):
        result = _run(app, *args)
        assert result.exit_code == 2, (args, result.output)
        assert hint in result.output, (args, result.output)
    assert _role(app, "squatter@example.com") == _role(app, "reviewer@example.com") == "student"
    assert _changes(app) == []


def test_a_role_already_held_is_said_and_changes_nothing(app):
    with app.app_context():
        create_user(email="reviewer@example.com")
    result = _run(app, "reviewer@example.com", "student")
    assert result.exit_code == 0, result.output
    assert "already a student" in result.output and "nothing changed" in result.output
    assert _changes(app) == []


def test_two_admins_retired_at_once_leave_one(app, monkeypatch):
    from campus.accounts import roles
    from campus.accounts.services import get_user_by_email
    from tests import support

    with app.app_context():
        create_user(email="first@example.com", role="admin")
        create_user(email="second@example.com", role="admin")
    refused: list[str] = []

    def retire(email: str) -> None:
        with app.app_context():
            try:
                roles.set_role(get_user_by_email(email), "student", actor=None)
                db.session.commit()
            except roles.RoleError as exc:
                db.session.rollback()
                refused.append(str(exc))

    # Both are held just before the change is logged: each has counted the other as an admin.
    support.hold_in_pairs(monkeypatch, roles, "record")
    support.run_together(
        [lambda: retire("first@example.com"), lambda: retire("second@example.com")]
    )
    assert len(refused) == 1 and "last active admin" in refused[0]
    assert sorted([_role(app, "first@example.com"), _role(app, "second@example.com")]) == [
        "admin",
        "student",
    ]


def test_the_tokens_revoked_by_the_command_are_logged_as_the_command(app, client):
    """An assessor's tokens go; the operator's command names no one and says so."""
    from tests.admin import helpers as admin
    from tests.api.helpers import make_token

    with app.app_context():
        member_id = create_user(email="reviewer@example.com").id
        make_token(member_id, "write")
        other_id = create_user(email="second@example.com").id
        make_token(other_id, "write")
    assert _run(app, "reviewer@example.com", "assessor").exit_code == 0
    # The same change from an admin on the member's page names the admin.
    admin_id = admin.sign_in_admin(app, client)
    admin.post(client, f"/admin/members/{other_id}/role", {"role": "assessor"})
    with app.app_context():
        entries = db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action.in_(["api_tokens_revoked", "role_changed"]))
            .order_by(AuditEntry.id)
        ).all()
        logged = [(e.action, e.object_id, e.actor_id, e.summary[:5]) for e in entries]
    assert logged == [
        ("api_tokens_revoked", str(member_id), None, "cli: "),
        ("role_changed", str(member_id), None, "cli: "),
        ("api_tokens_revoked", str(other_id), admin_id, "secon"),
        ("role_changed", str(other_id), admin_id, "secon"),
    ]

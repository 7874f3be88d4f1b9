"""flask create-admin: new admins, and promotions that cannot inherit a stranger's password."""

from sqlalchemy import select

from campus.accounts.models import User, UserToken
from campus.audit import AuditEntry
from campus.extensions import db
from tests.support import DEFAULT_PASSWORD, create_user, login, post_form

NEW_PASSWORD = "lantern orchard velvet"


def _run(app, *args: str, input: str | None = None):
    return app.test_cli_runner().invoke(args=["create-admin", *args], input=input)


def _user(app, email: str) -> User:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        db.session.expunge(user)
        return user


def _audit(app) -> list[tuple[str, str | None, str]]:
    with app.app_context():
        return [(e.action, e.actor_id, e.summary) for e in db.session.scalars(select(AuditEntry))]


def test_creates_a_verified_admin_and_logs_it(app):
    result = _run(app, "Boss@Example.com", "--password", NEW_PASSWORD, "--name", "Ada Admin")
    assert result.exit_code == 0, result.output
    user = _user(app, "boss@example.com")
    assert user.role == "admin" and user.is_verified and user.full_name == "Ada Admin"
    ((action, actor, summary),) = _audit(app)
    assert action == "create_admin" and actor is None and summary.startswith("cli: ")


def test_asks_for_the_password_when_it_is_not_given(app):
    result = _run(app, "boss@example.com", input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n")
    assert result.exit_code == 0, result.output
    client = app.test_client()
    login(client, "boss@example.com", NEW_PASSWORD)


def test_refuses_to_promote_an_unverified_account(app):
    with app.app_context():
        create_user(email="squatter@example.com", verified=False)
    result = _run(app, "squatter@example.com", "--password", NEW_PASSWORD)
    assert result.exit_code != 0
    assert "never confirmed" in result.output and "--allow-unverified" in result.output
    assert _user(app, "squatter@example.com").role == "student"
    assert _audit(app) == []


def test_promotion_sets_the_new_password_ends_sessions_and_spends_reset_links(app, client):
    with app.app_context():
        create_user(email="kim@example.com", verified=False)
    login(client, "kim@example.com")
    post_form(app.test_client(), "/password/reset", {"email": "kim@example.com"})
    result = _run(app, "kim@example.com", "--password", NEW_PASSWORD, "--allow-unverified")
    assert result.exit_code == 0, result.output
    user = _user(app, "kim@example.com")
    assert user.role == "admin"
    # The registrant's password and session, and any reset link they asked for, are all dead.
    assert client.get("/api/v1/me").status_code == 401
    wrong = post_form(
        app.test_client(), "/login", {"email": "kim@example.com", "password": DEFAULT_PASSWORD}
    )
    assert wrong.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(UserToken.used_at)) is not None
    ((action, actor, summary),) = [row for row in _audit(app) if row[2].startswith("cli:")]
    assert action == "promote_admin" and actor is None and summary.startswith("cli: promoted")
    login(app.test_client(), "kim@example.com", NEW_PASSWORD)


def test_refuses_a_weak_password_and_changes_nothing(app):
    with app.app_context():
        create_user(email="kim@example.com")
    result = _run(app, "kim@example.com", "--password", "password1234")
    assert result.exit_code != 0
    assert "too easy to guess" in result.output
    assert _user(app, "kim@example.com").role == "student"
    assert _run(app, "new@example.com", "--password", "admin12345").exit_code != 0
    assert _audit(app) == []


def test_refuses_a_name_with_a_direction_override(app):
    result = _run(app, "boss@example.com", "--password", NEW_PASSWORD, "--name", "Ada \u202e")
    assert result.exit_code != 0
    assert "text-direction" in result.output


def test_refuses_a_name_that_composes_past_the_column(app):
    # U+FB2C composes (NFC) into three characters: 100 typed are 300 stored.
    result = _run(app, "boss@example.com", "--password", NEW_PASSWORD, "--name", "\ufb2c" * 100)
    assert result.exit_code != 0
    assert "at most 120 characters" in result.output
    with app.app_context():
        assert db.session.scalar(select(User)) is None
    assert _audit(app) == []


def test_promotion_revokes_the_api_tokens_the_registrant_made(app, client):
    """A token made before the promotion would otherwise carry admin's reach to its maker."""
    from tests.api.helpers import bearer, make_token

    with app.app_context():
        user_id = create_user(email="kim@example.com", verified=False).id
        raw = make_token(user_id, "write")
    assert client.get("/api/v1/me", headers=bearer(raw)).status_code == 200
    result = _run(app, "kim@example.com", "--password", NEW_PASSWORD, "--allow-unverified")
    assert result.exit_code == 0, result.output
    assert client.get("/api/v1/me", headers=bearer(raw)).status_code == 401
    # Revoked by the operator's command: no one named, and the summary says so.
    revoked = [
        (actor, text[:5]) for action, actor, text in _audit(app) if action == "api_tokens_revoked"
    ]
    assert revoked == [(None, "cli: ")]

import re
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from campus.accounts.models import UserSession, UserToken
from campus.extensions import db
from tests.support import DEFAULT_PASSWORD, create_user, link_in, login, outbox, post_form


@pytest.fixture
def user(app):
    with app.app_context():
        return create_user(email="kim@example.com").id


def _reset_link(app, client) -> str:
    r = post_form(client, "/password/reset", {"email": "kim@example.com"})
    assert r.status_code == 200
    return link_in(outbox(app)[-1])


def _neutral(response, *emails: str) -> str:
    """The page without the emails it echoes and the per-session CSRF token."""
    html = response.get_data(as_text=True)
    for address in emails:
        html = html.replace(address, "X")
    return re.sub(r'content="[^"]+"|value="[^"]+"', "", html)


def test_reset_request_answers_the_same_whether_or_not_the_email_exists(app, client, user):
    known = post_form(client, "/password/reset", {"email": "kim@example.com"})
    unknown = post_form(client, "/password/reset", {"email": "ghost@example.com"})
    assert known.status_code == unknown.status_code == 200
    assert _neutral(known, "kim@example.com") == _neutral(unknown, "ghost@example.com")
    assert len(outbox(app)) == 1


def test_a_reset_the_broker_cannot_take_says_so_instead_of_promising_an_email(
    app, client, user, monkeypatch
):
    from kombu.exceptions import OperationalError

    from campus import jobs

    def unreachable(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(jobs, "send_task", unreachable)
    response = post_form(client, "/password/reset", {"email": "kim@example.com"})
    assert response.status_code == 503
    assert "could not send the email just now" in response.text
    assert "Check your email" not in response.text and outbox(app) == []


def test_reset_link_sets_a_new_password_and_works_once(app, client, user):
    link = _reset_link(app, client)
    r = post_form(client, link, {"password": "a brand new secret", "confirm": "a brand new secret"})
    assert r.status_code == 302
    assert client.get("/api/v1/me").status_code == 200
    other = app.test_client()
    login(other, "kim@example.com", "a brand new secret")
    reused = post_form(
        other, link, {"password": "yet another secret", "confirm": "yet another secret"}
    )
    assert reused.status_code == 400
    assert "already been used" in reused.get_data(as_text=True)
    post_form(other, "/logout")
    login(other, "kim@example.com", "a brand new secret")


def test_expired_reset_link_is_refused_and_changes_nothing(app, client, user):
    link = _reset_link(app, client)
    with time_machine.travel(timedelta(hours=2), tick=False):
        r = post_form(
            client, link, {"password": "a brand new secret", "confirm": "a brand new secret"}
        )
    assert r.status_code == 400
    assert "expired" in r.get_data(as_text=True)
    login(client, "kim@example.com", DEFAULT_PASSWORD)


def test_reset_with_a_made_up_token_is_refused(client, user):
    r = client.get("/password/reset/not-a-real-token")
    assert r.status_code == 400
    assert "not valid" in r.get_data(as_text=True)


def test_reset_with_mismatched_passwords_keeps_the_token(app, client, user):
    link = _reset_link(app, client)
    r = post_form(client, link, {"password": "a brand new secret", "confirm": "something else!"})
    assert r.status_code == 422
    assert "The two passwords differ" in r.get_data(as_text=True)
    with app.app_context():
        assert (
            db.session.scalar(
                select(UserToken.used_at).where(UserToken.purpose == "reset_password")
            )
            is None
        )


def test_tokens_are_stored_only_as_hashes(app, client, user):
    link = _reset_link(app, client)
    raw = link.rsplit("/", 1)[-1]
    with app.app_context():
        stored = db.session.scalar(select(UserToken.token_hash))
    assert raw not in stored


def test_reset_ends_every_other_session(app, client, user):
    other = app.test_client()
    login(other, "kim@example.com", remember="y")
    assert other.get("/api/v1/me").status_code == 200
    link = _reset_link(app, client)
    post_form(client, link, {"password": "a brand new secret", "confirm": "a brand new secret"})
    assert other.get("/api/v1/me").status_code == 401


def test_password_change_ends_other_sessions_but_keeps_this_one(app, client, user):
    other = app.test_client()
    login(other, "kim@example.com", remember="y")
    remembered = other.get_cookie("remember_token").value
    login(client, "kim@example.com")
    r = post_form(
        client,
        "/account/password",
        {
            "current_password": DEFAULT_PASSWORD,
            "password": "a brand new secret",
            "confirm": "a brand new secret",
        },
    )
    assert r.status_code == 302
    assert client.get("/api/v1/me").status_code == 200
    assert other.get("/api/v1/me").status_code == 401
    revived = app.test_client()
    revived.set_cookie("remember_token", remembered)
    assert revived.get("/api/v1/me").status_code == 401


def test_a_copy_of_this_devices_cookies_stops_working_after_a_password_change(app, client, user):
    # Someone who copied the cookies of the member's own browser is the reason to change it.
    login(client, "kim@example.com", remember="y")
    copied = {name: client.get_cookie(name).value for name in ("session", "remember_token")}
    r = post_form(
        client,
        "/account/password",
        {
            "current_password": DEFAULT_PASSWORD,
            "password": "a brand new secret",
            "confirm": "a brand new secret",
        },
    )
    assert r.status_code == 302
    assert client.get("/api/v1/me").status_code == 200  # this browser goes on
    for name, value in copied.items():
        stolen = app.test_client()
        stolen.set_cookie(name, value)
        assert stolen.get("/api/v1/me").status_code == 401, name
    with app.app_context():
        (live,) = db.session.scalars(select(UserSession).where(UserSession.revoked_at.is_(None)))
        assert live.remembered


def test_password_change_needs_the_current_password(app, client, user):
    login(client, "kim@example.com")
    r = post_form(
        client,
        "/account/password",
        {
            "current_password": "not my password",
            "password": "a brand new secret",
            "confirm": "a brand new secret",
        },
    )
    assert r.status_code == 422
    assert "current password is not correct" in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(UserSession.revoked_at)) is None


def test_reset_request_is_rate_limited(client, user):
    codes = [
        post_form(client, "/password/reset", {"email": "kim@example.com"}).status_code
        for _ in range(6)
    ]
    assert codes == [200] * 5 + [429]


def _change(client, new: str, current: str = DEFAULT_PASSWORD):
    form = {"current_password": current, "password": new, "confirm": new}
    return post_form(client, "/account/password", form)


def test_password_change_refuses_a_guessable_password_and_says_why(app, client, user):
    login(client, "kim@example.com")
    r = _change(client, "kim@example.com2024")
    assert r.status_code == 422
    assert "contains your email, your name" in r.get_data(as_text=True)
    login(app.test_client(), "kim@example.com", DEFAULT_PASSWORD)


def test_reset_refuses_a_common_password_and_keeps_the_link(app, client, user):
    link = _reset_link(app, client)
    r = post_form(client, link, {"password": "password12345", "confirm": "password12345"})
    assert r.status_code == 422
    assert "too easy to guess" in r.get_data(as_text=True)
    r = post_form(client, link, {"password": "a brand new secret", "confirm": "a brand new secret"})
    assert r.status_code == 302


def test_a_reset_spends_every_older_reset_link(app, client, user):
    first = _reset_link(app, client)
    second = _reset_link(app, client)
    r = post_form(
        client, second, {"password": "a brand new secret", "confirm": "a brand new secret"}
    )
    assert r.status_code == 302
    stale = post_form(app.test_client(), first, {"password": "the attacker's pick", "confirm": "x"})
    assert stale.status_code == 400
    assert "already been used" in stale.get_data(as_text=True)


def test_a_password_change_spends_outstanding_reset_links(app, client, user):
    link = _reset_link(app, client)
    login(client, "kim@example.com")
    assert _change(client, "a brand new secret").status_code == 302
    r = app.test_client().get(link)
    assert r.status_code == 400
    assert "already been used" in r.get_data(as_text=True)


def test_reset_request_does_the_same_work_whether_or_not_the_email_exists(
    app, client, user, monkeypatch
):
    from sqlalchemy import event

    from campus.accounts.tasks import send_password_reset

    sent: list[tuple] = []
    monkeypatch.setattr(send_password_reset, "apply_async", lambda args, kwargs: sent.append(args))
    statements: list[str] = []

    def remember(conn, cursor, statement, *rest):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", remember)
    try:
        for address in ("Kim@example.com", "ghost@example.com"):
            assert post_form(client, "/password/reset", {"email": address}).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", remember)
    # Only the address goes to the worker; the request never looks the account up.
    assert sent == [("kim@example.com",), ("ghost@example.com",)]
    assert not [s for s in statements if "users" in s]
    assert outbox(app) == []


def test_a_reset_task_delivered_twice_emails_one_link(app, user):
    from campus.accounts.tasks import send_password_reset

    # A worker killed after the task committed, before it acknowledged: the broker delivers
    # the same message (the same task id) again.
    for _ in range(2):
        send_password_reset.apply(args=("kim@example.com",), task_id="reset-once").get()
    assert len(outbox(app)) == 1
    with app.app_context():
        tokens = db.session.scalars(
            select(UserToken).where(UserToken.purpose == "reset_password")
        ).all()
        assert len(tokens) == 1
    # A new request is a new task: it gets its own link.
    send_password_reset.apply(args=("kim@example.com",), task_id="reset-again").get()
    assert len(outbox(app)) == 2


def test_a_reset_link_mailed_before_the_account_was_disabled_opens_nothing(app, client, user):
    # Whoever holds it (the intruder the account was disabled for) must not set a password
    # that works once an admin enables the account again; nor be told they are signed in.
    from campus.accounts.models import User
    from campus.accounts.services import verify_password
    from campus.models.base import utcnow

    link = _reset_link(app, client)
    with app.app_context():
        db.session.get(User, user).disabled_at = utcnow()
        db.session.commit()
    assert client.get(link).status_code == 400
    r = post_form(client, link, {"password": "a brand new secret", "confirm": "a brand new secret"})
    assert r.status_code == 400 and "not valid" in r.get_data(as_text=True)
    with app.app_context():
        assert verify_password(db.session.get(User, user), DEFAULT_PASSWORD)


def test_disabling_an_account_uses_up_its_emailed_links(app, client, user):
    from tests.admin import helpers as admin

    _reset_link(app, client)
    admin_client = app.test_client()
    admin.sign_in_admin(app, admin_client)
    admin.post(admin_client, f"/admin/members/{user}/disable", {})
    with app.app_context():
        tokens = db.session.scalars(select(UserToken).where(UserToken.user_id == user)).all()
        assert tokens and all(token.used_at is not None for token in tokens)


def _token(app, user_id: int) -> str:
    from tests.api.helpers import make_token

    with app.app_context():
        return make_token(user_id, "write")


def _audit_actions(app) -> list[str]:
    from campus.audit import AuditEntry

    with app.app_context():
        return list(db.session.scalars(select(AuditEntry.action)))


def test_a_reset_revokes_the_members_api_tokens_and_says_so(app, client, user):
    # A reset is what a member does when they think the account was taken: a token the
    # taker made must stop working with their sessions.
    raw = _token(app, user)
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"}).status_code == 200
    link = _reset_link(app, client)
    r = post_form(client, link, {"password": "a brand new secret", "confirm": "a brand new secret"})
    assert r.status_code == 302
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"}).status_code == 401
    assert "API tokens" in client.get(r.headers["Location"]).get_data(as_text=True)
    assert "api_tokens_revoked" in _audit_actions(app)


def test_a_password_change_revokes_the_members_api_tokens_and_says_so(app, client, user):
    raw = _token(app, user)
    login(client, "kim@example.com")
    r = post_form(
        client,
        "/account/password",
        {
            "current_password": DEFAULT_PASSWORD,
            "password": "a brand new secret",
            "confirm": "a brand new secret",
        },
    )
    assert r.status_code == 302
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"}).status_code == 401
    assert "API tokens" in client.get(r.headers["Location"]).get_data(as_text=True)
    assert "api_tokens_revoked" in _audit_actions(app)


def test_requests_from_many_addresses_mail_a_member_a_few_reset_links_at_a_time(app, user):
    # The per-address limit stops one sender; a sender with many addresses must not be able to
    # fill a member's inbox. The links already sent are in that inbox, and they work.
    def ask_from(address: str) -> None:
        sender = app.test_client()
        response = post_form(
            sender,
            "/password/reset",
            {"email": "kim@example.com"},
            environ_base={"REMOTE_ADDR": address},
        )
        assert response.status_code == 200  # the same answer as ever
        assert "Check your email" in response.text

    for n in range(10):
        ask_from(f"198.51.100.{n + 1}")
    assert len(outbox(app)) == 3
    # Once those links have expired, a request sends a new one.
    with time_machine.travel(timedelta(hours=1, minutes=1)):
        ask_from("198.51.100.99")
        assert len(outbox(app)) == 4


def test_a_member_who_used_a_reset_link_can_be_sent_another_at_once(app, client, user):
    for _ in range(3):
        link = _reset_link(app, client)
    new = {"password": "a brand new secret", "confirm": "a brand new secret"}
    assert post_form(app.test_client(), link, new).status_code == 302
    # Every link still out was spent by the reset: none of them works, so a new one goes.
    _reset_link(app, app.test_client())
    assert sum("Reset your" in str(m["Subject"]) for m in outbox(app)) == 4

"""Server-side sessions: logout, remember-me, timeouts, signing out elsewhere, the audit trail."""

from datetime import timedelta

import pytest
import time_machine
from flask_login.utils import decode_cookie
from sqlalchemy import select

from campus.accounts.models import User, UserSession
from campus.audit import AuditEntry
from campus.extensions import db
from tests.support import DEFAULT_PASSWORD, create_user, login, post_form

EMAIL = "ines@example.com"


@pytest.fixture
def user(app):
    with app.app_context():
        return create_user(email=EMAIL).id


def _cookie(client, name: str = "session") -> str:
    cookie = client.get_cookie(name)
    assert cookie is not None, f"no {name} cookie"
    return cookie.value


def _replay(app, name: str, value: str):
    """A new browser holding only one stolen or saved cookie."""
    other = app.test_client()
    other.set_cookie(name, value)
    return other


def _actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_logout_ends_the_session_on_the_server(app, client, user):
    login(client, EMAIL)
    old = _cookie(client)
    assert post_form(client, "/logout").status_code == 302
    replayed = _replay(app, "session", old)
    assert replayed.get("/api/v1/me").status_code == 401
    page = replayed.get("/account")
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    with app.app_context():
        assert db.session.scalar(select(UserSession.revoked_at)) is not None


def test_remember_cookie_is_random_per_device_and_names_no_user(app, user):
    first, second = app.test_client(), app.test_client()
    login(first, EMAIL, remember="y")
    login(second, EMAIL, remember="y")
    one, two = _cookie(first, "remember_token"), _cookie(second, "remember_token")
    assert one != two
    for value in (one, two):
        with app.app_context():
            token = decode_cookie(value)  # the signed value: a random session token
        assert token and len(token) >= 40 and ":" not in token
        assert _replay(app, "remember_token", value).get("/api/v1/me").status_code == 200


def test_remember_cookie_dies_at_logout(app, client, user):
    login(client, EMAIL, remember="y")
    remembered = _cookie(client, "remember_token")
    response = post_form(client, "/logout")
    assert "remember_token=;" in " ".join(response.headers.getlist("Set-Cookie"))
    assert _replay(app, "remember_token", remembered).get("/api/v1/me").status_code == 401


def test_remember_cookie_expires_on_the_server_after_its_absolute_limit(app, client, user):
    login(client, EMAIL, remember="y")
    remembered = _cookie(client, "remember_token")
    # Used every ten days it never idles out, but thirty days after sign-in it is over.
    for days in (10, 20, 29):
        with time_machine.travel(timedelta(days=days), tick=False):
            assert _replay(app, "remember_token", remembered).get("/api/v1/me").status_code == 200
    with time_machine.travel(timedelta(days=30, minutes=1), tick=False):
        assert _replay(app, "remember_token", remembered).get("/api/v1/me").status_code == 401


def test_remember_cookie_idles_out_on_the_server(app, client, user):
    login(client, EMAIL, remember="y")
    remembered = _cookie(client, "remember_token")
    with time_machine.travel(timedelta(days=14, minutes=1), tick=False):
        assert _replay(app, "remember_token", remembered).get("/api/v1/me").status_code == 401


def test_idle_session_is_signed_out(app, client, user):
    login(client, EMAIL)
    with time_machine.travel(timedelta(minutes=59), tick=False):
        assert client.get("/api/v1/me").status_code == 200
    # Active at minute 59, so minute 118 is only 59 idle minutes later.
    with time_machine.travel(timedelta(minutes=118), tick=False):
        assert client.get("/api/v1/me").status_code == 200
    with time_machine.travel(timedelta(minutes=118 + 61), tick=False):
        assert client.get("/api/v1/me").status_code == 401


def test_active_session_ends_at_its_absolute_limit(app, client, user):
    login(client, EMAIL)
    for minutes in range(50, 12 * 60, 50):
        with time_machine.travel(timedelta(minutes=minutes), tick=False):
            assert client.get("/api/v1/me").status_code == 200, minutes
    with time_machine.travel(timedelta(hours=12, minutes=1), tick=False):
        assert client.get("/api/v1/me").status_code == 401


def test_last_seen_is_written_at_most_once_a_minute(app, client, user):
    login(client, EMAIL)

    def last_seen():
        with app.app_context():
            return db.session.scalar(select(UserSession.last_seen_at))

    signed_in = last_seen()
    with time_machine.travel(timedelta(seconds=30), tick=False):
        client.get("/api/v1/me")
    assert last_seen() == signed_in
    with time_machine.travel(timedelta(seconds=90), tick=False):
        client.get("/api/v1/me")
    assert last_seen() > signed_in


def test_sign_out_everywhere_kills_every_client(app, client, user):
    laptop, phone = app.test_client(), app.test_client()
    login(laptop, EMAIL)
    login(phone, EMAIL, remember="y")
    remembered = _cookie(phone, "remember_token")
    login(client, EMAIL)
    response = post_form(client, "/account/security/sign-out-everywhere")
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    for other in (client, laptop, phone, _replay(app, "remember_token", remembered)):
        assert other.get("/api/v1/me").status_code == 401
    assert "sign_out_everywhere" in _actions(app)


def test_one_session_can_be_ended_from_the_security_page(app, client, user):
    phone = app.test_client()
    phone.environ_base["HTTP_USER_AGENT"] = "Mozilla/5.0 (iPhone) Safari/605.1"
    login(phone, EMAIL)
    login(client, EMAIL)
    page = client.get("/account/security").get_data(as_text=True)
    assert "Safari on iPhone" in page and "this device" in page
    with app.app_context():
        phone_id = db.session.scalar(select(UserSession.id).order_by(UserSession.id))
    response = post_form(client, f"/account/security/sessions/{phone_id}/end")
    assert response.status_code == 302
    assert phone.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me").status_code == 200
    assert "session_ended" in _actions(app)


def test_a_user_agent_with_control_characters_is_kept_as_plain_text(app, client, user):
    client.environ_base["HTTP_USER_AGENT"] = "Mozilla/5.0\x00 (X11)\x1b[31m\n Firefox/128.0"
    login(client, EMAIL)
    assert client.get("/account/security").status_code == 200
    with app.app_context():
        kept = db.session.scalar(select(UserSession.user_agent))
    assert kept == "Mozilla/5.0 (X11)[31m Firefox/128.0"


def test_a_member_cannot_end_someone_elses_session(app, client, user):
    with app.app_context():
        create_user(email="other@example.com")
    victim = app.test_client()
    login(victim, "other@example.com")
    with app.app_context():
        victim_session = db.session.scalar(select(UserSession.id))
    login(client, EMAIL)
    post_form(client, f"/account/security/sessions/{victim_session}/end")
    assert victim.get("/api/v1/me").status_code == 200
    assert "session_ended" not in _actions(app)


def test_the_account_page_links_to_security(client, user):
    login(client, EMAIL)
    assert 'href="/account/security"' in client.get("/account").get_data(as_text=True)


def test_sign_ins_and_failures_are_audited_without_the_password(app, client, user):
    post_form(client, "/login", {"email": EMAIL, "password": "not the password 123"})
    post_form(client, "/login", {"email": "nobody@example.com", "password": "whatever 456"})
    login(client, EMAIL)
    post_form(client, "/logout")
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        rows = [(e.action, e.actor_id, e.object_id, e.summary) for e in entries]
    assert [r[0] for r in rows] == ["sign_in_failed", "sign_in_failed", "sign_in", "sign_out"]
    wrong, unknown, signed_in, signed_out = rows
    assert wrong[1] is None and wrong[2] == str(user)
    assert unknown[1] is None and unknown[2] is None and "nobody" not in unknown[3]
    assert signed_in[1] == user and signed_out[1] == user
    assert signed_in[3] == f"{EMAIL}: signed in with password"
    text = " ".join(r[3] for r in rows)
    assert "not the password" not in text and "whatever" not in text


def test_password_change_and_reset_are_audited(app, client, user):
    login(client, EMAIL)
    post_form(
        client,
        "/account/password",
        {
            "current_password": DEFAULT_PASSWORD,
            "password": "a brand new secret",
            "confirm": "a brand new secret",
        },
    )
    with app.app_context():
        from campus.accounts import services

        user_row = db.session.get(User, user)
        raw = services.issue_token(user_row, "reset_password", 3600)
        db.session.commit()
    post_form(
        app.test_client(),
        f"/password/reset/{raw}",
        {"password": "another new secret", "confirm": "another new secret"},
    )
    actions = _actions(app)
    assert "password_changed" in actions and "password_reset" in actions
    assert client.get("/api/v1/me").status_code == 401  # the reset ended this session too
    assert _sign_in_summaries(app) == [
        f"{EMAIL}: signed in with password",
        f"{EMAIL}: signed in with the emailed password-reset link",
    ]


def _sign_in_summaries(app) -> list[str]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(AuditEntry.summary)
                .where(AuditEntry.action == "sign_in")
                .order_by(AuditEntry.id)
            )
        )


def test_an_unknown_sign_in_method_is_refused_rather_than_logged_as_something_else(app, user):
    from campus.accounts import sessions

    with app.test_request_context(), pytest.raises(ValueError):
        sessions.sign_in(db.session.get(User, user), method="guess")


def test_a_made_up_session_token_signs_nobody_in(app, user):
    forged = app.test_client()
    with forged.session_transaction() as session:
        session["_user_id"] = f"{user}:1"
    assert forged.get("/api/v1/me").status_code == 401


def test_sessions_ended_a_month_ago_are_purged_and_live_ones_kept(app, client, user):
    from campus.accounts.tasks import purge_ended_sessions

    login(client, EMAIL)
    post_form(client, "/logout")
    login(client, EMAIL)
    assert purge_ended_sessions.delay().get() == 0
    with time_machine.travel(timedelta(days=31), tick=False):
        login(client, EMAIL)  # a live one, opened now
        assert purge_ended_sessions.delay().get() == 2
        assert client.get("/api/v1/me").status_code == 200


def test_a_browser_whose_session_ended_is_told_once_and_drops_the_dead_cookies(app, user):
    laptop, phone = app.test_client(), app.test_client()
    login(laptop, EMAIL, remember="y")
    login(phone, EMAIL)
    post_form(phone, "/account/security/sign-out-everywhere")
    first = laptop.get("/account", follow_redirects=True)
    assert "Your session has ended. Please sign in again." in first.get_data(as_text=True)
    assert laptop.get_cookie("remember_token") is None
    with laptop.session_transaction() as session:
        assert "_user_id" not in session
    later = laptop.get("/account", follow_redirects=True)
    assert "Your session has ended" not in later.get_data(as_text=True)


def test_ending_a_session_by_an_absurd_id_changes_nothing(app, client, user):
    login(client, EMAIL)
    for session_id in ("99999999999999999999999", "0", "abc"):
        response = post_form(client, f"/account/security/sessions/{session_id}/end")
        assert response.status_code in (302, 404), session_id
    assert client.get("/api/v1/me").status_code == 200
    assert "session_ended" not in _actions(app)


def test_a_password_change_is_filed_under_the_member_in_the_log(app, client, user):
    login(client, EMAIL)
    form = {
        "current_password": DEFAULT_PASSWORD,
        "password": "a brand new secret",
        "confirm": "a brand new secret",
    }
    assert post_form(client, "/account/password", form).status_code == 302
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "password_changed"))
        # The view hands the service `current_user`: the entry names the User, not the proxy,
        # so the member's page (which lists entries about User #id) shows it.
        assert (entry.object_type, entry.object_id, entry.actor_id) == ("User", str(user), user)


def test_a_member_signed_in_on_two_devices_is_one_account(app, user):
    from campus.accounts import sessions

    with app.test_request_context():
        other_id = create_user(email="noor@example.com").id
        account = db.session.get(User, user)
        phone, laptop = sessions.start_session(account), sessions.start_session(account)
        db.session.commit()
        db.session.expunge_all()
        on_phone = sessions.load(phone)
        db.session.expunge_all()
        on_laptop = sessions.load(laptop)
        other = db.session.get(User, other_id)
        assert on_phone is not on_laptop and on_phone.get_id() != on_laptop.get_id()
        assert on_phone == on_laptop and on_phone.__ne__(on_laptop) is False
        assert on_phone != other and on_phone.__eq__(other) is False
        assert on_phone != user  # an id is not an account
        assert (User() == User()) is False  # unsaved accounts are nobody yet


def test_ending_this_devices_own_session_from_the_list_asks_to_sign_out_instead(app, client, user):
    login(client, EMAIL)
    with app.app_context():
        own = db.session.scalar(select(UserSession.id))
    response = post_form(client, f"/account/security/sessions/{own}/end", follow_redirects=True)
    assert "To end this device&#39;s session, sign out." in response.get_data(as_text=True)
    assert client.get("/api/v1/me").status_code == 200
    with app.app_context():
        assert db.session.get(UserSession, own).revoked_at is None


@pytest.mark.parametrize("ahead", [1, 30])
def test_a_session_signed_by_a_web_host_whose_clock_is_ahead_still_counts(app, client, user, ahead):
    from datetime import UTC, datetime

    real = datetime.now(UTC)
    with time_machine.travel(real + timedelta(seconds=ahead), tick=False):
        login(client, EMAIL)  # the host that signed the cookie runs `ahead` seconds fast
    with time_machine.travel(real, tick=False):
        assert client.get("/api/v1/me").status_code == 200  # the next request, on another host


def test_a_session_cookie_dated_far_in_the_future_is_not_believed(app, client, user):
    from datetime import UTC, datetime

    real = datetime.now(UTC)
    with time_machine.travel(real + timedelta(hours=2), tick=False):
        login(client, EMAIL)
    with time_machine.travel(real, tick=False):
        assert client.get("/api/v1/me").status_code == 401


def test_a_form_sent_after_the_session_ended_leads_back_to_its_page_after_signing_in(
    app, client, user
):
    from tests.support import csrf_token

    login(client, EMAIL)
    token = csrf_token(client, "/account/security")
    with time_machine.travel(timedelta(minutes=61), tick=False):
        # The button of a page left open past the idle limit: a POST-only address.
        sent = client.post(
            "/account/security/totp/start",
            data={"csrf_token": token},
            headers={"Referer": "http://localhost/account/security"},
        )
        assert sent.status_code == 302 and "/login" in sent.headers["Location"]
        back = post_form(
            client, sent.headers["Location"], {"email": EMAIL, "password": DEFAULT_PASSWORD}
        )
        # To the page the form was on, not to the form's address (which only takes a POST).
        assert back.headers["Location"] == "/account/security"
        assert client.get(back.headers["Location"]).status_code == 200


def test_a_form_sent_signed_out_without_a_referer_leads_home_after_signing_in(app, client, user):
    sent = post_form(client, "/account/data/export")
    assert sent.status_code == 302
    back = post_form(
        client, sent.headers["Location"], {"email": EMAIL, "password": DEFAULT_PASSWORD}
    )
    assert back.headers["Location"] == "/"

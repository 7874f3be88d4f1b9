"""The TOTP second factor: enrolment, the code step, replays, recovery codes, turning off."""

import re
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
import time_machine
from sqlalchemy import select

from campus.accounts.models import RecoveryCode, User, UserSession
from campus.audit import AuditEntry
from campus.extensions import db
from tests.support import (
    DEFAULT_PASSWORD,
    create_user,
    enable_totp,
    link_in,
    login,
    login_with_code,
    outbox,
    post_form,
    totp_code,
)

EMAIL = "theo@example.com"


@pytest.fixture
def user(app):
    with app.app_context():
        return create_user(email=EMAIL).id


@pytest.fixture
def secret(app, user):
    with app.app_context():
        return enable_totp(user)


def _account_id(app) -> int:
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.email == EMAIL))


def _actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def _enrol(app, client) -> tuple[str, list[str]]:
    """Set up TOTP through the pages; return the secret and the recovery codes shown."""
    assert post_form(client, "/account/security/totp/start").status_code == 302
    page = client.get("/account/security/totp").get_data(as_text=True)
    shown = re.search(r'<code class="totp-secret">([A-Z2-7 ]+)</code>', page).group(1)
    key = shown.replace(" ", "")
    response = post_form(
        client, "/account/security/totp", {"code": totp_code(key), "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:1000]
    codes = re.findall(r"<li><code>([a-z2-7-]{14})</code></li>", response.get_data(as_text=True))
    return key, codes


def test_enrolment_shows_a_qr_code_and_needs_a_code_before_it_is_on(app, client, user):
    login(client, EMAIL)
    post_form(client, "/account/security/totp/start")
    page = client.get("/account/security/totp").get_data(as_text=True)
    # The QR code is drawn on the server: no script but the site's own static files.
    assert "<svg" in page and not re.search(r'<script(?! src="/static/)', page)
    wrong = post_form(
        client, "/account/security/totp", {"code": "000000", "password": DEFAULT_PASSWORD}
    )
    assert wrong.status_code == 422
    with app.app_context():
        assert not db.session.get(User, user).totp_enabled


def test_enrolment_needs_the_password_so_a_borrowed_session_cannot_lock_the_owner_out(
    app, client, user
):
    # Someone at a signed-in browser would otherwise tie the account to their own app, end
    # the owner's other sessions, and leave a reset link unable to sign the owner back in.
    login(client, EMAIL)
    post_form(client, "/account/security/totp/start")
    page = client.get("/account/security/totp").get_data(as_text=True)
    key = re.search(r'<code class="totp-secret">([A-Z2-7 ]+)</code>', page).group(1)
    code = totp_code(key.replace(" ", ""))
    for password in ({}, {"password": "not my password"}):
        refused = post_form(client, "/account/security/totp", {"code": code, **password})
        assert refused.status_code == 422
    # Said under the password, where the mistake is, not under the code.
    assert re.search(r'id="password-msg">\s*<p class="field-error">Your password', refused.text)
    with app.app_context():
        assert not db.session.get(User, user).totp_enabled
        assert "mfa_enabled" not in _actions(app)


def test_turning_totp_on_gives_this_device_a_new_session(app, client, user):
    login(client, EMAIL, remember="y")
    before = {name: client.get_cookie(name).value for name in ("session", "remember_token")}
    _enrol(app, client)
    assert client.get("/api/v1/me").status_code == 200  # this device stays signed in
    # The token from before the second factor was on no longer signs anyone in.
    for name, value in before.items():
        stale = app.test_client()
        stale.set_cookie(name, value)
        assert stale.get("/api/v1/me").status_code == 401, name
    with app.app_context():
        live = db.session.scalars(select(UserSession).where(UserSession.revoked_at.is_(None)))
        (row,) = live.all()
        assert row.second_factor_at is not None and row.remembered


def test_turning_totp_on_revokes_the_api_tokens_made_with_the_password_alone(app, client, user):
    # Whoever had the password could make a token; it would go on without the second factor.
    from tests.api.helpers import bearer, make_token

    with app.app_context():
        raw = make_token(user)
    login(client, EMAIL)
    post_form(client, "/account/security/totp/start")
    with app.app_context():
        key = db.session.get_one(User, user).totp_pending_secret
    form = {"code": totp_code(key), "password": DEFAULT_PASSWORD}
    response = post_form(client, "/account/security/totp", form)
    assert response.status_code == 200
    assert "API tokens (1) were revoked" in response.get_data(as_text=True)
    assert app.test_client().get("/api/v1/me", headers=bearer(raw)).status_code == 401
    assert "api_tokens_revoked" in _actions(app)


def test_enrolment_turns_totp_on_and_shows_ten_recovery_codes_once(app, client, user):
    login(client, EMAIL)
    other = app.test_client()
    login(other, EMAIL)
    key, codes = _enrol(app, client)
    assert len(codes) == len(set(codes)) == 10
    with app.app_context():
        stored = db.session.get(User, user)
        assert stored.totp_secret == key and stored.totp_enabled_at is not None
        hashes = db.session.scalars(select(RecoveryCode.code_hash)).all()
    assert not set(hashes) & {c.replace("-", "") for c in codes}  # kept only as hashes
    assert codes[0] not in client.get("/account/security").get_data(as_text=True)
    assert other.get("/api/v1/me").status_code == 401  # other devices must sign in with it
    assert client.get("/api/v1/me").status_code == 200
    assert "mfa_enabled" in _actions(app)


def test_sign_in_asks_for_the_code_before_any_session_exists(app, client, secret):
    first = post_form(
        client, "/login?next=/account", {"email": EMAIL, "password": DEFAULT_PASSWORD}
    )
    assert first.headers["Location"].endswith("/login/verify")
    assert client.get("/api/v1/me").status_code == 401
    with app.app_context():
        assert db.session.scalar(select(UserSession.id)) is None
    done = post_form(client, "/login/verify", {"code": totp_code(secret)})
    assert done.status_code == 302 and done.headers["Location"] == "/account"
    assert client.get("/api/v1/me").status_code == 200
    with app.app_context():
        assert db.session.scalar(select(UserSession.second_factor_at)) is not None


def test_a_wrong_code_is_refused(app, client, secret):
    post_form(client, "/login", {"email": EMAIL, "password": DEFAULT_PASSWORD})
    wrong = post_form(client, "/login/verify", {"code": totp_code(secret, steps=5)})
    assert wrong.status_code == 422
    assert "not right" in wrong.get_data(as_text=True)
    assert client.get("/api/v1/me").status_code == 401
    assert _actions(app)[-1] == "sign_in_failed"


def _last_login(app):
    with app.app_context():
        return db.session.scalar(select(User.last_login_at).where(User.email == EMAIL))


def test_the_last_login_is_the_sign_in_completed_not_a_password_alone(app, client, secret):
    # An admin reads "Last login" on the member's page: a stranger who has the password but
    # not the phone signed nobody in.
    post_form(client, "/login", {"email": EMAIL, "password": DEFAULT_PASSWORD})
    post_form(client, "/login/verify", {"code": totp_code(secret, steps=5)})
    assert _last_login(app) is None
    done = post_form(client, "/login/verify", {"code": totp_code(secret)})
    assert done.status_code == 302
    assert _last_login(app) is not None


def test_a_code_in_other_digits_is_refused_like_a_wrong_one(app, client, secret):
    post_form(client, "/login", {"email": EMAIL, "password": DEFAULT_PASSWORD})
    arabic = totp_code(secret).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    wrong = post_form(client, "/login/verify", {"code": arabic})
    assert wrong.status_code == 422 and "not right" in wrong.get_data(as_text=True)
    assert client.get("/api/v1/me").status_code == 401


def test_a_code_cannot_be_replayed(app, client, secret):
    code = totp_code(secret)
    login_with_code(client, EMAIL, code)
    thief = app.test_client()
    post_form(thief, "/login", {"email": EMAIL, "password": DEFAULT_PASSWORD})
    replay = post_form(thief, "/login/verify", {"code": code})
    assert replay.status_code == 422
    assert thief.get("/api/v1/me").status_code == 401


def test_too_many_wrong_codes_go_back_to_the_password_step(app, client, secret):
    post_form(client, "/login", {"email": EMAIL, "password": DEFAULT_PASSWORD})
    for _ in range(4):
        assert post_form(client, "/login/verify", {"code": "123456"}).status_code == 422
    fifth = post_form(client, "/login/verify", {"code": "123456"})
    assert fifth.status_code == 302 and fifth.headers["Location"].endswith("/login")
    late = post_form(client, "/login/verify", {"code": totp_code(secret)})
    assert late.status_code == 302 and late.headers["Location"].endswith("/login")
    assert client.get("/api/v1/me").status_code == 401


def test_the_account_is_locked_against_guessing_across_fresh_password_steps(app, secret):
    # From several addresses, so the per-address limit never applies; the account's does.
    for n in range(2):
        guesser = app.test_client()
        guesser.environ_base["REMOTE_ADDR"] = f"198.51.100.{n + 1}"
        post_form(guesser, "/login", {"email": EMAIL, "password": DEFAULT_PASSWORD})
        for _ in range(5):
            post_form(guesser, "/login/verify", {"code": "123456"})
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "198.51.100.9"
    post_form(client, "/login", {"email": EMAIL, "password": DEFAULT_PASSWORD})
    right = post_form(client, "/login/verify", {"code": totp_code(secret)})
    assert right.status_code == 302 and right.headers["Location"].endswith("/login")
    assert client.get("/api/v1/me").status_code == 401


def _guess_from(app, address: str, guesses: int) -> None:
    """Pass the password step from `address`, then send `guesses` wrong codes."""
    guesser = app.test_client()
    guesser.environ_base["REMOTE_ADDR"] = address
    post_form(guesser, "/login", {"email": EMAIL, "password": DEFAULT_PASSWORD})
    for _ in range(guesses):
        post_form(guesser, "/login/verify", {"code": "123456"})


def _right_code_from(app, address: str, secret: str) -> bool:
    """Sign in with the password and the current code from `address`; tell whether it passed."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    post_form(client, "/login", {"email": EMAIL, "password": DEFAULT_PASSWORD})
    post_form(client, "/login/verify", {"code": totp_code(secret)})
    return client.get("/api/v1/me").status_code == 200


def test_ten_wrong_codes_in_any_fifteen_minutes_lock_the_account(app, secret):
    # Wrong codes count from when they were typed, not from when their sign-in began: a
    # sign-in started just over 15 minutes ago still had its codes typed inside the window.
    start = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        first = app.test_client()
        first.environ_base["REMOTE_ADDR"] = "198.51.100.1"
        post_form(first, "/login", {"email": EMAIL, "password": DEFAULT_PASSWORD})
    with time_machine.travel(start + timedelta(minutes=4, seconds=50), tick=False):
        for _ in range(5):
            post_form(first, "/login/verify", {"code": "123456"})
    with time_machine.travel(start + timedelta(minutes=15, seconds=30), tick=False):
        _guess_from(app, "198.51.100.2", 5)
    with time_machine.travel(start + timedelta(minutes=15, seconds=40), tick=False):
        assert not _right_code_from(app, "198.51.100.9", secret)
    # Once the first five are more than 15 minutes old, the owner signs in again.
    with time_machine.travel(start + timedelta(minutes=19, seconds=55), tick=False):
        assert _right_code_from(app, "198.51.100.10", secret)


def test_a_recovery_code_signs_in_once(app, client, user):
    login(client, EMAIL)
    _key, codes = _enrol(app, client)
    post_form(client, "/logout")
    login_with_code(client, EMAIL, codes[0].upper())
    assert client.get("/api/v1/me").status_code == 200
    post_form(client, "/logout")
    post_form(client, "/login", {"email": EMAIL, "password": DEFAULT_PASSWORD})
    again = post_form(client, "/login/verify", {"code": codes[0]})
    assert again.status_code == 422
    assert "recovery_code_used" in _actions(app)


def test_new_recovery_codes_replace_the_old_ones(app, client, user):
    login(client, EMAIL)
    _key, old = _enrol(app, client)
    wrong = {"password": "wrong one!!", "code": old[-1]}
    refused = post_form(client, "/account/security/recovery-codes", wrong)
    assert refused.status_code == 422
    right = {"password": DEFAULT_PASSWORD, "code": old[-1]}
    response = post_form(client, "/account/security/recovery-codes", right)
    new = re.findall(r"<li><code>([a-z2-7-]{14})</code></li>", response.get_data(as_text=True))
    assert len(new) == 10 and not set(new) & set(old)
    other = app.test_client()
    post_form(other, "/login", {"email": EMAIL, "password": DEFAULT_PASSWORD})
    assert post_form(other, "/login/verify", {"code": old[0]}).status_code == 422
    assert post_form(other, "/login/verify", {"code": new[0]}).status_code == 302
    assert "recovery_codes_regenerated" in _actions(app)


def test_turning_totp_off_needs_the_password_and_a_code(app, client, secret):
    login_with_code(client, EMAIL, totp_code(secret))
    no_password = post_form(
        client,
        "/account/security/totp/disable",
        {"password": "not my password", "code": totp_code(secret, steps=1)},
    )
    assert no_password.status_code == 422
    assert re.search(r'id="password-msg">\s*<p class="field-error">Your password', no_password.text)
    no_code = post_form(
        client, "/account/security/totp/disable", {"password": DEFAULT_PASSWORD, "code": "000000"}
    )
    assert no_code.status_code == 422
    with app.app_context():
        assert db.session.get(User, _account_id(app)).totp_enabled
    done = post_form(
        client,
        "/account/security/totp/disable",
        {"password": DEFAULT_PASSWORD, "code": totp_code(secret, steps=1)},
    )
    assert done.status_code == 302
    with app.app_context():
        assert not db.session.get(User, _account_id(app)).totp_enabled
        assert db.session.scalar(select(RecoveryCode.id)) is None
    assert "mfa_disabled" in _actions(app)
    post_form(client, "/logout")
    login(client, EMAIL)  # the password alone again


def test_a_reset_link_does_not_skip_the_second_factor(app, client, secret):
    with app.app_context():
        from campus.accounts import services

        raw = services.issue_token(db.session.get(User, _account_id(app)), "reset_password", 600)
        db.session.commit()
    response = post_form(
        client,
        f"/password/reset/{raw}",
        {"password": "a brand new secret", "confirm": "a brand new secret"},
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert client.get("/api/v1/me").status_code == 401


def test_a_second_factor_set_up_before_the_address_was_confirmed_goes_with_the_first_reset(
    app, client
):
    # Whoever signed up with someone else's address could sign in (unconfirmed) and tie the
    # account to their own app: the owner, proving the inbox with a reset, was then locked out.
    with app.app_context():
        create_user(email=EMAIL, verified=False)
    login(client, EMAIL)
    _enrol(app, client)
    post_form(client, "/logout")
    owner = app.test_client()
    post_form(owner, "/password/reset", {"email": EMAIL})
    link = link_in(outbox(app)[-1])
    new = "a brand new secret"
    assert post_form(owner, link, {"password": new, "confirm": new}).status_code == 302
    post_form(owner, "/logout")
    signed_in = login(owner, EMAIL, new)  # the password alone
    assert not signed_in.headers["Location"].endswith("/login/verify")
    assert owner.get("/api/v1/me").status_code == 200
    with app.app_context():
        user = db.session.get(User, _account_id(app))
        assert not user.totp_enabled and user.totp_pending_secret is None
        assert db.session.scalars(select(RecoveryCode)).all() == []


def test_the_code_step_without_a_password_step_goes_back_to_login(client):
    response = post_form(client, "/login/verify", {"code": "123456"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")


def test_provisioning_link_names_the_site_and_the_account(app, user):
    from campus.accounts import mfa

    with app.app_context():
        uri = mfa.provisioning_uri(db.session.get(User, user), pyotp.random_base32())
    assert uri.startswith("otpauth://totp/Campus:theo%40example.com?")


def test_setting_up_twice_keeps_the_first_app_and_its_codes(app, client, user):
    login(client, EMAIL)
    key, codes = _enrol(app, client)
    again = post_form(client, "/account/security/totp/start", follow_redirects=True)
    assert "Your authenticator app is already set up." in again.get_data(as_text=True)
    # The set-up page of a second secret is not there to open.
    page = client.get("/account/security/totp")
    assert page.status_code == 302 and page.headers["Location"].endswith("/account/security")
    with app.app_context():
        account = db.session.get(User, _account_id(app))
        assert account.totp_enabled and account.totp_pending_secret is None
        assert len(db.session.scalars(select(RecoveryCode)).all()) == len(codes)
    # The first app still signs in.
    other = app.test_client()
    login_with_code(other, EMAIL, totp_code(key, steps=1))
    assert other.get("/api/v1/me").status_code == 200


def test_each_password_field_of_the_security_page_has_its_own_label_and_error(app, client, secret):
    login_with_code(client, EMAIL, totp_code(secret))
    page = client.get("/account/security").text
    ids = re.findall(r'<input[^>]*\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), f"the same id twice: {sorted(ids)}"
    wrong = {"password": "wrong one!!", "code": totp_code(secret, steps=1)}
    refused = post_form(client, "/account/security/recovery-codes", wrong)
    invalid = [tag for tag in re.findall(r"<input[^>]*>", refused.text) if "aria-invalid" in tag]
    assert len(invalid) == 1 and 'name="password"' in invalid[0], invalid
    described = re.search(r'aria-describedby="([^"]+)"', invalid[0]).group(1)
    assert re.search(rf'id="{described}">\s*<p class="field-error">Your password', refused.text)
    assert re.findall(r'id="([^"]+)"', refused.text).count(described) == 1


def test_the_password_alone_does_not_make_new_recovery_codes(app, client, secret):
    # A recovery code signs in in place of the app: whoever has the password and a signed-in
    # browser for a moment must not leave with a second factor of their own.
    login_with_code(client, EMAIL, totp_code(secret))
    with app.app_context():
        before = set(db.session.scalars(select(RecoveryCode.code_hash)))
    alone = post_form(client, "/account/security/recovery-codes", {"password": DEFAULT_PASSWORD})
    assert alone.status_code == 422
    wrong = {"password": DEFAULT_PASSWORD, "code": "000000"}
    assert post_form(client, "/account/security/recovery-codes", wrong).status_code == 422
    with app.app_context():
        assert set(db.session.scalars(select(RecoveryCode.code_hash))) == before
    assert "recovery_codes_regenerated" not in _actions(app)
    right = {"password": DEFAULT_PASSWORD, "code": totp_code(secret, steps=1)}
    response = post_form(client, "/account/security/recovery-codes", right)
    assert response.status_code == 200
    assert len(re.findall(r"<li><code>([a-z2-7-]{14})</code></li>", response.text)) == 10

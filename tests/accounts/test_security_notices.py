"""The member hears by email of every change to how their account is signed in to."""

from __future__ import annotations

import re

from tests.support import (
    DEFAULT_PASSWORD,
    body_of,
    create_user,
    enable_totp,
    link_in,
    login,
    login_with_code,
    outbox,
    post_form,
    totp_code,
)

EMAIL = "noor@example.com"
NEW = "a brand new secret"


def _notices(app) -> list[str]:
    return [str(m["Subject"]) for m in outbox(app) if m["To"] == EMAIL]


def test_a_password_change_is_told_to_the_member(app, client):
    with app.app_context():
        create_user(email=EMAIL)
    login(client, EMAIL)
    form = {"current_password": DEFAULT_PASSWORD, "password": NEW, "confirm": NEW}
    assert post_form(client, "/account/password", form).status_code == 302
    (notice,) = outbox(app)
    assert notice["To"] == EMAIL and "password was changed" in str(notice["Subject"])
    text = body_of(notice)
    assert NEW not in text and "/password/reset" in text


def test_a_password_reset_is_told_to_the_member(app, client):
    with app.app_context():
        create_user(email=EMAIL)
    post_form(client, "/password/reset", {"email": EMAIL})
    link = link_in(outbox(app)[-1])
    assert post_form(client, link, {"password": NEW, "confirm": NEW}).status_code == 302
    assert any("password was changed" in subject for subject in _notices(app))


def test_turning_the_second_factor_off_is_told_to_the_member(app, client):
    with app.app_context():
        secret = enable_totp(create_user(email=EMAIL).id)
    login_with_code(client, EMAIL, totp_code(secret))
    form = {"password": DEFAULT_PASSWORD, "code": totp_code(secret, steps=1)}
    assert post_form(client, "/account/security/totp/disable", form).status_code == 302
    assert any("second factor" in subject for subject in _notices(app))


def test_a_refused_change_tells_nobody(app, client):
    with app.app_context():
        create_user(email=EMAIL)
    login(client, EMAIL)
    form = {"current_password": "not my password", "password": NEW, "confirm": NEW}
    assert post_form(client, "/account/password", form).status_code == 422
    assert outbox(app) == []


def test_turning_the_second_factor_on_is_told_to_the_member(app, client):
    # Whoever turns it on decides who signs in from then on: an owner it was done to must know.
    from tests.accounts.test_mfa import _enrol

    with app.app_context():
        create_user(email="theo@example.com")
    login(client, "theo@example.com")
    _enrol(app, client)
    subjects = [str(m["Subject"]) for m in outbox(app) if m["To"] == "theo@example.com"]
    assert any("turned on" in subject for subject in subjects)


def test_a_new_api_token_is_told_to_the_member(app, client):
    # A token signs in without the password or the second factor, for up to a year or for good.
    with app.app_context():
        create_user(email=EMAIL)
    login(client, EMAIL)
    form = {"name": "Clinic", "scope": "read", "lifetime": "90", "password": DEFAULT_PASSWORD}
    response = post_form(client, "/account/security/tokens", form)
    assert response.status_code == 201
    (notice,) = outbox(app)
    assert "API token" in str(notice["Subject"]) and "Clinic" in body_of(notice)
    assert "campus_" not in body_of(notice)


def test_new_recovery_codes_are_told_to_the_member(app, client):
    # A new set signs in in place of the app, and voids the set the owner keeps: made at a
    # borrowed browser with the password, the owner must hear of it.
    with app.app_context():
        secret = enable_totp(create_user(email=EMAIL).id)
    login_with_code(client, EMAIL, totp_code(secret))
    form = {"password": DEFAULT_PASSWORD, "code": totp_code(secret, steps=1)}
    response = post_form(client, "/account/security/recovery-codes", form)
    assert response.status_code == 200
    (notice,) = [m for m in outbox(app) if m["To"] == EMAIL]
    assert "recovery codes" in str(notice["Subject"])
    text = body_of(notice)
    assert "/password/reset" in text
    codes = re.findall(r"<li><code>([a-z2-7-]{14})</code></li>", response.get_data(as_text=True))
    assert len(codes) == 10 and not any(code in text for code in codes)

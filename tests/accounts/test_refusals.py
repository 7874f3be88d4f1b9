"""A wrong password or code typed to confirm a change to one's own account is audited."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from campus.accounts.models import RecoveryCode, User, UserToken
from campus.extensions import db
from campus.mail.models import EmailMessage
from tests import support
from tests.admin import helpers

EMAIL = "rhea@example.com"
NEW_PASSWORD = "a brand new passphrase"


def _refusals(app, action: str) -> list[str]:
    """The summaries of `action`'s entries, each checked to be the member's own."""
    entries = helpers.audit_entries(app, action=action)
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.email == EMAIL))
    assert all((e.actor_id, e.object_id) == (user_id, str(user_id)) for e in entries)
    return [e.summary for e in entries]


@pytest.mark.parametrize(
    ("answers", "logged"),
    [
        ({"current_password": "not my password"}, [f"{EMAIL}: password not accepted"]),
        ({"confirm": "another passphrase"}, []),  # a typing slip, not a wrong secret
        ({"password": "short", "confirm": "short"}, []),
    ],
)
def test_a_wrong_password_at_a_password_change_is_audited(app, client, answers, logged):
    with app.app_context():
        support.create_user(email=EMAIL)
    support.login(client, EMAIL)
    form = {
        "current_password": support.DEFAULT_PASSWORD,
        "password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD,
        **answers,
    }
    assert support.post_form(client, "/account/password", form).status_code == 422
    assert _refusals(app, "password_change_refused") == logged
    assert not helpers.audit_entries(app, action="password_changed")
    support.post_form(client, "/logout")
    support.login(client, EMAIL)  # the old password still signs in


@pytest.mark.parametrize(
    ("answers", "logged"),
    [
        ({"password": "not my password"}, [f"{EMAIL}: password not accepted"]),
        ({"email": EMAIL}, []),  # already the address: no wrong secret
    ],
)
def test_a_wrong_password_at_an_email_change_is_audited(app, client, answers, logged):
    with app.app_context():
        support.create_user(email=EMAIL)
    support.login(client, EMAIL)
    form = {"email": "rhea.new@example.com", "password": support.DEFAULT_PASSWORD, **answers}
    assert support.post_form(client, "/account/email", form).status_code == 422
    assert _refusals(app, "email_change_refused") == logged
    assert not helpers.audit_entries(app, action="email_change_requested")
    with app.app_context():
        assert not db.session.scalar(select(func.count(UserToken.id)))
        assert not db.session.scalar(select(func.count(EmailMessage.id)))


@pytest.mark.parametrize(
    ("wrong", "logged"),
    [
        ("password", [f"{EMAIL}: password not accepted"]),
        ("code", [f"{EMAIL}: code not accepted"]),
    ],
)
def test_a_wrong_password_or_code_at_turning_the_second_factor_off_is_audited(
    app, client, wrong, logged
):
    with app.app_context():
        user_id = support.create_user(email=EMAIL).id
        secret = support.enable_totp(user_id)
    support.login_with_code(client, EMAIL, support.totp_code(secret))
    form = {"password": support.DEFAULT_PASSWORD, "code": support.totp_code(secret, steps=1)}
    form[wrong] = "000000" if wrong == "code" else "not my password"
    response = support.post_form(client, "/account/security/totp/disable", form)
    assert response.status_code == 422
    assert _refusals(app, "mfa_disable_refused") == logged
    assert not helpers.audit_entries(app, action="mfa_disabled")
    with app.app_context():
        assert db.session.get_one(User, user_id).totp_secret == secret


def test_turning_off_a_second_factor_there_is_not_is_no_wrong_secret(app, client):
    with app.app_context():
        support.create_user(email=EMAIL)
    support.login(client, EMAIL)
    form = {"password": support.DEFAULT_PASSWORD, "code": "000000"}
    assert support.post_form(client, "/account/security/totp/disable", form).status_code == 422
    assert _refusals(app, "mfa_disable_refused") == []


def test_a_wrong_password_at_setting_up_the_second_factor_is_audited(app, client):
    with app.app_context():
        user_id = support.create_user(email=EMAIL).id
    support.login(client, EMAIL)
    support.post_form(client, "/account/security/totp/start")
    form = {"password": "not my password", "code": "000000"}
    assert support.post_form(client, "/account/security/totp", form).status_code == 422
    assert _refusals(app, "mfa_enable_refused") == [f"{EMAIL}: password not accepted"]
    with app.app_context():
        user = db.session.get_one(User, user_id)
        assert not user.totp_enabled and user.totp_pending_secret  # still waiting for a code


def test_a_wrong_password_for_new_recovery_codes_is_audited(app, client):
    with app.app_context():
        user_id = support.create_user(email=EMAIL).id
        secret = support.enable_totp(user_id)
        before = set(db.session.scalars(select(RecoveryCode.code_hash)))
    support.login_with_code(client, EMAIL, support.totp_code(secret))
    form = {"password": "not my password", "code": support.totp_code(secret, steps=1)}
    response = support.post_form(client, "/account/security/recovery-codes", form)
    assert response.status_code == 422
    assert _refusals(app, "recovery_codes_refused") == [f"{EMAIL}: password not accepted"]
    with app.app_context():
        assert set(db.session.scalars(select(RecoveryCode.code_hash))) == before


def test_the_refusals_still_count_against_the_password_budget(app, client):
    app.config["PASSWORD_CHANGE_RATE_LIMIT"] = "2 per minute"
    with app.app_context():
        support.create_user(email=EMAIL)
    support.login(client, EMAIL)
    form = {"current_password": "nope", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    statuses = [support.post_form(client, "/account/password", form).status_code for _ in range(3)]
    assert statuses == [422, 422, 429]
    assert len(_refusals(app, "password_change_refused")) == 2

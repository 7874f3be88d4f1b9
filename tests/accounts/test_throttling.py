"""Throttling: password guesses per account and per address, and the pages that send email."""

import re

import pytest
from sqlalchemy import select

from campus.audit import AuditEntry
from campus.extensions import db
from tests.support import (
    DEFAULT_PASSWORD,
    create_user,
    enable_totp,
    login,
    outbox,
    post_form,
    totp_code,
)


def _from(address: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": address}}


def _login(client, email: str, password: str, address: str = "10.0.0.1"):
    return post_form(client, "/login", {"email": email, "password": password}, **_from(address))


@pytest.fixture
def sam(app):
    with app.app_context():
        return create_user(email="sam@example.com").id


def test_failed_logins_lock_the_account_from_every_address(app, client, sam):
    app.config["LOGIN_ACCOUNT_RATE_LIMIT"] = "3 per minute"
    codes = [
        _login(client, "sam@example.com", "wrong one!", f"10.0.0.{n}").status_code
        for n in (1, 2, 3)
    ]
    assert codes == [422, 422, 422]
    # Another address, even with the right password (and any spelling of the email), waits.
    blocked = _login(app.test_client(), " SAM@Example.com ", DEFAULT_PASSWORD, "10.9.9.9")
    assert blocked.status_code == 429
    page = blocked.get_data(as_text=True)
    assert "Too many attempts" in page
    assert re.search(r"Try again in \d+ seconds", page)
    assert blocked.headers["Retry-After"].isdigit()
    # Another account on the same addresses is not affected.
    with app.app_context():
        create_user(email="kim@example.com")
    assert _login(app.test_client(), "kim@example.com", DEFAULT_PASSWORD).status_code == 302


def test_failed_logins_from_one_address_are_limited_across_accounts(app, client):
    app.config["LOGIN_ADDRESS_RATE_LIMIT"] = "4 per minute"
    codes = [_login(client, f"ghost{n}@example.com", "wrong one!").status_code for n in range(5)]
    assert codes == [422] * 4 + [429]
    assert _login(client, "ghost9@example.com", "wrong one!", "10.0.0.2").status_code == 422


def test_the_code_step_shares_the_addresss_budget_of_failed_sign_ins(app, client):
    app.config["LOGIN_ADDRESS_RATE_LIMIT"] = "3 per minute"
    with app.app_context():
        secret = enable_totp(create_user(email="tess@example.com").id)
    right = _login(client, "tess@example.com", DEFAULT_PASSWORD)
    assert right.headers["Location"].endswith("/login/verify")
    # The address then spends its failures on passwords: the code step is closed to it too.
    spent = [
        _login(app.test_client(), f"ghost{n}@example.com", "wrong one!").status_code
        for n in range(4)
    ]
    assert spent == [422, 422, 422, 429]
    code = post_form(
        client, "/login/verify", {"code": totp_code(secret, steps=5)}, **_from("10.0.0.1")
    )
    assert code.status_code == 429
    assert code.headers["Retry-After"].isdigit()


def test_successful_logins_from_one_address_are_never_counted(app):
    app.config["LOGIN_ADDRESS_RATE_LIMIT"] = "2 per minute"
    app.config["LOGIN_ACCOUNT_RATE_LIMIT"] = "2 per minute"
    with app.app_context():
        emails = [create_user().email for _ in range(4)]
    # A classroom behind one address: everyone signs in, some twice.
    for email in [*emails, *emails]:
        assert _login(app.test_client(), email, DEFAULT_PASSWORD).status_code == 302


def test_signup_is_rate_limited_per_address(app, client):
    app.config["SIGNUP_RATE_LIMIT"] = "2 per minute"
    form = {
        "full_name": "Riley Moss",
        "password": "a sturdy passphrase",
        "profession": "physical_therapist",
    }
    codes = [
        post_form(client, "/signup", {**form, "email": f"r{n}@example.com"}).status_code
        for n in range(3)
    ]
    assert codes == [200, 200, 429]


def test_an_ipv6_network_shares_one_budget_however_many_addresses_it_sends_from(app, client):
    # A single IPv6 host holds a /64: keyed on the whole address, each request from a new one
    # started a fresh budget, so sign-ups and reset emails were unlimited.
    app.config["SIGNUP_RATE_LIMIT"] = "2 per minute"
    app.config["RESET_RATE_LIMIT"] = "2 per minute"
    form = {
        "full_name": "Riley Moss",
        "password": "a sturdy passphrase",
        "profession": "physical_therapist",
    }

    def sign_up(n: int, address: str) -> int:
        data = {**form, "email": f"v6-{n}@example.com"}
        return post_form(client, "/signup", data, **_from(address)).status_code

    codes = [sign_up(n, f"2001:db8:1:2::{n:x}") for n in range(1, 4)]
    assert codes == [200, 200, 429]
    assert sign_up(9, "2001:db8:1:3::1") == 200  # the next network has its own
    resets = [
        post_form(
            client, "/password/reset", {"email": "sam@example.com"}, **_from(f"2001:db8:9::{n}")
        ).status_code
        for n in range(1, 4)
    ]
    assert resets == [200, 200, 429]
    # An IPv4 client reached over IPv6 (::ffff:a.b.c.d) is counted as that IPv4 address.
    app.config["SIGNUP_RATE_LIMIT"] = "1 per minute"
    assert sign_up(10, "192.0.2.7") == 200
    assert sign_up(11, "::ffff:192.0.2.7") == 429


def test_verification_resend_is_rate_limited(app, client):
    app.config["VERIFY_RESEND_RATE_LIMIT"] = "2 per minute"
    with app.app_context():
        create_user(email="new@example.com", verified=False)
    login(client, "new@example.com")
    codes = [post_form(client, "/verify-email/resend").status_code for _ in range(4)]
    assert codes == [302, 302, 429, 429]
    assert len(outbox(app)) == 2


def test_wrong_current_passwords_are_limited_per_user(app, client, sam):
    app.config["PASSWORD_CHANGE_RATE_LIMIT"] = "2 per minute"
    login(client, "sam@example.com")
    change = {"password": "a brand new secret", "confirm": "a brand new secret"}

    def attempt(current: str) -> int:
        form = {**change, "current_password": current}
        return post_form(client, "/account/password", form).status_code

    assert [attempt("not my password"), attempt("still not it")] == [422, 422]
    assert attempt(DEFAULT_PASSWORD) == 429


def test_the_security_forms_share_the_members_budget_of_wrong_passwords(app, client):
    # A stolen session must not guess the password on one form after another.
    from tests.support import enable_totp, sign_in_directly

    app.config["PASSWORD_CHANGE_RATE_LIMIT"] = "3 per minute"
    with app.app_context():
        user = create_user(email="pat@example.com")
        enable_totp(user.id)
        sign_in_directly(client, user.id, second_factor=True)
    codes = [
        post_form(
            client, "/account/security/recovery-codes", {"password": "guess one!", "code": "1"}
        ),
        post_form(
            client, "/account/security/totp/disable", {"password": "guess two!", "code": "1"}
        ),
        post_form(
            client,
            "/account/password",
            {"current_password": "guess three!", "password": "x" * 16, "confirm": "x" * 16},
        ),
    ]
    assert [r.status_code for r in codes] == [422, 422, 422]
    right = {"password": DEFAULT_PASSWORD, "code": "1"}
    assert post_form(client, "/account/security/recovery-codes", right).status_code == 429


def test_the_email_and_deletion_forms_share_the_members_budget_of_wrong_passwords(app, client):
    # Each had a limit of its own: a stolen session spent the shared budget, then guessed on.
    app.config["PASSWORD_CHANGE_RATE_LIMIT"] = "2 per minute"
    with app.app_context():
        create_user(email="pat@example.com")
    login(client, "pat@example.com")
    change = {"password": "x" * 16, "confirm": "x" * 16}
    for guess in ("guess one!", "guess two!"):
        form = {**change, "current_password": guess}
        assert post_form(client, "/account/password", form).status_code == 422
    email = {"email": "new@example.com", "password": "guess three!"}
    assert post_form(client, "/account/email", email).status_code == 429
    delete = {"password": "guess four!", "code": "", "confirmation": "DELETE"}
    assert post_form(client, "/account/delete", delete).status_code == 429


def test_wrong_admin_confirmations_are_limited(app, client):
    from tests.admin import helpers

    app.config["ADMIN_CONFIRM_RATE_LIMIT"] = "2 per minute"
    helpers.sign_in_admin(app, client, fresh=False)
    codes = [helpers.confirm_password(client, "not my password").status_code for _ in range(2)]
    assert codes == [422, 422]
    assert helpers.confirm_password(client).status_code == 429


def test_the_admin_confirmation_shares_the_members_budget_of_wrong_passwords(app, client):
    # With a limit of its own only, a stolen admin session guessed on after the shared budget.
    from tests.admin import helpers

    app.config["PASSWORD_CHANGE_RATE_LIMIT"] = "2 per minute"
    helpers.sign_in_admin(app, client, fresh=False)
    change = {"password": "x" * 16, "confirm": "x" * 16}
    for guess in ("guess one!", "guess two!"):
        form = {**change, "current_password": guess}
        assert post_form(client, "/account/password", form).status_code == 422
    assert helpers.confirm_password(client, "guess three!").status_code == 429


def test_a_good_admin_confirmation_is_not_counted(app, client):
    from tests.admin import helpers

    app.config["ADMIN_CONFIRM_RATE_LIMIT"] = "1 per minute"
    helpers.sign_in_admin(app, client, fresh=False)
    # Two in a row: a third would need an authenticator code beyond the accepted window.
    assert [helpers.confirm_password(client).status_code for _ in range(2)] == [302] * 2


def test_a_once_per_mark_lets_every_run_through_when_rate_limits_are_off(app, monkeypatch):
    from campus.extensions import limiter
    from campus.throttling import once_per

    monkeypatch.setattr(limiter, "enabled", False)  # what RATELIMIT_ENABLED=0 leaves
    monkeypatch.setattr(limiter, "_limiter", None)
    with app.test_request_context():
        assert once_per("billing-sync", "7", 60) and once_per("billing-sync", "7", 60)


def _wrong_codes_checked(app) -> int:
    with app.app_context():
        summaries = db.session.scalars(
            select(AuditEntry.summary).where(AuditEntry.action == "sign_in_failed")
        )
        return sum("second-factor" in summary for summary in summaries)


def test_every_wrong_code_counts_against_the_addresss_budget(app, client):
    # The fifth wrong code of a sign-in answers with a redirect back to the password step:
    # counted only when the answer was an error status, it was a free guess each time round.
    app.config["LOGIN_ADDRESS_RATE_LIMIT"] = "6 per minute"
    with app.app_context():
        enable_totp(create_user(email="tess@example.com").id)
    for _ in range(20):
        if _login(client, "tess@example.com", DEFAULT_PASSWORD).status_code != 302:
            break
        answers = [
            post_form(client, "/login/verify", {"code": "000000"}, **_from("10.0.0.1"))
            for _ in range(5)
        ]
        if answers[-1].status_code == 429:
            break
    assert _wrong_codes_checked(app) == 6


def test_only_wrong_passwords_spend_the_members_budget_of_password_checks(app, client):
    # A mistyped new address, a weak new password, a missing confirmation word or a wrong
    # code is no password guess: the member who made them was locked out of every form.
    from tests.admin import helpers

    app.config["PASSWORD_CHANGE_RATE_LIMIT"] = "2 per minute"
    helpers.sign_in_admin(app, client, fresh=False)
    for _ in range(2):
        email = {"email": "not an address", "password": helpers.ADMIN_PASSWORD}
        assert post_form(client, "/account/email", email).status_code == 422
        weak = {"current_password": helpers.ADMIN_PASSWORD, "password": "x", "confirm": "x"}
        assert post_form(client, "/account/password", weak).status_code == 422
        wrong_code = {"password": helpers.ADMIN_PASSWORD, "code": "000000"}
        assert post_form(client, "/admin/confirm/", wrong_code).status_code == 422
    form = {"current_password": "wrong one!", "password": "y" * 16, "confirm": "y" * 16}
    right = post_form(client, "/account/password", form)
    assert right.status_code == 422  # the first wrong password: the budget was still whole


def test_wrong_codes_share_the_members_budget_across_forms(app, client):
    # Whoever has the password too must not guess the code on one form after another.
    from tests.support import sign_in_directly

    app.config["PASSWORD_CHANGE_RATE_LIMIT"] = "2 per minute"
    with app.app_context():
        user = create_user(email="pat@example.com")
        secret = enable_totp(user.id)
        sign_in_directly(client, user.id, second_factor=True)
    wrong = {"password": DEFAULT_PASSWORD, "code": "000000"}
    codes = [post_form(client, "/account/security/totp/disable", wrong) for _ in range(2)]
    assert [r.status_code for r in codes] == [422, 422]
    right = {"password": DEFAULT_PASSWORD, "code": totp_code(secret)}
    assert post_form(client, "/account/security/totp/disable", right).status_code == 429
    delete = {**wrong, "confirmation": "DELETE"}
    assert post_form(client, "/account/delete", delete).status_code == 429

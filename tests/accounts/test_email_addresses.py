"""One mailbox, one account: every form of an address finds the same account.

An address can be written in more than one way and still reach the same mailbox: in capitals,
with an accented letter composed (NFC) or as a letter plus a combining accent (NFD), with an
internationalised domain in its own letters or in its xn-- (punycode) form, with spaces
around it. Sign-up, sign-in, the reset and the email change must all take them as one.
"""

from __future__ import annotations

import unicodedata

import pytest
from sqlalchemy import func, select

from campus.accounts.models import User
from campus.accounts.services import get_user_by_email, normalize_email
from campus.extensions import db
from tests.support import DEFAULT_PASSWORD, create_user, link_in, login, outbox, post_form

NFC_LOCAL = unicodedata.normalize("NFC", "josé@example.com")
NFD_LOCAL = unicodedata.normalize("NFD", "josé@example.com")
IDN = "kim@bücher.example"
PUNYCODE = "kim@xn--bcher-kva.example"
FULLWIDTH_DOMAIN = "kim@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com"  # fullwidth letters

# (how the member signed up, how they later write the address)
SPELLINGS = [
    (NFC_LOCAL, NFD_LOCAL),
    (NFD_LOCAL, NFC_LOCAL),
    (IDN, PUNYCODE),
    (PUNYCODE, IDN),
    (IDN, "KIM@BÜCHER.EXAMPLE"),
    ("kim@example.com", FULLWIDTH_DOMAIN),
    ("kim@example.com", "  kim@example.com "),
]

SIGNUP = {"full_name": "Kim Lee", "password": "a sturdy passphrase", "profession": "other"}


def _accounts(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User))


def _sign_up(app, email: str) -> int:
    return post_form(app.test_client(), "/signup", {**SIGNUP, "email": email}).status_code


@pytest.mark.parametrize(("first", "again"), SPELLINGS)
def test_one_mailbox_gets_one_account_however_the_address_is_written(app, first, again):
    assert _sign_up(app, first) == 200
    assert _sign_up(app, again) == 200
    assert _accounts(app) == 1


@pytest.mark.parametrize(("first", "again"), SPELLINGS)
def test_a_member_signs_in_with_any_form_of_their_address(app, client, first, again):
    assert _sign_up(app, first) == 200
    login(client, again, SIGNUP["password"])


@pytest.mark.parametrize(("first", "again"), SPELLINGS)
def test_a_reset_reaches_the_account_however_the_address_is_written(app, client, first, again):
    assert _sign_up(app, first) == 200
    sent = len(outbox(app))
    assert post_form(client, "/password/reset", {"email": again}).status_code == 200
    assert len(outbox(app)) == sent + 1
    assert "/password/reset/" in link_in(outbox(app)[-1])


@pytest.mark.parametrize(
    "stored",
    [NFD_LOCAL, "josé@bücher.example", unicodedata.normalize("NFD", "kim@bücher.example")],
)
def test_an_account_stored_in_another_form_is_still_found(app, client, stored):
    # Accounts made before every address was stored in one form keep the form they were typed
    # in: looking them up must not depend on it.
    with app.app_context():
        user_id = create_user(email=stored).id
        canonical = normalize_email(stored)
        assert canonical != stored.lower()
        assert get_user_by_email(canonical).id == user_id
    login(client, canonical)
    assert _sign_up(app, canonical) == 200
    assert _accounts(app) == 1


def test_an_address_is_stored_in_one_form(app):
    assert _sign_up(app, unicodedata.normalize("NFD", "José@BÜCHER.example")) == 200
    with app.app_context():
        stored = db.session.scalar(select(User.email))
    assert stored == unicodedata.normalize("NFC", "josé@xn--bcher-kva.example")


def test_the_email_change_knows_another_form_of_the_members_own_address(app, client):
    with app.app_context():
        create_user(email=IDN)
    login(client, IDN)
    response = post_form(
        client, "/account/email", {"email": PUNYCODE, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 422
    assert "already your email address" in response.get_data(as_text=True)


def test_the_email_change_treats_another_form_of_a_taken_address_as_taken(app, client):
    with app.app_context():
        create_user(email=NFC_LOCAL)
        create_user(email="robin@example.com")
    login(client, "robin@example.com")
    response = post_form(
        client, "/account/email", {"email": NFD_LOCAL, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 200
    # No link to take the address: its owner is told someone tried.
    assert not any("/account/email/confirm/" in str(m) for m in outbox(app))


def test_other_forms_of_an_address_share_its_budget_of_failed_sign_ins(app):
    app.config["LOGIN_ACCOUNT_RATE_LIMIT"] = "3 per minute"
    with app.app_context():
        create_user(email="kim@example.com")
    forms = ["kim@example.com", "KIM@example.com", FULLWIDTH_DOMAIN, "kim@\uff45xample.com"]
    codes = [
        post_form(app.test_client(), "/login", {"email": e, "password": "wrong one!"}).status_code
        for e in forms
    ]
    assert codes == [422, 422, 422, 429]

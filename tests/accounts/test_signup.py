from sqlalchemy import func, select

from campus.accounts.models import User
from campus.extensions import db
from tests.support import body_of, create_user, link_in, outbox, post_form

SIGNUP = {
    "full_name": "Riley Moss",
    "email": "Riley@Example.com",
    "password": "a sturdy passphrase",
    "profession": "physical_therapist",
    "license_number": "PT-1234",
    "license_state": "Oregon",
}


def _users(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User))


def test_signup_creates_account_signs_in_and_sends_verification(app, client):
    response = post_form(client, "/signup", SIGNUP)
    assert response.status_code == 302
    with app.app_context():
        user = db.session.scalar(select(User))
        assert user.email == "riley@example.com"
        assert user.profession == "physical_therapist"
        assert user.password_hash.startswith("$argon2id$")
        assert not user.is_verified
    me = client.get("/api/v1/me").get_json()
    assert me["email"] == "riley@example.com"
    (message,) = outbox(app)
    assert message["To"] == "riley@example.com"
    assert "Confirm your email" in message["Subject"]
    assert "/verify-email/" in body_of(message)


def test_verification_link_confirms_email_once(app, client):
    post_form(client, "/signup", SIGNUP)
    link = link_in(outbox(app)[0])
    assert client.get(link).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(User)).is_verified
    again = client.get(link)
    assert again.status_code == 400
    assert "already been used" in again.get_data(as_text=True)


def test_duplicate_email_is_refused_whatever_its_case(app, client):
    with app.app_context():
        create_user(email="riley@example.com")
    response = post_form(client, "/signup", {**SIGNUP, "email": "RILEY@example.COM"})
    assert response.status_code == 422
    assert "already exists" in response.get_data(as_text=True)
    assert _users(app) == 1


import pytest  # noqa: E402


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email", "not-an-email", "Enter a valid email address"),
        ("email", "", "Enter your email address"),
        ("password", "short", "Use between 10 and 128 characters"),
        ("password", "x" * 129, "Use between 10 and 128 characters"),
        ("full_name", "", "Enter your full name"),
        ("profession", "astronaut", "Not a valid choice"),
    ],
)
def test_bad_signup_input_gets_a_clear_message_and_changes_nothing(
    app, client, field, value, message
):
    response = post_form(client, "/signup", {**SIGNUP, field: value})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _users(app) == 0
    assert outbox(app) == []


def test_signup_without_csrf_token_is_rejected(app, client):
    response = client.post("/signup", data=SIGNUP)
    assert response.status_code == 400
    assert "form expired" in response.get_data(as_text=True)
    assert _users(app) == 0

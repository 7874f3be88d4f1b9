import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from campus.accounts.models import User, UserToken
from campus.audit import AuditEntry
from campus.extensions import db
from tests.support import body_of, confirm_link, create_user, link_in, login, outbox, post_form

SIGNUP = {
    "full_name": "Riley Moss",
    "email": "Riley@Example.com",
    "password": "a sturdy passphrase",
    "profession": "physical_therapist",
}


def _users(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User))


def test_signup_creates_account_and_sends_confirmation(app, client):
    response = post_form(client, "/signup", SIGNUP)
    assert response.status_code == 200
    assert "Check your email" in response.get_data(as_text=True)
    with app.app_context():
        user = db.session.scalar(select(User))
        assert user.email == "riley@example.com"
        assert user.profession == "physical_therapist"
        assert user.password_hash.startswith("$argon2id$")
        assert not user.is_verified
    # Signing in here would tell an observer the address was new; the link does it instead.
    assert client.get("/api/v1/me").status_code == 401
    (message,) = outbox(app)
    assert message["To"] == "riley@example.com"
    assert "Confirm your email" in message["Subject"]
    assert "/verify-email/" in body_of(message)


def test_confirmation_link_signs_the_new_account_in_the_browser_that_signed_up(app, client):
    post_form(client, "/signup", SIGNUP)
    response = confirm_link(client, link_in(outbox(app)[0]))
    assert response.status_code == 302
    me = client.get("/api/v1/me").get_json()
    assert me["email"] == "riley@example.com" and me["email_verified"] is True
    # The audit trail names the link, not a password nobody typed.
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "sign_in"))
        assert entry.summary == "riley@example.com: signed in with the emailed confirmation link"


def test_a_new_member_is_not_welcomed_back_on_the_first_page(app, client):
    post_form(client, "/signup", SIGNUP)
    page = confirm_link(client, link_in(outbox(app)[0]), follow_redirects=True).text
    assert "Your email is confirmed." in page
    assert "<h1>Welcome, Riley</h1>" in page and "Welcome back" not in page


def test_confirmation_link_opened_elsewhere_only_confirms(app, client):
    # Whoever signed up with this address chose the password: the mailbox's owner, clicking
    # the link in their own browser, must not land in that account.
    post_form(client, "/signup", SIGNUP)
    owner = app.test_client()
    assert confirm_link(owner, link_in(outbox(app)[0])).status_code == 302
    assert owner.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me").status_code == 401
    with app.app_context():
        assert db.session.scalar(select(User)).is_verified


def test_opening_the_confirmation_link_only_asks_and_the_button_confirms(app, client):
    # Mail providers' scanners open every link in a message: opening it must confirm nothing,
    # nor spend the link the person is about to use.
    post_form(client, "/signup", SIGNUP)
    link = link_in(outbox(app)[0])
    for opener in (app.test_client(), client):
        response = opener.get(link)
        assert response.status_code == 200
        page = response.text
        assert "<strong>riley@example.com</strong>" in page
        assert re.search(r'<form method="post">\s*<input name="csrf_token" type="hidden"', page)
        assert ">Confirm this address</button>" in page
    assert client.get("/api/v1/me").status_code == 401
    with app.app_context():
        assert not db.session.scalar(select(User)).is_verified
        assert db.session.scalar(select(UserToken)).used_at is None
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action == "email_verified")
            )
            == 0
        )
    assert confirm_link(client, link).status_code == 302
    assert client.get("/api/v1/me").get_json()["email_verified"] is True


def test_the_confirm_button_without_the_form_token_changes_nothing(app, client):
    post_form(client, "/signup", SIGNUP)
    link = link_in(outbox(app)[0])
    client.get(link)
    assert client.post(link).status_code == 400
    assert client.post(link, data={"csrf_token": "forged"}).status_code == 400
    assert client.get("/api/v1/me").status_code == 401
    with app.app_context():
        assert not db.session.scalar(select(User)).is_verified


@pytest.mark.parametrize(
    ("spoil", "says"),
    [
        ("expired", "This link has expired."),
        ("used", "This link has already been used."),
        ("broken", "This link is not valid."),
    ],
)
def test_a_link_that_cannot_confirm_says_why_when_opened_and_when_pressed(app, client, spoil, says):
    post_form(client, "/signup", SIGNUP)
    link = link_in(outbox(app)[0])
    with app.app_context():
        token = db.session.scalar(select(UserToken))
        if spoil == "expired":
            token.expires_at = token.expires_at - timedelta(days=30)
        elif spoil == "used":
            token.used_at = token.created_at
        db.session.commit()
    if spoil == "broken":
        link = link[:-4] + "xxxx"
    opened = client.get(link)
    assert opened.status_code == 400 and says in opened.text
    assert "Confirm this address" not in opened.text
    pressed = post_form(client, link)
    assert pressed.status_code == 400 and says in pressed.text
    assert client.get("/api/v1/me").status_code == 401
    with app.app_context():
        assert not db.session.scalar(select(User)).is_verified


def test_a_member_who_opens_another_accounts_link_is_told_and_stays_themself(app, client):
    # A shared computer, a forwarded message: the link names the address it confirms, and the
    # member signed in here keeps their own account.
    with app.app_context():
        create_user(email="kim@example.com")
    login(client, "kim@example.com")
    post_form(app.test_client(), "/signup", SIGNUP)
    link = link_in(outbox(app)[-1])
    page = client.get(link).text
    assert "<strong>riley@example.com</strong>" in page
    assert "You are signed in as kim@example.com, a different account." in page
    done = confirm_link(client, link, follow_redirects=True).text
    assert "riley@example.com is confirmed. You are still signed in as kim@example.com." in done
    assert client.get("/api/v1/me").get_json()["email"] == "kim@example.com"
    with app.app_context():
        riley = db.session.scalar(select(User).where(User.email == "riley@example.com"))
        assert riley.is_verified and riley.last_login_at is None
    again = client.get(link, follow_redirects=True).text
    assert "That address is already confirmed. You are signed in as kim@example.com." in again
    assert "Your email address is already confirmed." not in again


def test_signup_leaves_the_same_kind_of_session_whether_or_not_the_address_is_taken(app, client):
    with app.app_context():
        create_user(email="riley@example.com")
    taken, new = app.test_client(), app.test_client()
    post_form(taken, "/signup", SIGNUP)
    post_form(new, "/signup", {**SIGNUP, "email": "sky@example.com"})
    with taken.session_transaction() as one, new.session_transaction() as other:
        assert sorted(one) == sorted(other)
        assert re.fullmatch("[0-9a-f]{64}", one["signup_binding"])
        assert re.fullmatch("[0-9a-f]{64}", other["signup_binding"])


def test_verification_link_confirms_email_once(app, client):
    post_form(client, "/signup", SIGNUP)
    link = link_in(outbox(app)[0])
    assert confirm_link(client, link).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(User)).is_verified
    again = app.test_client()
    response = again.get(link, follow_redirects=True)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Your email address is already confirmed." in page
    assert "reset link" not in page
    assert again.get("/api/v1/me").status_code == 401  # confirming again signs nobody in


def test_a_broken_verification_link_does_not_offer_a_password_reset(app, client):
    response = client.get("/verify-email/not-a-real-token")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "not valid" in page and "reset link" not in page


def test_a_later_verification_link_does_not_sign_in(app, client):
    with app.app_context():
        create_user(email="kim@example.com", verified=False)
    login(client, "kim@example.com")
    post_form(client, "/verify-email/resend")
    stranger = app.test_client()
    assert confirm_link(stranger, link_in(outbox(app)[-1])).status_code == 302
    assert stranger.get("/api/v1/me").status_code == 401
    with app.app_context():
        assert db.session.scalar(select(User)).is_verified


@pytest.mark.parametrize(
    ("referer", "back_to"),
    [
        ("http://localhost/courses/?topic=neck", "/courses/?topic=neck"),
        ("https://evil.example/confirm", "/account"),
        ("//evil.example/confirm", "/account"),
        ("http://localhost/\\evil.example/", "/account"),
        ("http://[x/", "/account"),
    ],
)
def test_sending_the_link_again_goes_back_only_to_a_page_of_this_site(
    app, client, referer, back_to
):
    with app.app_context():
        create_user(email="kim@example.com", verified=False)
    login(client, "kim@example.com")
    response = post_form(client, "/verify-email/resend", headers={"Referer": referer})
    assert response.status_code == 302
    assert response.headers["Location"] == back_to


def _neutral(response, email: str) -> str:
    html = response.get_data(as_text=True).replace(email, "X")
    return re.sub(r'content="[^"]+"|value="[^"]+"', "", html)


def test_taken_email_gets_the_same_answer_and_its_owner_is_told(app, client):
    with app.app_context():
        owner = create_user(email="riley@example.com", full_name="Riley Owner").id
    taken = post_form(client, "/signup", {**SIGNUP, "email": "RILEY@example.COM"})
    new = post_form(app.test_client(), "/signup", {**SIGNUP, "email": "sky@example.com"})
    assert taken.status_code == new.status_code == 200
    assert _neutral(taken, "riley@example.com") == _neutral(new, "sky@example.com")
    assert _users(app) == 2
    with app.app_context():
        kept = db.session.get(User, owner)
        assert kept.full_name == "Riley Owner" and kept.profession == "massage_therapist"
    warning = next(m for m in outbox(app) if m["To"] == "riley@example.com")
    assert "tried to sign up" in warning["Subject"]
    text = body_of(warning)
    assert "/login" in text and "/password/reset" in text
    # Repeated attempts do not flood the owner's inbox.
    post_form(app.test_client(), "/signup", {**SIGNUP, "email": "riley@example.com"})
    assert sum(m["To"] == "riley@example.com" for m in outbox(app)) == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email", "not-an-email", "Enter a valid email address"),
        ("email", "", "Enter your email address"),
        ("password", "short", "Use between 10 and 128 characters"),
        ("password", "x" * 129, "Use between 10 and 128 characters"),
        ("full_name", "", "Enter your full name"),
        ("profession", "astronaut", "Not a valid choice"),
        ("password", "password1234", "too easy to guess. This is a very common password"),
        ("password", "qwertyuiop12", "too easy to guess"),
        ("password", "RileyMoss1234", "contains your email, your name"),
        ("password", "riley@example.com", "contains your email, your name"),
        ("full_name", "   ", "Enter your full name"),
        # Not empty, yet a certificate would print no name at all.
        ("full_name", "\u200b", "Enter your full name"),
        ("full_name", "\u0301 \u200d", "Enter your full name"),
        ("full_name", "Riley \u202eegroeG", "text-direction character (U+202E)"),
        ("full_name", "Riley \u2067Moss", "text-direction character (U+2067)"),
        ("full_name", "Riley\x07Moss", "control or text-direction character (U+0007)"),
        ("full_name", "Riley\u0085Moss", "(U+0085)"),
        # 100 characters typed, 300 once composed (NFC writes each as three): past the column.
        pytest.param("full_name", "\ufb2c" * 100, "at most 120 characters", id="composed-long"),
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


def test_signup_stores_names_in_composed_form(app, client):
    decomposed = "Zoe\u0301 Ri\u0301os"
    post_form(client, "/signup", {**SIGNUP, "full_name": decomposed})
    with app.app_context():
        assert db.session.scalar(select(User.full_name)) == "Zo\u00e9 R\u00edos"


def test_the_confirmation_link_returns_to_the_page_the_signup_started_from(app, client):
    post_form(client, "/signup?next=/articles/quadratus-lumborum", SIGNUP)
    response = confirm_link(client, link_in(outbox(app)[0]))
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/articles/quadratus-lumborum")
    assert client.get("/api/v1/me").status_code == 200


def test_a_signup_next_off_the_site_or_opened_elsewhere_lands_on_the_home_page(app, client):
    post_form(client, "/signup?next=https://evil.example/phish", SIGNUP)
    response = confirm_link(client, link_in(outbox(app)[0]))
    assert response.headers["Location"] in ("/", "http://localhost/")
    other = app.test_client()
    post_form(other, "/signup?next=/courses/", {**SIGNUP, "email": "sky@example.com"})
    elsewhere = app.test_client()  # the link opened in another browser only confirms
    answer = confirm_link(elsewhere, link_in(outbox(app)[-1]))
    assert "/courses/" not in answer.headers["Location"]


def test_the_course_pages_sign_up_link_comes_back_to_the_course(app, client):
    from tests.learning.helpers import make_course

    with app.app_context():
        course = make_course("back-here")
        slug = course.slug
    page = client.get(f"/courses/{slug}").get_data(as_text=True)
    assert f"/signup?next=/courses/{slug}" in page


def test_signing_up_and_confirming_the_address_are_logged_once_each(app, client):
    post_form(client, "/signup", SIGNUP)
    link = link_in(outbox(app)[0])
    confirm_link(client, link)
    post_form(app.test_client(), link)  # a second click confirms nothing new
    with app.app_context():
        user_id = db.session.scalar(select(User.id))
        entries = db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action.in_(("signup", "email_verified")))
            .order_by(AuditEntry.id)
        ).all()
        assert [(e.action, e.object_type, e.object_id, e.actor_id) for e in entries] == [
            ("signup", "User", str(user_id), user_id),
            ("email_verified", "User", str(user_id), user_id),
        ]


def test_the_page_that_confirms_the_address_does_not_ask_to_confirm_it_above(app, client):
    # The bar asking to confirm the address (and to send the link again) beside the very
    # button that confirms it offers two ways to do one thing, one of them spending the link.
    with app.app_context():
        create_user(email="kim@example.com", verified=False)
    login(client, "kim@example.com")
    assert "Send it again" in client.get("/account").text
    post_form(client, "/verify-email/resend")
    link = link_in(outbox(app)[-1])
    page = client.get(link).text
    assert ">Confirm this address</button>" in page
    assert "Send it again" not in page and "Please confirm your email address" not in page
    done = confirm_link(client, link, follow_redirects=True).text
    assert "kim@example.com is confirmed." in done
    assert "Send it again" not in done


def test_a_disabled_accounts_confirmed_link_opens_nothing_like_its_other_links(app, client):
    # Its reset links say "not valid" (test_passwords): this one must not say more, to whoever
    # holds it, about an account that was disabled (perhaps for the intruder holding it).
    from campus.models.base import utcnow

    post_form(client, "/signup", SIGNUP)
    link = link_in(outbox(app)[0])
    assert confirm_link(client, link).status_code == 302
    with app.app_context():
        db.session.scalar(select(User)).disabled_at = utcnow()
        db.session.commit()
        create_user(email="kim@example.com")
    other = app.test_client()
    login(other, "kim@example.com")
    for opener in (app.test_client(), other, client):
        opened = opener.get(link)
        assert opened.status_code == 400 and "This link is not valid." in opened.text
        assert "already confirmed" not in opened.text
        pressed = post_form(opener, link)
        assert pressed.status_code == 400 and "This link is not valid." in pressed.text
        assert "already confirmed" not in pressed.text

"""The admin needs a second factor: set up on the account and passed by the session."""

from sqlalchemy import select

from campus.accounts.models import User, UserSession
from campus.extensions import db
from tests import support
from tests.admin import helpers

EMAIL = "root@example.com"


def _admin(app, *, totp: bool) -> tuple[int, str | None]:
    with app.app_context():
        admin_id = support.create_user(email=EMAIL, role="admin").id
        return admin_id, support.enable_totp(admin_id) if totp else None


def test_an_admin_without_a_second_factor_is_sent_to_set_one_up(app, client):
    _admin(app, totp=False)
    support.login(client, EMAIL)
    for path in ("/admin/", "/admin/members/", "/admin/audit/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].endswith("/account/security"), path
    page = client.get("/account/security").get_data(as_text=True)
    assert "Admins need it to use the admin" in page


def test_an_admin_session_that_skipped_the_second_factor_must_sign_in_again(app, client):
    admin_id, _secret = _admin(app, totp=True)
    with app.app_context():
        support.sign_in_directly(client, admin_id, second_factor=False)
    response = client.get("/admin/members/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.get("/api/v1/me").status_code == 401
    with app.app_context():
        assert db.session.scalar(select(UserSession.revoked_at)) is not None


def test_an_admin_signs_in_with_the_code_and_opens_the_admin(app, client):
    _admin_id, secret = _admin(app, totp=True)
    support.login_with_code(client, EMAIL, support.totp_code(secret))
    assert client.get("/admin/").status_code == 200


def test_an_admin_who_enrols_can_use_the_admin_in_the_same_session(app, client):
    import re

    _admin(app, totp=False)
    support.login(client, EMAIL)
    support.post_form(client, "/account/security/totp/start")
    page = client.get("/account/security/totp").get_data(as_text=True)
    key = re.search(r'<code class="totp-secret">([A-Z2-7 ]+)</code>', page).group(1)
    code = support.totp_code(key.replace(" ", ""))
    done = support.post_form(
        client, "/account/security/totp", {"code": code, "password": support.DEFAULT_PASSWORD}
    )
    assert done.status_code == 200
    assert client.get("/admin/").status_code == 200


def test_an_admin_is_never_remembered(app, client):
    _admin_id, secret = _admin(app, totp=True)
    support.login_with_code(client, EMAIL, support.totp_code(secret), remember="y")
    assert client.get_cookie("remember_token") is None
    with app.app_context():
        assert db.session.scalar(select(UserSession.remembered)) is False


def test_the_confirmation_step_asks_an_admin_with_totp_for_the_code(app, client):
    helpers.sign_in_admin(app, client, fresh=False)
    no_code = helpers.post(
        client, "/admin/confirm/?next=/admin/", {"password": "correct horse battery"}
    )
    assert no_code.status_code == 422
    assert "That code is not right" in " ".join(helpers.flashes(no_code))
    with client.session_transaction() as session:
        assert "admin_confirmed_at" not in session
    assert helpers.confirm_password(client).status_code == 302
    with client.session_transaction() as session:
        assert "admin_confirmed_at" in session


def test_promotion_to_admin_ends_the_accounts_sessions(app, client):
    with app.app_context():
        support.create_user(email="rising@example.com")
    support.login(client, "rising@example.com")
    with app.app_context():
        from campus.accounts.services import create_admin

        create_admin("rising@example.com", "a fresh and unusual passphrase 42")
        db.session.commit()
        assert db.session.scalar(select(User.role).where(User.email == "rising@example.com")) == (
            "admin"
        )
    assert client.get("/api/v1/me").status_code == 401


def test_disabling_a_member_revokes_their_sessions(app, client):
    with app.app_context():
        member_id = support.create_user(email="gone@example.com").id
    member = app.test_client()
    support.login(member, "gone@example.com")
    helpers.sign_in_admin(app, client)
    helpers.post(client, f"/admin/members/{member_id}/disable", {})
    with app.app_context():
        revoked = db.session.scalar(
            select(UserSession.revoked_at).where(UserSession.user_id == member_id)
        )
    assert revoked is not None


def test_each_password_confirmation_is_audited_refused_or_accepted(app, client):
    # Someone at an admin's unlocked screen guessing the password leaves a trace, as a sign-in
    # does; and an auditor sees when sensitive actions were opened.
    admin_id = helpers.sign_in_admin(app, client, fresh=False)
    with app.app_context():
        email = db.session.get_one(User, admin_id).email
    wrong = helpers.post(client, "/admin/confirm/?next=/admin/", {"password": "not it at all"})
    assert wrong.status_code == 422
    no_code = helpers.post(
        client, "/admin/confirm/?next=/admin/", {"password": "correct horse battery"}
    )
    assert no_code.status_code == 422
    assert helpers.confirm_password(client).status_code == 302
    entries = [
        (e.action, e.actor_id, e.object_id, e.summary)
        for e in helpers.audit_entries(app)
        if e.action.startswith("admin_confirm")
    ]
    assert entries == [
        ("admin_confirm_failed", admin_id, str(admin_id), f"{email}: password not accepted"),
        ("admin_confirm_failed", admin_id, str(admin_id), f"{email}: code not accepted"),
        ("admin_confirmed", admin_id, str(admin_id), f"{email}: sensitive actions opened"),
    ]

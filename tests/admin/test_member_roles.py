"""Members admin: making a member an assessor, and taking the role back."""

from __future__ import annotations

from sqlalchemy import select

from tests import support
from tests.admin import helpers


def _member(app, **fields) -> int:
    with app.app_context():
        return support.create_user(**fields).id


def _role(app, user_id: int) -> str:
    from campus.accounts.models import User
    from campus.extensions import db

    with app.app_context():
        return db.session.get(User, user_id).role


def _set_role(client, user_id: int, role: str, **kwargs):
    return helpers.post(client, f"/admin/members/{user_id}/role", {"role": role}, **kwargs)


def test_the_member_page_offers_the_assessor_role_to_members_only(app, client):
    student_id = _member(app)
    assessor_id = _member(app, role="assessor")
    other_admin_id = _member(app, role="admin")
    admin_id = helpers.sign_in_admin(app, client)
    student = client.get(f"/admin/members/{student_id}/").text
    assert "Make assessor" in student and "Remove the assessor role" not in student
    assessor = client.get(f"/admin/members/{assessor_id}/").text
    assert "Remove the assessor role" in assessor and "Make assessor" not in assessor
    for admin in (other_admin_id, admin_id):
        page = client.get(f"/admin/members/{admin}/").text
        assert "Make assessor" not in page and "Remove the assessor role" not in page


def test_changing_a_role_needs_a_fresh_password_and_code(app, client):
    member_id = _member(app)
    helpers.sign_in_admin(app, client, fresh=False)
    response = _set_role(
        client,
        member_id,
        "assessor",
        headers={"Referer": f"http://localhost/admin/members/{member_id}/"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/admin/confirm/?next=/admin/members/{member_id}/"
    assert _role(app, member_id) == "student"
    assert helpers.confirm_password(client).status_code == 302
    assert _set_role(client, member_id, "assessor").status_code == 302
    assert _role(app, member_id) == "assessor"


def test_a_role_change_without_the_csrf_token_is_refused(app, client):
    member_id = _member(app)
    helpers.sign_in_admin(app, client)
    response = client.post(f"/admin/members/{member_id}/role", data={"role": "assessor"})
    assert response.status_code == 400
    assert _role(app, member_id) == "student"
    assert [e for e in helpers.audit_entries(app) if e.action == "role_changed"] == []


def test_an_admin_makes_an_assessor_then_takes_the_role_back(app, client):
    from campus.accounts.models import User
    from campus.extensions import db
    from tests.api.helpers import bearer, make_token

    member_id = _member(app, email="reviewer@example.com")
    with app.app_context():
        raw = make_token(member_id, "read")
    member_client = app.test_client()
    support.login(member_client, "reviewer@example.com")
    assert member_client.get("/account").status_code == 200
    admin_id = helpers.sign_in_admin(app, client)

    response = _set_role(client, member_id, "assessor", follow_redirects=True)
    assert "reviewer@example.com is now an assessor and is signed out everywhere." in (
        helpers.flashes(response)
    )
    assert _role(app, member_id) == "assessor"
    # Signed in as a student, without the second factor staff need: that session is over,
    # and a token made as a student does not carry over to the new standing.
    assert member_client.get("/account").status_code == 302
    assert app.test_client().get("/api/v1/me", headers=bearer(raw)).status_code == 401
    (entry,) = helpers.audit_entries(app, action="role_changed")
    assert entry.actor_id == admin_id and entry.object_id == str(member_id)
    assert entry.before["role"] == "student" and entry.after["role"] == "assessor"
    assert "password_hash" not in entry.after
    notices = [m for m in support.outbox(app) if m["To"] == "reviewer@example.com"]
    assert any("assessor" in str(m["Subject"]) for m in notices)
    assert "assessor" in support.body_of(notices[-1])

    response = _set_role(client, member_id, "student", follow_redirects=True)
    assert "reviewer@example.com is no longer an assessor and is signed out everywhere." in (
        helpers.flashes(response)
    )
    with app.app_context():
        assert db.session.get(User, member_id).role == "student"
    entries = helpers.audit_entries(app, action="role_changed")
    assert [(e.before["role"], e.after["role"]) for e in entries] == [
        ("student", "assessor"),
        ("assessor", "student"),
    ]


def test_an_admin_cannot_change_their_own_role(app, client):
    admin_id = helpers.sign_in_admin(app, client)
    response = _set_role(client, admin_id, "student", follow_redirects=True)
    assert "You cannot change your own role." in helpers.flashes(response)
    assert _role(app, admin_id) == "admin"
    assert client.get("/admin/").status_code == 200
    assert helpers.audit_entries(app, action="role_changed") == []


def test_an_admins_role_is_not_changed_from_the_admin(app, client):
    other_id = _member(app, role="admin", email="other.admin@example.com")
    helpers.sign_in_admin(app, client)
    for role in ("student", "assessor"):
        response = _set_role(client, other_id, role, follow_redirects=True)
        assert any("flask set-role" in m for m in helpers.flashes(response)), helpers.flashes(
            response
        )
    assert _role(app, other_id) == "admin"
    assert helpers.audit_entries(app, action="role_changed") == []


def test_an_unconfirmed_or_disabled_account_is_not_made_an_assessor(app, client):
    from campus.models.base import utcnow

    unconfirmed_id = _member(app, email="squatter@example.com", verified=False)
    disabled_id = _member(app, email="gone@example.com", disabled_at=utcnow())
    helpers.sign_in_admin(app, client)
    response = _set_role(client, unconfirmed_id, "assessor", follow_redirects=True)
    assert any("never confirmed" in m for m in helpers.flashes(response)), helpers.flashes(response)
    response = _set_role(client, disabled_id, "assessor", follow_redirects=True)
    assert any("is disabled" in m for m in helpers.flashes(response)), helpers.flashes(response)
    assert _role(app, unconfirmed_id) == _role(app, disabled_id) == "student"
    assert helpers.audit_entries(app, action="role_changed") == []


def test_a_role_the_member_already_has_changes_nothing(app, client):
    member_id = _member(app, role="assessor", email="reviewer@example.com")
    member_client = app.test_client()
    with app.app_context():
        support.enable_totp(member_id)
        support.sign_in_directly(member_client, member_id, second_factor=True)
    helpers.sign_in_admin(app, client)
    response = _set_role(client, member_id, "assessor", follow_redirects=True)
    assert "reviewer@example.com is already an assessor." in helpers.flashes(response)
    assert member_client.get("/admin/assessments/").status_code == 200  # still signed in
    assert helpers.audit_entries(app, action="role_changed") == []


def test_a_tampered_role_is_refused_and_changes_nothing(app, client):
    from campus.accounts.models import UserSession
    from campus.extensions import db

    member_id = _member(app, email="reviewer@example.com")
    support.login(app.test_client(), "reviewer@example.com")
    helpers.sign_in_admin(app, client)
    for role in ("admin", "superuser", "", "student\n"):
        response = _set_role(client, member_id, role)
        assert response.status_code in (400, 422), (role, response.status_code)
    response = helpers.post(client, f"/admin/members/{member_id}/role", {})
    assert response.status_code in (400, 422)
    assert _role(app, member_id) == "student"
    assert helpers.audit_entries(app, action="role_changed") == []
    with app.app_context():
        sessions = db.session.scalars(
            select(UserSession).where(UserSession.user_id == member_id)
        ).all()
        assert sessions and all(s.revoked_at is None for s in sessions)


def test_an_assessor_cannot_change_roles(app, client):
    member_id = _member(app)
    assessor_id = _member(app, role="assessor")
    with app.app_context():
        support.enable_totp(assessor_id)
        support.sign_in_directly(client, assessor_id, second_factor=True)
    with client.session_transaction() as session:
        import time

        session["admin_confirmed_at"] = time.time()
    assert client.get(f"/admin/members/{member_id}/").status_code == 403
    response = _set_role(client, member_id, "assessor")
    assert response.status_code == 403
    assert _role(app, member_id) == "student"


def test_the_member_page_tells_an_expired_license_from_a_current_one(app, client):
    from datetime import timedelta

    from campus import dates
    from tests.licenses.helpers import add_license

    member_id = _member(app)
    with app.app_context():
        today = dates.today()
        add_license(member_id, "FL", "MA12345", expires_on=today - timedelta(days=400))
        add_license(member_id, "TX", "1234567", expires_on=today)
    helpers.sign_in_admin(app, client)
    page = " ".join(client.get(f"/admin/members/{member_id}/").text.split())
    gone = today - timedelta(days=400)
    assert f"MA12345, expired {gone:%B} {gone.day}, {gone.year}" in page
    assert f"1234567, expires {today:%B} {today.day}, {today.year}" in page

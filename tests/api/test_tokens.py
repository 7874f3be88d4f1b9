"""Personal API tokens: made on the security page, sent as Bearer, scoped, revocable, audited."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests import support
from tests.api.helpers import bearer, make_token, member_with_token
from tests.certificates.helpers import completed_student
from tests.learning.helpers import make_course


def _audit_actions(app) -> list[str]:
    from campus.audit import AuditEntry
    from campus.extensions import db

    with app.app_context():
        return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def _session_count(app) -> int:
    from campus.accounts.models import UserSession
    from campus.extensions import db

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(UserSession))


def test_a_member_makes_a_token_on_the_security_page_and_sees_it_once(app, client):
    with app.app_context():
        user_id = support.create_user(email="tokens@example.com").id
        support.sign_in_directly(client, user_id)
    page = client.get("/account/security")
    assert b'id="api-tokens"' in page.data
    response = support.post_form(
        client,
        "/account/security/tokens",
        {
            "name": "Clinic records",
            "scope": "read",
            "lifetime": "90",
            "password": support.DEFAULT_PASSWORD,
        },
    )
    assert response.status_code == 201
    raw = re.search(r'class="token-value">(campus_[\w-]+)<', response.get_data(as_text=True))
    assert raw is not None
    again = client.get("/account/security").get_data(as_text=True)
    assert "Clinic records" in again and raw.group(1) not in again  # shown once only
    from campus.accounts.tokens import ApiToken, hash_token
    from campus.extensions import db

    with app.app_context():
        stored = db.session.scalars(select(ApiToken)).one()
        assert stored.token_hash == hash_token(raw.group(1))
        assert raw.group(1) not in (stored.hint, stored.token_hash)
    assert "api_token_created" in _audit_actions(app)
    me = app.test_client().get("/api/v1/me", headers=bearer(raw.group(1)))
    assert me.status_code == 200
    assert me.get_json()["email"] == "tokens@example.com"


def test_a_token_without_a_name_is_refused_and_nothing_is_made(app, client):
    with app.app_context():
        support.sign_in_directly(client, support.create_user().id)
    response = support.post_form(
        client,
        "/account/security/tokens",
        {"name": " ", "scope": "read", "lifetime": "90", "password": support.DEFAULT_PASSWORD},
    )
    assert response.status_code == 422
    assert b"Give the token a name" in response.data
    assert "api_token_created" not in _audit_actions(app)


@pytest.mark.parametrize("name", ["\u200b", "\u0301", "\u200d \u200c", "\u00ad\u2060"])
def test_a_token_name_nobody_can_see_is_refused_and_nothing_is_made(app, client, name):
    with app.app_context():
        support.sign_in_directly(client, support.create_user().id)
    response = support.post_form(
        client,
        "/account/security/tokens",
        {"name": name, "scope": "read", "lifetime": "90", "password": support.DEFAULT_PASSWORD},
    )
    assert response.status_code == 422
    assert b"Give the token a name" in response.data
    assert "api_token_created" not in _audit_actions(app)


@pytest.mark.parametrize("name", ["Clinic\x1b[31m", "Clinic \u202eslr"])
def test_a_token_name_with_control_characters_is_refused(app, client, name):
    with app.app_context():
        support.sign_in_directly(client, support.create_user().id)
    response = support.post_form(
        client,
        "/account/security/tokens",
        {"name": name, "scope": "read", "lifetime": "90", "password": support.DEFAULT_PASSWORD},
    )
    assert response.status_code == 422
    assert b"control or text-direction character" in response.data
    assert "api_token_created" not in _audit_actions(app)


@pytest.mark.parametrize("password", ["", "not my password"])
def test_a_token_asked_for_without_the_password_is_refused_and_nothing_is_made(
    app, client, password
):
    # A token signs in as the member for up to good: someone at their unlocked screen must not
    # be able to take one away. A wrong password is logged as a failed sign-in is.
    with app.app_context():
        support.sign_in_directly(client, support.create_user().id)
    response = support.post_form(
        client,
        "/account/security/tokens",
        {"name": "Clinic records", "scope": "write", "lifetime": "never", "password": password},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert ("That is not your password." if password else "Enter your password.") in page
    assert 'id="token-password"' in page and 'class="token-value"' not in page
    actions = _audit_actions(app)
    assert "api_token_created" not in actions
    assert actions.count("api_token_refused") == (1 if password else 0)
    from campus.accounts.tokens import ApiToken
    from campus.extensions import db

    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0


def test_a_revoked_token_gets_401_at_once_and_the_revocation_is_audited(app, client):
    user_id, raw = member_with_token(app)
    with app.app_context():
        support.sign_in_directly(client, user_id)
    from campus.accounts.tokens import ApiToken
    from campus.extensions import db

    with app.app_context():
        token_id = db.session.scalars(select(ApiToken.id)).one()
    response = support.post_form(client, f"/account/security/tokens/{token_id}/revoke")
    assert response.status_code == 302
    refused = app.test_client().get("/api/v1/me", headers=bearer(raw))
    assert refused.status_code == 401
    assert refused.get_json()["error"]["code"] == "unauthorized"
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert "api_token_revoked" in _audit_actions(app)


def test_a_member_cannot_revoke_someone_elses_token(app, client):
    _owner_id, raw = member_with_token(app)
    with app.app_context():
        support.sign_in_directly(client, support.create_user().id)
    from campus.accounts.tokens import ApiToken
    from campus.extensions import db

    with app.app_context():
        token_id = db.session.scalars(select(ApiToken.id)).one()
    support.post_form(client, f"/account/security/tokens/{token_id}/revoke")
    assert app.test_client().get("/api/v1/me", headers=bearer(raw)).status_code == 200


def test_an_expired_or_unknown_token_gets_401(app):
    with app.app_context():
        user_id = support.create_user().id
        expired = make_token(user_id, expires_in=timedelta(seconds=-1))
    client = app.test_client()
    assert client.get("/api/v1/me", headers=bearer(expired)).status_code == 401
    assert client.get("/api/v1/me", headers=bearer("campus_nope")).status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Basic eDp5"}).status_code == 401


def test_a_disabled_members_token_stops_working(app):
    user_id, raw = member_with_token(app)
    from campus.accounts.models import User
    from campus.extensions import db
    from campus.models.base import utcnow

    with app.app_context():
        db.session.get(User, user_id).disabled_at = utcnow()
        db.session.commit()
    assert app.test_client().get("/api/v1/me", headers=bearer(raw)).status_code == 401


def test_a_token_does_not_come_back_when_a_disabled_account_is_enabled_again(app, client):
    from tests.admin import helpers as admin

    user_id, raw = member_with_token(app)
    admin_id = admin.sign_in_admin(app, client)
    admin.post(client, f"/admin/members/{user_id}/disable", {})
    admin.post(client, f"/admin/members/{user_id}/enable", {})
    # Like its sessions and emailed links, a token made before the disabling stays spent.
    assert app.test_client().get("/api/v1/me", headers=bearer(raw)).status_code == 401
    assert "api_tokens_revoked" in _audit_actions(app)
    from campus.audit import AuditEntry
    from campus.extensions import db

    with app.app_context():
        entry = db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "api_tokens_revoked")
        )
        # The admin who disabled the account revoked them, not an operator's command.
        assert entry.actor_id == admin_id and not entry.summary.startswith("cli:")


def test_a_read_only_token_cannot_write(app):
    _user_id, raw = member_with_token(app, "read")
    with app.app_context():
        make_course("token-course")
    response = app.test_client().post("/api/v1/courses/token-course/enroll", headers=bearer(raw))
    assert response.status_code == 403
    assert response.get_json()["error"]["message"] == "This API token may only read."


def test_a_read_write_token_writes_without_csrf_or_a_session(app):
    _user_id, raw = member_with_token(app, "write")
    with app.app_context():
        make_course("token-course")
    sessions_before = _session_count(app)
    response = app.test_client().post("/api/v1/courses/token-course/enroll", headers=bearer(raw))
    assert response.status_code == 201
    assert "Set-Cookie" not in response.headers
    assert _session_count(app) == sessions_before


def test_a_token_reads_enrollments_and_certificates_without_touching_a_session(app):
    student = completed_student(app)
    with app.app_context():
        raw = make_token(student.user_id)
    client = app.test_client()
    for path in ("/api/v1/me", "/api/v1/enrollments", "/api/v1/certificates"):
        response = client.get(path, headers=bearer(raw))
        assert response.status_code == 200, path
        assert "Set-Cookie" not in response.headers, path
    enrollments = client.get("/api/v1/enrollments", headers=bearer(raw)).get_json()
    assert enrollments["enrollments"][0]["status"] == "completed"
    certificates = client.get("/api/v1/certificates", headers=bearer(raw)).get_json()
    assert len(certificates["certificates"]) == 1
    assert _session_count(app) == 0


def test_a_token_does_not_sign_in_html_pages(app):
    _user_id, raw = member_with_token(app)
    response = app.test_client().get("/account/security", headers=bearer(raw))
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_tokens_work_when_rate_limits_are_off(_database):
    app = support.make_app(RATELIMIT_ENABLED=False, API_TOKEN_RATE_LIMIT="1 per minute")
    try:
        _user_id, raw = member_with_token(app)
        client = app.test_client()
        assert [client.get("/api/v1/me", headers=bearer(raw)).status_code for _ in range(3)] == [
            200
        ] * 3
    finally:
        support.clean_database(app)


def test_token_requests_are_rate_limited_per_token(_database):
    app = support.make_app(API_TOKEN_RATE_LIMIT="2 per minute")
    try:
        _user_id, raw = member_with_token(app)
        with app.app_context():
            other = make_token(_user_id, name="other")
        client = app.test_client()
        assert client.get("/api/v1/me", headers=bearer(raw)).status_code == 200
        assert client.get("/api/v1/me", headers=bearer(raw)).status_code == 200
        limited = client.get("/api/v1/me", headers=bearer(raw))
        assert limited.status_code == 429
        assert limited.get_json()["error"]["code"] == "rate_limited"
        assert int(limited.headers["Retry-After"]) >= 1
        assert client.get("/api/v1/me", headers=bearer(other)).status_code == 200
    finally:
        support.clean_database(app)


def test_a_read_only_token_gets_404_and_405_where_no_route_or_method_matches(app):
    _user_id, raw = member_with_token(app, "read")
    client = app.test_client()
    wrong_method = client.put("/api/v1/me", headers=bearer(raw))
    assert wrong_method.status_code == 405
    assert wrong_method.get_json()["error"]["code"] == "method_not_allowed"
    assert "GET" in wrong_method.headers["Allow"]
    no_route = client.post("/api/v1/nothing-here", headers=bearer(raw))
    assert no_route.status_code == 404
    assert no_route.get_json()["error"]["code"] == "not_found"


def test_with_a_second_factor_on_a_token_takes_a_code_as_well_as_the_password(app, client):
    # A token signs in without the second factor, for up to good: the password and a moment at
    # the member's signed-in browser must not be enough to take one away.
    from campus.accounts.tokens import ApiToken
    from campus.extensions import db

    with app.app_context():
        user_id = support.create_user(email="factor@example.com").id
        secret = support.enable_totp(user_id)
    support.login_with_code(client, "factor@example.com", support.totp_code(secret))
    form = {"name": "Clinic", "scope": "write", "lifetime": "never"}
    alone = {**form, "password": support.DEFAULT_PASSWORD}
    assert support.post_form(client, "/account/security/tokens", alone).status_code == 422
    wrong = {**alone, "code": "000000"}
    refused = support.post_form(client, "/account/security/tokens", wrong)
    assert refused.status_code == 422 and 'class="token-value"' not in refused.text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0
    assert "api_token_refused" in _audit_actions(app)
    right = {**alone, "code": support.totp_code(secret, steps=1)}
    assert support.post_form(client, "/account/security/tokens", right).status_code == 201

"""An admin previews draft courses, lessons and quizzes only with the admin's own standing.

As in /admin/: the role, a second factor on the account and a session that passed it. An admin
signed in with the password alone (or calling with an API token) sees what any member sees.
"""

from __future__ import annotations

import pytest

from tests import support
from tests.api.helpers import bearer, make_token
from tests.learning.helpers import make_course


def _admin(app, client, *, totp: bool = True, second_factor: bool = False) -> int:
    """Sign in an admin on the client; with a second factor passed or the password alone."""
    with app.app_context():
        user_id = support.create_user(role="admin").id
        if totp:
            support.enable_totp(user_id)
        support.sign_in_directly(client, user_id, second_factor=second_factor)
    return user_id


@pytest.fixture
def courses(app):
    with app.app_context():
        return make_course(), make_course("draft-course", published=False)


def _sees(client, courses, headers=None) -> dict[str, int]:
    """The statuses an admin gets of a draft course and of a published course's study pages."""
    published, draft = courses
    return {
        "draft_page": client.get(f"/courses/{draft.slug}").status_code,
        "draft_api": client.get(f"/api/v1/courses/{draft.slug}", headers=headers).status_code,
        "lesson": client.get(
            f"/courses/{published.slug}/lessons/{published.lesson_ids[0]}"
        ).status_code,
        "quiz": client.get(f"/courses/{published.slug}/quiz").status_code,
    }


@pytest.mark.parametrize("totp", [True, False], ids=["factor-on", "no-factor"])
def test_an_admin_signed_in_with_the_password_alone_sees_no_draft_nor_preview(
    app, client, courses, totp
):
    _admin(app, client, totp=totp, second_factor=False)
    # As a member not enrolled: drafts are not found, lessons and quiz send to the course.
    assert _sees(client, courses) == {
        "draft_page": 404,
        "draft_api": 404,
        "lesson": 302,
        "quiz": 302,
    }


def test_an_admins_api_token_sees_no_draft_course(app, client, courses):
    user_id = _admin(app, app.test_client(), second_factor=True)
    with app.app_context():
        raw = make_token(user_id)
    draft = courses[1]
    assert client.get(f"/api/v1/courses/{draft.slug}", headers=bearer(raw)).status_code == 404
    assert client.get("/api/v1/courses", headers=bearer(raw)).status_code == 200


def test_an_admin_past_the_second_factor_previews_drafts_lessons_and_quiz(app, client, courses):
    _admin(app, client, second_factor=True)
    assert _sees(client, courses) == {
        "draft_page": 200,
        "draft_api": 200,
        "lesson": 200,
        "quiz": 200,
    }

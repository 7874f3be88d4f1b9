"""What enrolling and studying tell a member held back by a payment: pending, or overdue."""

from __future__ import annotations

from datetime import timedelta

import pytest

from campus.models.base import utcnow
from tests import support
from tests.learning.helpers import enroll_directly, make_course, sign_in

_HELD = [
    ("incomplete", "Your first payment is pending", "Finish your payment"),
    ("past_due", "Your last payment did not go through", "Update your payment"),
    ("unpaid", "Your last payment did not go through", "Update your payment"),
]


def _member(status: str) -> int:
    """A user whose subscription has this status (a past-due one beyond its grace)."""
    user = support.create_user()
    since = utcnow() - timedelta(days=60) if status == "past_due" else None
    support.make_member(user.id, status, past_due_since=since)
    return user.id


@pytest.mark.parametrize(("status", "said", "step"), _HELD)
def test_enrolling_tells_a_held_back_member_about_their_payment(app, status, said, step):
    # "Enrolling in CE courses needs an active membership." told a member who had joined to join.
    from campus.accounts.models import User
    from campus.extensions import db
    from campus.learning.access import LearningError, check_can_enroll
    from campus.learning.models import Course

    with app.app_context(), app.test_request_context():
        course = db.session.get(Course, make_course().id)
        user = db.session.get(User, _member(status))
        with pytest.raises(LearningError) as refused:
            check_can_enroll(user, course)
    assert refused.value.status == 403 and refused.value.code == "membership_required"
    assert refused.value.message.startswith(f"{said}. {step} on the membership page")
    assert "needs an active membership" not in refused.value.message


@pytest.mark.parametrize(("status", "said", "step"), _HELD)
def test_studying_tells_a_held_back_member_about_their_payment(app, client, status, said, step):
    # "Your membership is not active ... renew" told a member whose card failed to renew.
    with app.app_context():
        course = make_course()
        user_id = _member(status)
        enroll_directly(user_id, course.id)
        slug = course.slug
    sign_in(client, user_id)
    response = client.get(f"/api/v1/courses/{slug}/quiz/attempt")
    assert response.status_code == 403
    error = response.get_json()["error"]
    assert error["code"] == "membership_lapsed"  # the code clients read stays as it was
    assert error["message"].startswith(f"{said}. {step} on the membership page")
    assert "Your progress is saved" in error["message"] and "renew" not in error["message"]


def test_an_ended_membership_is_still_asked_to_renew(app, client):
    with app.app_context():
        course = make_course()
        user_id = _member("canceled")
        enroll_directly(user_id, course.id)
        slug = course.slug
    sign_in(client, user_id)
    error = client.get(f"/api/v1/courses/{slug}/quiz/attempt").get_json()["error"]
    assert error["code"] == "membership_lapsed"
    assert "renew to pick up where you stopped" in error["message"]

"""What a course page tells a member held back by a payment: pending, or overdue."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from campus.models.base import utcnow
from tests import support
from tests.learning.helpers import enroll_directly, make_course, sign_in


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.mark.parametrize(
    ("status", "enrolled", "said", "button"),
    [
        ("incomplete", False, "Your first payment is pending", "Finish your payment"),
        ("past_due", False, "Your last payment did not go through", "Update your payment"),
        ("unpaid", False, "Your last payment did not go through", "Update your payment"),
        ("past_due", True, "Your last payment did not go through", "Update your payment"),
    ],
)
def test_a_member_held_back_by_a_payment_is_told_so_on_a_course(
    app, client, status, enrolled, said, button
):
    # "Become a member to enroll" told a member who had joined to join; the link led to the
    # membership page all the same, where the payment is finished or updated.
    with app.app_context():
        course = make_course()
        user = support.create_user()
        since = utcnow() - timedelta(days=60) if status == "past_due" else None
        support.make_member(user.id, status, past_due_since=since)
        if enrolled:
            enroll_directly(user.id, course.id)
        user_id, slug = user.id, course.slug
    sign_in(client, user_id)
    html = client.get(f"/courses/{slug}").text
    page = _text(html)
    assert said in page
    assert "Become a member" not in page and "Renew your membership" not in page
    assert re.search(rf'<a [^>]*href="/membership"[^>]*>\s*{button}\s*</a>', html)

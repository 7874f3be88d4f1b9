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


@pytest.mark.parametrize("status", ["canceled", "incomplete_expired"])
def test_a_member_whose_membership_ended_is_asked_to_renew_before_enrolling(app, client, status):
    # A former member who never enrolled was offered "Become a member to enroll", while the
    # article paywall tells them their membership has ended and offers to renew it.
    with app.app_context():
        course = make_course()
        user = support.create_user()
        support.make_member(user.id, status, current_period_end=utcnow() - timedelta(days=3))
        user_id, slug = user.id, course.slug
    sign_in(client, user_id)
    html = client.get(f"/courses/{slug}").text
    page = _text(html)
    assert "Your membership has ended" in page
    assert "Become a member" not in page and "Your progress is saved" not in page
    assert re.search(r'<a [^>]*href="/membership"[^>]*>\s*Renew your membership\s*</a>', html)


def test_a_never_member_is_still_asked_to_become_one(app, client):
    with app.app_context():
        course = make_course()
        user_id, slug = support.create_user().id, course.slug
    sign_in(client, user_id)
    page = _text(client.get(f"/courses/{slug}").text)
    assert "Become a member to enroll" in page and "has ended" not in page


@pytest.mark.parametrize("enrolled", [False, True])
def test_a_paused_member_is_not_told_their_membership_ended(app, client, enrolled):
    # Stripe pauses a subscription whose trial ended without a card to charge; the membership
    # page says so and offers to join again, while the course page and home said it had ended
    # (to a member who had enrolled: "Renew your membership to continue").
    with app.app_context():
        course = make_course()
        user = support.create_user()
        support.make_member(user.id, "paused", current_period_end=utcnow() + timedelta(days=20))
        if enrolled:
            enroll_directly(user.id, course.id)
        user_id, slug = user.id, course.slug
    sign_in(client, user_id)
    html = client.get(f"/courses/{slug}").text
    page = _text(html)
    assert "Your membership is paused" in page and "has ended" not in page
    assert "Become a member" not in page and "Renew" not in page
    assert ("Your progress is saved" in page) is enrolled
    assert re.search(r'<a [^>]*href="/membership"[^>]*>\s*Join again\s*</a>', html)
    home = _text(client.get("/").text)
    assert "Paused" in home and "Ended" not in home

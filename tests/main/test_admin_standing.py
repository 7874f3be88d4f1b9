"""Pages promise an admin full access and previews only when the admin's standing grants them.

An admin signed in with the password alone reads and studies as any member (acts_as_admin):
the membership card, the home page and the course page say what that member may do.
"""

from __future__ import annotations

import pytest

from tests import support
from tests.learning.helpers import make_course

FULL_ACCESS = ("Admins always have access", "Admins have full access")
PREVIEW = "Preview the lessons as an admin"


def _admin(app, client, *, second_factor: bool) -> None:
    """Sign in an admin (second factor on) with or without a session that passed it."""
    with app.app_context():
        user_id = support.create_user(role="admin").id
        support.enable_totp(user_id)
        support.sign_in_directly(client, user_id, second_factor=second_factor)


def _pages(client, slug: str) -> str:
    """The membership page, the home page and a course page, as one text."""
    return "".join(
        client.get(path).get_data(as_text=True) for path in ("/membership", "/", f"/courses/{slug}")
    )


@pytest.fixture
def course(app):
    with app.app_context():
        return make_course()


def test_an_admin_with_the_password_alone_is_not_promised_access_nor_previews(app, client, course):
    _admin(app, client, second_factor=False)
    text = _pages(client, course.slug)
    assert not any(claim in text for claim in FULL_ACCESS)
    assert PREVIEW not in text


def test_an_admin_past_the_second_factor_is_told_of_full_access_and_previews(app, client, course):
    _admin(app, client, second_factor=True)
    text = _pages(client, course.slug)
    assert all(claim in text for claim in FULL_ACCESS)
    assert PREVIEW in text

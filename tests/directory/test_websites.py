"""A practitioner's website: only an address a client can safely follow is saved and shown."""

from __future__ import annotations

import pytest

from campus.directory.services import profile_of
from campus.extensions import db
from tests.directory.helpers import make_profile, save_form

USERINFO = [
    "https://user@reyes-bodywork.example/",
    "https://a:b@reyes-bodywork.example",
    "https://@reyes-bodywork.example",
    # Without a scheme, what reads as the practice's own name is a user name on another host.
    "reyes-bodywork.example@evil.example",
]


@pytest.mark.parametrize("website", USERINFO)
def test_a_website_with_a_user_name_or_password_is_refused(app, client, member, website):
    # A link carrying credentials, or one whose visible start is not the host it opens, was
    # saved and shown as the practice's website.
    response = save_form(client, website=website)
    assert response.status_code == 422
    assert "without a user name or password" in response.text
    with app.app_context():
        assert profile_of(member) is None


def test_a_website_with_a_user_name_saved_before_is_not_shown(app, client):
    with app.app_context():
        profile = make_profile(website="https://reyes-bodywork.example")
        profile.website = "https://user@evil.example/"  # saved before it was refused
        db.session.commit()
        slug = profile.slug
    page = client.get(f"/directory/{slug}")
    assert page.status_code == 200
    assert "evil.example" not in page.text

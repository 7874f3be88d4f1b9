"""A refused contact message names every bad field at once, and keeps nothing."""

from __future__ import annotations

import re

from tests import support
from tests.directory.helpers import make_profile, message_fields


def _errors(html: str) -> list[str]:
    return re.findall(r'<p class="field-error">([^<]*)</p>', html)


def _send(app, client, **overrides):
    with app.app_context():
        profile = make_profile("10001", display_name="Pat Practitioner")
        profile_id, slug = profile.id, profile.slug
    client.get(f"/directory/{slug}")
    return support.post_form(
        client, f"/directory/{slug}/contact", message_fields(app, profile_id, **overrides)
    )


def test_a_message_with_three_mistakes_names_all_three(app, client):
    response = _send(app, client, name="\u200b\u200b", email="not-an-address", message="Hi")
    assert response.status_code == 422
    errors = _errors(response.text)
    assert any("your name" in e for e in errors)
    assert any("email address" in e for e in errors)
    assert any("a few words" in e for e in errors)


def test_a_field_the_form_refuses_does_not_hide_the_others_errors(app, client):
    response = _send(app, client, name="", email="not-an-address")
    assert response.status_code == 422
    errors = _errors(response.text)
    assert any("your name" in e for e in errors)
    assert any("email address" in e for e in errors)

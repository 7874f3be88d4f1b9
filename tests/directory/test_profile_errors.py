"""A refused profile save names every bad field at once, and changes nothing."""

from __future__ import annotations

import io
import re

from campus.directory import taxonomy
from tests.directory.helpers import save_form

TEN_SPECIALTIES = list(taxonomy.specialties())[:10]


def _errors(html: str) -> list[str]:
    return re.findall(r'<p class="field-error">([^<]*)</p>', html)


def test_every_bad_field_is_named_in_one_answer_and_nothing_is_saved(app, client, member):
    response = save_form(
        client,
        zip_code="00000",
        phone="12",
        website="https://[::1",
        specialties=TEN_SPECIALTIES,
    )
    assert response.status_code == 422
    errors = _errors(response.text)
    assert any("ZIP" in e for e in errors)
    assert any("phone number" in e for e in errors)
    assert any("website" in e for e in errors)
    assert any("at most 8 specialties" in e for e in errors)
    from campus.directory.services import profile_of

    with app.app_context():
        assert profile_of(member) is None


def test_a_field_the_form_refuses_does_not_hide_the_others_errors(app, client, member):
    """An empty name is refused by the form itself; the bad ZIP and phone are still named."""
    response = save_form(client, display_name="", zip_code="00000", phone="12")
    assert response.status_code == 422
    errors = _errors(response.text)
    assert any("name clients know you by" in e for e in errors)
    assert any("ZIP" in e for e in errors)
    assert any("phone number" in e for e in errors)


def test_a_bad_photo_and_a_bad_field_are_named_together(app, client, member):
    response = save_form(client, phone="12", photo=(io.BytesIO(b"not a photo at all"), "me.png"))
    assert response.status_code == 422
    errors = _errors(response.text)
    assert any("phone number" in e for e in errors)
    assert any("photo" in e for e in errors)


def test_the_first_bad_field_still_takes_the_focus(app, client, member):
    response = save_form(client, zip_code="00000", website="https://[::1")
    field = re.search(r"<input[^>]*autofocus[^>]*>", response.text)
    assert field is not None and 'name="zip_code"' in field.group(0)

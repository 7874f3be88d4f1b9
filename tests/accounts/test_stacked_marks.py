"""A name whose letters carry towers of accents is refused: pages stack them over other text."""

from __future__ import annotations

import pytest

from tests.accounts.test_signup import SIGNUP, _users
from tests.support import create_user, login, post_form

# Browsers stack combining marks (HarfBuzz mark-to-mark positioning): 30 acute accents on one
# letter rise over six lines above it, across the headings and names around it.
TOWER = "Ze" + "\u0301" * 30 + " Moss"
# Zero-width joiners between the marks do not break the stack.
JOINED_TOWER = "Ze" + "\u0301\u200d" * 10 + " Moss"


@pytest.mark.parametrize(
    "name",
    [
        "Nguye\u0302\u0303n Va\u0306n",  # Vietnamese typed decomposed: two marks a letter
        "\u05e9\u05c1\u05bc\u05b8\u05dc\u05d5\u05b9\u05dd",  # Hebrew: shin dot, dagesh, vowel
        "\u0645\u064f\u062d\u064e\u0645\u0651\u064e\u062f",  # Arabic with its short vowels
        "Zoe\u0301 Ri\u0301os",
    ],
)
def test_names_with_the_marks_their_languages_use_are_kept(name):
    from campus.accounts.rules import stacked_marks

    assert not stacked_marks(name)


@pytest.mark.parametrize("name", [TOWER, JOINED_TOWER, "e" + "\u0301\u0300\u0302\u0303\u0308"])
def test_a_tower_of_marks_on_one_letter_is_found(name):
    from campus.accounts.rules import stacked_marks

    assert stacked_marks(name)


@pytest.mark.parametrize("name", [TOWER, JOINED_TOWER])
def test_signup_refuses_a_name_with_a_tower_of_marks(app, client, name):
    response = post_form(client, "/signup", {**SIGNUP, "full_name": name})
    assert response.status_code == 422
    assert "more than 4 accents or other marks on one letter" in response.get_data(as_text=True)
    assert _users(app) == 0


def test_the_profile_refuses_a_name_with_a_tower_of_marks(app, client):
    from campus.accounts.models import User
    from campus.extensions import db

    with app.app_context():
        uid = create_user(email="lee@example.com", full_name="Lee Park").id
    login(client, "lee@example.com")
    r = post_form(client, "/account", {"full_name": TOWER, "profession": "massage_therapist"})
    assert r.status_code == 422
    assert "more than 4 accents or other marks on one letter" in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, uid).full_name == "Lee Park"


def test_a_client_writing_to_a_practitioner_with_such_a_name_is_told_why():
    from campus.directory.contact import message_problems

    errors = message_problems(TOWER, "client@example.com", "I would like an appointment.")
    assert errors == {"name": errors["name"]}
    assert "more than 4 accents or other marks on one letter" in errors["name"]

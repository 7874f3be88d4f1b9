from campus.accounts.models import User
from campus.extensions import db
from tests.support import create_user, login, post_form


def test_profile_edit_saves_the_certificate_fields(app, client):
    with app.app_context():
        uid = create_user(email="lee@example.com").id
    login(client, "lee@example.com")
    r = post_form(
        client,
        "/account",
        {
            "full_name": "Lee Park",
            "profession": "chiropractor",
        },
    )
    assert r.status_code == 302
    with app.app_context():
        user = db.session.get(User, uid)
        assert (user.full_name, user.profession) == ("Lee Park", "chiropractor")


def test_profile_requires_login(client):
    r = client.get("/account")
    assert r.status_code == 302
    assert "/login" in r.headers["Location"]


def test_me_api_answers_401_json_when_signed_out(client):
    r = client.get("/api/v1/me")
    assert r.status_code == 401
    assert r.get_json() == {
        "error": {"code": "unauthorized", "message": "Sign in to use this endpoint."}
    }


import pytest  # noqa: E402


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("full_name", "Lee \u202eKRAP"),
        ("full_name", "Lee\u2066 Park"),
        ("full_name", "Lee\x1bPark"),
        ("full_name", "Lee Park\u200f"),
    ],
)
def test_profile_refuses_hidden_direction_and_control_characters(app, client, field, value):
    with app.app_context():
        uid = create_user(email="lee@example.com", full_name="Lee Park").id
    login(client, "lee@example.com")
    form = {"full_name": "Lee Park", "profession": "chiropractor", field: value}
    r = post_form(client, "/account", form)
    assert r.status_code == 422
    assert "type it again as plain text" in r.get_data(as_text=True)
    with app.app_context():
        user = db.session.get(User, uid)
        assert (user.full_name, user.profession) == ("Lee Park", "massage_therapist")


def test_a_profile_change_is_logged_with_what_it_was(app, client):
    from tests.admin.helpers import audit_entries

    with app.app_context():
        uid = create_user(email="lee@example.com", full_name="Lee Parks").id
    login(client, "lee@example.com")
    form = {"full_name": "Lee Park", "profession": "chiropractor"}
    assert post_form(client, "/account", form).status_code == 302
    [entry] = audit_entries(app, action="profile_updated")
    assert (entry.object_type, entry.object_id, entry.actor_id) == ("User", str(uid), uid)
    assert entry.before == {"full_name": "Lee Parks", "profession": "massage_therapist"}
    assert entry.after == {"full_name": "Lee Park", "profession": "chiropractor"}
    assert "full_name" in entry.summary and "profession" in entry.summary
    # Saved again unchanged: no change, no entry.
    assert post_form(client, "/account", form).status_code == 302
    assert len(audit_entries(app, action="profile_updated")) == 1


@pytest.mark.parametrize("value", ["\u200b", "\u0301", "\u200d \u200c"])
def test_a_name_with_no_letter_is_refused_and_the_printed_name_stays(app, client, value):
    with app.app_context():
        uid = create_user(email="lee@example.com", full_name="Lee Park").id
    login(client, "lee@example.com")
    r = post_form(client, "/account", {"full_name": value, "profession": "massage_therapist"})
    assert r.status_code == 422 and "Enter your full name" in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, uid).full_name == "Lee Park"


def test_a_name_in_any_script_is_taken(app, client):
    with app.app_context():
        uid = create_user(email="lee@example.com", full_name="Lee Park").id
    login(client, "lee@example.com")
    name = "\u0645\u06cc\u200c\u0631\u0627 \u674e"  # a non-joiner inside Persian, and Chinese
    r = post_form(client, "/account", {"full_name": name, "profession": "massage_therapist"})
    assert r.status_code == 302
    with app.app_context():
        assert db.session.get(User, uid).full_name == name


@pytest.mark.parametrize(
    ("value", "shown"),
    [("\u092a\u094d\u0930\u093f\u092f\u093e", "\u092a"), ("Lee \U0001f338 Park", "\U0001f338")],
)
def test_a_name_certificates_would_print_as_empty_boxes_is_refused(app, client, value, shown):
    with app.app_context():
        uid = create_user(email="lee@example.com", full_name="Lee Park").id
    login(client, "lee@example.com")
    r = post_form(client, "/account", {"full_name": value, "profession": "massage_therapist"})
    assert r.status_code == 422
    assert f"Certificates cannot print {shown}" in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, uid).full_name == "Lee Park"


def test_a_name_longer_than_a_certificate_holds_once_composed_is_refused(app, client):
    # NFC writes U+FB2C as three characters: 100 typed passed the form's check, and the 300
    # stored were past the column (PostgreSQL refused the row: a 500).
    with app.app_context():
        uid = create_user(email="lee@example.com", full_name="Lee Park").id
    login(client, "lee@example.com")
    name = "\ufb2c" * 100
    r = post_form(client, "/account", {"full_name": name, "profession": "massage_therapist"})
    assert r.status_code == 422
    assert "at most 120 characters" in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, uid).full_name == "Lee Park"

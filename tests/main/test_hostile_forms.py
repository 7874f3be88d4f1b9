"""Page forms read text fields as text: a file or a JSON body in a field's place is refused."""

from __future__ import annotations

import io

import pytest
from flask_wtf import FlaskForm

from tests import support


def _all_subclasses(cls: type) -> set[type]:
    found = set(cls.__subclasses__())
    for sub in list(found):
        found |= _all_subclasses(sub)
    return found


def test_every_form_of_the_app_is_built_on_the_campus_form(app):
    from campus.forms import Form

    ours = {form for form in _all_subclasses(FlaskForm) if form.__module__.startswith("campus.")}
    assert len(ours) > 20  # every blueprint is imported by the app fixture
    assert sorted(f.__qualname__ for f in ours if not issubclass(f, Form)) == []


@pytest.mark.parametrize(
    ("path", "fields"),
    [
        ("/password/reset", {"email": "kim@example.com"}),
        ("/login", {"email": "kim@example.com", "password": "correct horse battery"}),
    ],
)
def test_a_file_sent_in_a_text_fields_place_is_refused(app, client, path, fields):
    with app.app_context():
        support.create_user(email="kim@example.com")
    for name in fields:
        data = {**fields, name: (io.BytesIO(fields[name].encode()), "field.txt")}
        response = client.post(
            path,
            data={"csrf_token": support.csrf_token(client, path), **data},
            content_type="multipart/form-data",
        )
        assert response.status_code == 422, (name, response.status_code)
    assert support.outbox(app) == []
    assert client.get("/api/v1/me").status_code == 401


@pytest.mark.parametrize("body", [[1, 2], "text", {"email": {"nested": 1}}, 7])
def test_a_json_body_posted_to_a_page_form_is_refused(app, client, body):
    token = support.csrf_token(client, "/login")
    response = client.post("/login", json=body, headers={"X-CSRFToken": token})
    assert response.status_code == 422
    assert "Email" in response.get_data(as_text=True)  # the form again, asking for its fields


@pytest.mark.parametrize(
    "path", ["/courses/neck%00", "/programs/%00", "/directory/a%00b", "/api/v1/courses/x%00"]
)
def test_a_nul_byte_in_a_path_finds_no_page(client, path):
    assert client.get(path).status_code == 404


def _statements_with_nul(app):
    """Collect the parameters of every statement that carries a NUL byte to the database."""
    from sqlalchemy import event

    from campus.extensions import db

    seen: list = []

    def spy(_conn, _cursor, _statement, parameters, *_args) -> None:
        values = parameters.values() if isinstance(parameters, dict) else parameters or ()
        seen.extend(v for v in values if isinstance(v, str) and "\x00" in v)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", spy)
    return seen, lambda: event.remove(engine, "before_cursor_execute", spy)


def test_a_nul_byte_in_a_practical_upload_path_reaches_no_query(app, client):
    # PostgreSQL refuses text holding a NUL: the query that sizes the upload's allowance
    # answered a signed-in candidate's "/programs/a%00b/practical" with a 500.
    with app.app_context():
        support.sign_in_directly(client, support.create_user().id)
    token = support.csrf_token(client)
    seen, stop = _statements_with_nul(app)
    try:
        response = client.post("/programs/a%00b/practical", data={"csrf_token": token})
    finally:
        stop()
    assert response.status_code == 404
    assert seen == []


@pytest.mark.parametrize(
    "path", ["/articles/?q=neck%00", "/courses/?q=%00", "/admin/?a%00=1", "/?page=1%00"]
)
def test_a_nul_byte_in_a_query_string_is_dropped_before_any_view_reads_it(app, path):
    from flask import request

    with app.test_request_context(path):
        assert all(
            "\x00" not in key and "\x00" not in value
            for key, value in request.args.items(multi=True)
        )
    assert app.test_client().get(path).status_code in (200, 302)


def test_a_nul_byte_in_a_form_field_is_dropped_like_other_control_characters(app, client):
    from sqlalchemy import select

    from campus.accounts.models import User
    from campus.extensions import db

    response = support.post_form(
        client,
        "/signup",
        {
            "full_name": "Robin\x00 Lee",
            "email": "robin\x00@example.com",
            "password": "a sturdy passphrase",
            "profession": "massage_therapist",
        },
    )
    assert "Check your email" in response.get_data(as_text=True)
    with app.app_context():
        user = db.session.scalar(select(User))
        assert (user.full_name, user.email) == ("Robin Lee", "robin@example.com")


@pytest.mark.parametrize("text", ['{"q": "\\u0000"}', '{"q": "a\\\\\\u0000"}'])
def test_a_nul_character_in_a_json_body_is_a_400(client, text):
    token = support.csrf_token(client, "/login")
    response = client.post(
        "/api/v1/me", data=text, content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert response.status_code == 400
    assert "NUL" in response.get_json()["error"]["message"]

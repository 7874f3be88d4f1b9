"""HTTP behaviour of the API: 401 before CSRF, CSRF for sessions, HEAD, OPTIONS and 405."""

from __future__ import annotations

from tests import support


def test_an_anonymous_api_write_gets_401_json_not_a_form_message(client):
    response = client.post("/api/v1/courses/any/enroll", json={})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"
    assert "form expired" not in response.get_data(as_text=True)


def test_a_signed_in_api_write_without_the_csrf_header_is_still_refused(app, client):
    with app.app_context():
        support.sign_in_directly(client, support.create_user().id)
    response = client.post("/api/v1/courses/any/enroll", json={})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"


def test_a_signed_in_api_write_with_the_csrf_header_reaches_the_view(app, client):
    with app.app_context():
        support.sign_in_directly(client, support.create_user().id)
    token = support.csrf_token(client, "/account/security")
    response = client.post("/api/v1/courses/any/enroll", headers={"X-CSRFToken": token})
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_head_answers_like_get_without_a_body(client):
    for path in ("/api/v1/courses", "/api/v1/openapi.json", "/courses/", "/"):
        get = client.get(path)
        head = client.head(path)
        assert head.status_code == get.status_code == 200, path
        assert head.data == b"", path
        assert head.headers["Content-Type"] == get.headers["Content-Type"], path


def test_options_answers_with_the_allowed_methods(client):
    for path, method in (
        ("/api/v1/courses", "GET"),
        ("/api/v1/courses/any/enroll", "POST"),
        ("/api/v1/me", "GET"),
        ("/login", "POST"),
    ):
        response = client.options(path)
        assert response.status_code in (200, 204), path
        allowed = {m.strip() for m in response.headers["Allow"].split(",")}
        assert {method, "OPTIONS"} <= allowed, path


def test_a_405_names_the_methods_that_work_in_html_and_json(client):
    api = client.delete("/api/v1/me")
    assert api.status_code == 405
    assert api.get_json()["error"]["code"] == "method_not_allowed"
    assert "GET" in api.headers["Allow"]
    page = client.put("/login")
    assert page.status_code == 405
    assert "POST" in page.headers["Allow"]


def test_a_body_that_is_not_json_gets_415_and_the_document_says_so(app, client):
    with app.app_context():
        support.sign_in_directly(client, support.create_user().id)
    token = support.csrf_token(client, "/account/security")
    path = "/api/v1/courses/any/quiz/attempts"
    for body, kind in (("answers=1", "application/x-www-form-urlencoded"), ("{}", "text/plain")):
        response = client.post(
            path, data=body, headers={"X-CSRFToken": token, "Content-Type": kind}
        )
        assert response.status_code == 415
        error = response.get_json()["error"]
        assert error["code"] == "unsupported_media_type" and "JSON" in error["message"]
    # A JSON body goes on to the view: here, a course that does not exist.
    answered = client.post(
        path,
        json={"answers": [{"question_id": 1, "choice_ids": [1]}]},
        headers={"X-CSRFToken": token},
    )
    assert answered.status_code == 404
    document = client.get("/api/v1/openapi.json").get_json()
    responses = document["paths"]["/api/v1/courses/{slug}/quiz/attempts"]["post"]["responses"]
    assert "415" in responses
    assert "415" not in document["paths"]["/api/v1/courses/{slug}/enroll"]["post"]["responses"]


def test_every_401_names_the_bearer_scheme_as_the_token_refusal_does(client):
    # RFC 9110 15.5.2: a 401 carries WWW-Authenticate; clients (requests-oauthlib, httpx auth
    # flows, generated SDKs) read it to know the endpoint wants a token, not a retry.
    refusals = [
        client.get("/api/v1/me"),  # login_required
        client.get("/api/v1/certificates"),  # the view's own abort(401)
        client.get("/api/v1/enrollments"),  # a learning rule
        client.post("/api/v1/courses/any/enroll", json={}),  # refused before the view
        client.get("/api/v1/me", headers={"Authorization": "Bearer campus_unknown"}),
    ]
    for response in refusals:
        assert response.status_code == 401, response.request.path
        assert response.headers.get("WWW-Authenticate") == 'Bearer realm="campus"', (
            response.request.path
        )


def test_an_answer_that_depends_on_the_token_says_so_to_caches(app, client):
    from tests.api.helpers import bearer, member_with_token

    _user_id, raw = member_with_token(app)
    for path in ("/api/v1/articles", "/api/v1/courses", "/api/v1/me"):
        # Without Vary: Authorization a cache could answer a member's token request with the
        # anonymous answer it stored (a teaser for a members' article, a 401 for /me).
        for response in (client.get(path), app.test_client().get(path, headers=bearer(raw))):
            assert "Authorization" in response.vary, path


def _rules(app, prefix: str = "") -> list[str]:
    """One address for every rule of the URL map (made-up values in its parameters)."""
    import re

    return sorted(
        {
            re.sub(r"<int[:(][^>]+>", "1", re.sub(r"<(?!int[:(])[^>]+>", "any", rule.rule))
            for rule in app.url_map.iter_rules()
            if rule.rule.startswith(prefix) and "OPTIONS" in rule.methods
        }
    )


def test_options_answers_204_with_allow_and_no_content_on_every_route(app, client):
    # An empty 200 typed text/html told an API client it had been sent a page (and a JSON
    # client tried to parse nothing); there is no content, so there is no type.
    for path in _rules(app):
        response = client.options(path)
        assert response.status_code == 204, path
        assert "Content-Type" not in response.headers, path
        assert response.data == b"", path
        assert "OPTIONS" in response.headers["Allow"], path


def test_a_validation_error_says_what_is_wrong_in_plain_words(app, client):
    # The message is for a person (the document says so), as every other error's is: Werkzeug's
    # stock sentence for a 422 speaks of "semantic errors" to a developer.
    from werkzeug.exceptions import UnprocessableEntity

    for url in ("/api/v1/courses?page=x", "/api/v1/articles?per_page=99"):
        error = client.get(url).get_json()["error"]
        assert error["code"] == "validation_error", url
        assert error["message"] != UnprocessableEntity.description, url
        assert "details" in error["message"], url

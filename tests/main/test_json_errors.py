"""One JSON error shape everywhere: the API, the webhooks and the sign-in refusal."""

from __future__ import annotations

from campus.errors import json_error


def test_json_error_carries_code_message_details_and_facts(app):
    with app.test_request_context():
        response = json_error(
            "validation_error", "Fix these.", 422, {"email": ["Required."]}, retry_at="soon"
        )
    assert response.status_code == 422
    assert response.get_json() == {
        "error": {
            "code": "validation_error",
            "message": "Fix these.",
            "details": {"email": ["Required."]},
            "retry_at": "soon",
        }
    }


def test_an_api_405_names_the_methods_that_work(client):
    response = client.get("/api/v1/courses/any-course/enroll")
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "method_not_allowed"
    assert "POST" in response.headers["Allow"]


def test_signed_out_api_call_gets_the_same_json_error(client):
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.get_json() == {
        "error": {"code": "unauthorized", "message": "Sign in to use this endpoint."}
    }


def test_sign_in_while_the_rate_limit_store_is_down_is_a_503_to_try_again(_database):
    """The limits cannot be counted: refused as unavailable for now, not as our fault."""
    from campus.extensions import limiter
    from tests import support

    kept = (limiter._storage, limiter._limiter)
    # Nothing listens on port 1: every Redis call is refused at once.
    app = support.make_app(RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/12")
    try:
        client = app.test_client()
        page = support.post_form(
            client, "/login", {"email": "someone@example.com", "password": "a guess"}
        )
        assert page.status_code == 503
        assert "briefly unavailable" in page.get_data(as_text=True)
        assert page.headers["Retry-After"]
    finally:
        limiter._storage, limiter._limiter = kept
        support.clean_database(app)

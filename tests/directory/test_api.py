"""GET /api/v1/directory: the page's search as JSON, documented, with clear errors."""

from __future__ import annotations

import pytest

from tests.directory.helpers import make_profile


def test_the_api_lists_practitioners_nearest_first_with_distances(app, client):
    with app.app_context():
        hoboken = make_profile("07030").slug
        chelsea = make_profile("10001").slug
        make_profile("90401")
    body = client.get(
        "/api/v1/directory?zip=10001&radius_miles=10&specialty=trigger-point-therapy"
    ).get_json()
    assert [item["slug"] for item in body["items"]] == [chelsea, hoboken]
    assert body["items"][0]["distance_miles"] == 0.0
    assert 1.0 < body["items"][1]["distance_miles"] < 3.0
    assert body["centre"] == {"zip": "10001", "city": "New York", "state": "NY"}
    assert body["total"] == 2 and body["pages"] == 1
    assert body["items"][0]["url"].endswith(f"/directory/{chelsea}")


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("", 422),
        ("zip=00000", 422),
        ("zip=abcde", 422),
        ("zip=10001&radius_miles=0", 422),
        ("zip=10001&radius_miles=9999", 422),
        ("zip=10001&radius_miles=1_0", 422),
        ("zip=10001&radius_miles=%D9%A3", 422),
        ("zip=10001&radius_miles=nan", 422),
        ("zip=10001&specialty=nope", 422),
    ],
)
def test_bad_queries_get_a_json_error(client, query, status):
    response = client.get(f"/api/v1/directory?{query}")
    assert response.status_code == status
    assert set(response.get_json()["error"]) >= {"code", "message"}


def test_the_endpoint_is_in_the_openapi_document(client):
    document = client.get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/api/v1/directory"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert {"zip", "radius_miles", "specialty"} <= names
    assert "422" in operation["responses"]


def test_the_api_filters_by_a_credential_as_the_page_does(app, client):
    from campus.extensions import db
    from tests import support
    from tests.programs.helpers import make_credential, make_program

    with app.app_context():
        program = make_program(slug="certified-tpt", title="Certified Trigger Point Therapist")
        program.published = True
        db.session.commit()
        holder = support.create_user(full_name="Holder One")
        make_credential(holder.id, program)
        holder_slug = make_profile("10001", user=holder).slug
        other_slug = make_profile("10001").slug
    page = client.get("/directory/?zip=10001&credential=certified-tpt").text
    assert holder_slug in page and other_slug not in page
    body = client.get("/api/v1/directory?zip=10001&credential=certified-tpt").get_json()
    assert [item["slug"] for item in body["items"]] == [holder_slug]
    assert body["total"] == 1
    unknown = client.get("/api/v1/directory?zip=10001&credential=no-such-program")
    assert unknown.status_code == 422


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("zip=1234", "zip"),  # refused by the parameter's schema
        ("zip=abcde", "zip"),  # refused by the search: the same shape
        ("zip=00000", "zip"),
        ("zip=10001&credential=no-such-program", "credential"),
    ],
)
def test_every_refused_search_names_the_parameter_it_refused(client, query, field):
    error = client.get(f"/api/v1/directory?{query}").get_json()["error"]
    assert error["code"] == "validation_error"
    assert list(error["details"]["query"]) == [field]
    assert error["details"]["query"][field]


def test_an_empty_filter_searches_without_it_as_the_page_and_the_courses_api_do(app, client):
    with app.app_context():
        slug = make_profile("10001").slug
    # The page's own form sends "any specialty" as specialty=, and so do clients built on it.
    body = client.get("/api/v1/directory?zip=10001&specialty=&profession=&credential=")
    assert body.status_code == 200
    assert [item["slug"] for item in body.get_json()["items"]] == [slug]
    assert client.get("/api/v1/courses?profession=").status_code == 200

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

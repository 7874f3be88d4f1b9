"""A token's call while the rate-limit storage is down: a 503 the document describes."""

from __future__ import annotations

import pytest
from limits.errors import StorageError

from tests.api.helpers import bearer, member_with_token


@pytest.fixture
def storage_down(app, monkeypatch):
    from campus.extensions import limiter

    def unreachable(*_args, **_kwargs):
        raise StorageError(ConnectionError("Connection refused"))

    monkeypatch.setattr(limiter.limiter, "hit", unreachable)


def test_a_token_call_without_its_limit_storage_is_a_503_with_retry_after(
    app, client, storage_down
):
    _user_id, raw = member_with_token(app)
    response = client.get("/api/v1/me", headers=bearer(raw))
    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    assert response.get_json()["error"]["code"] == "unavailable"


def test_every_operation_documents_the_503_and_the_retry_after_header(client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert (
        "unavailable"
        in document["components"]["schemas"]["ErrorBody"]["properties"]["code"]["description"]
    )
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            responses = operation["responses"]
            assert "503" in responses, (method, path)
            body = responses["503"]["content"]["application/json"]["schema"]
            assert body == {"$ref": "#/components/schemas/Error"}, (method, path)
            for status in ("429", "503"):
                assert "Retry-After" in responses[status].get("headers", {}), (method, path, status)

"""The API's OpenAPI document tells the truth about errors and authentication.

Every error the server sends has one body, campus.errors.json_error's
`{"error": {"code", "message", "details"?, ...}}`; flask-smorest's own error schema
(`{code, status, message, errors}`) is replaced by it everywhere, and each operation lists the
error statuses it can answer, so a generated client knows them all:

- every operation: 400 (malformed input), 401 (a bad, revoked or expired token, or no sign-in
  where one is needed), 429 (the token's rate limit) and 503 (the limit's storage unreachable:
  a token's call that cannot be counted is refused, not let through);
- writes: 403 (a read-only token) and 413 (a JSON body past JSON_MAX_BYTES, any body past
  MAX_CONTENT_LENGTH);
- operations with path parameters: 404; with query parameters or a body: 422 (a path value
  that fits no route is a 404).

Authentication is declared too: a personal token (`Authorization: Bearer`) or the browser
session cookie, or nothing for the public reads.
"""

from __future__ import annotations

from typing import Any

from apispec import BasePlugin
from flask import Response, current_app, json
from flask_smorest import Api
from marshmallow import INCLUDE, Schema, fields

from campus.urls import public_base_url

WRITE_METHODS = frozenset({"post", "put", "patch", "delete"})
# An operation's own requirement where a caller must be signed in: the document-wide one also
# allows nobody (for the public reads), which would tell clients these answer anonymously.
SIGNED_IN: list[dict[str, list[str]]] = [{"bearerAuth": []}, {"sessionCookie": []}]


class ResponseSchema(Schema):
    """The body of a successful answer: the document declares each of its fields required.

    Every field is sent in every answer (null where the field allows it), except those a
    schema names in SOMETIMES: a client generated from the document can rely on the rest.
    """

    SOMETIMES: frozenset[str] = frozenset()

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        """Declare the field required unless the answer carries it only sometimes."""
        # Required is read only when loading; answers are dumped, so this changes the document
        # alone (apispec reads the bound fields of a schema instance).
        field_obj.required = field_name not in self.SOMETIMES


class ErrorBodySchema(Schema):
    """What went wrong, for people (message) and programs (code)."""

    class Meta:
        unknown = INCLUDE  # facts a client acts on, e.g. retry_at

    code = fields.String(
        required=True,
        metadata={
            "description": "bad_request, unauthorized, forbidden, not_found, "
            "method_not_allowed, conflict, too_large, unsupported_media_type, validation_error, "
            "rate_limited, unavailable, or a "
            "rule's own code such as already_enrolled"
        },
    )
    message = fields.String(required=True, metadata={"description": "Safe to show a person"})
    details = fields.Raw(
        metadata={
            "description": "Per-field messages of a validation error, by location: "
            '{"json": {"answers": ["..."]}} or {"query": {"page": ["..."]}}'
        }
    )


class ErrorSchema(Schema):
    """The body of every error answer."""

    error = fields.Nested(ErrorBodySchema, required=True)


def _with_cookie_name(document: dict[str, Any], name: str) -> dict[str, Any]:
    """Name the session cookie as this app sets it (production prefixes it with __Host-)."""
    components = document.get("components", {})
    schemes = components.get("securitySchemes", {})
    if "sessionCookie" not in schemes:
        return document
    cookie = {**schemes["sessionCookie"], "name": name}
    schemes = {**schemes, "sessionCookie": cookie}
    return {**document, "components": {**components, "securitySchemes": schemes}}


def null_only(self, field: fields.Field, ret: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
    """Let a nullable object's null branch take null alone (an apispec attribute function)."""
    # OpenAPI 3.0 has no null type: apispec writes a nullable nested schema as anyOf [that
    # schema, {"type": "object", "nullable": true}], whose second branch takes an object of any
    # shape, so the document let a quiz without its fields pass for a quiz.
    branches = ret.get("anyOf")
    if not field.allow_none or not isinstance(branches, list):
        return {}
    null = {"type": "object", "nullable": True}
    return {"anyOf": [{**b, "enum": [None]} if b == null else b for b in branches]}


class CampusApi(Api):
    """flask-smorest's Api with the error body the server really sends."""

    ERROR_SCHEMA = ErrorSchema

    def _init_spec(self, **kwargs: Any) -> None:
        """Build the document's spec, with nullable objects that are null or whole."""
        super()._init_spec(**kwargs)
        self.ma_plugin.converter.add_attribute_function(null_only)

    def _openapi_json(self) -> Response:
        """Serve the document with the site's public address as its server."""
        document = self.spec.to_dict()
        if current_app.config.get("PUBLIC_BASE_URL"):
            # Without it a client resolves the paths against the host's root ("/"), which
            # misses a site served under a path prefix (learn.example.org/campus/).
            document = {**document, "servers": [{"url": public_base_url()}]}
        document = _with_cookie_name(document, current_app.config["SESSION_COOKIE_NAME"])
        return current_app.response_class(
            json.dumps(document, indent=2, sort_keys=False), mimetype="application/json"
        )


# What each added status means on this API (operations may document their own instead).
DESCRIPTIONS = {
    400: "Malformed input, a JSON body nested too deeply, or a session write without CSRF token",
    401: "No sign-in or token where one is needed, or an unknown, revoked or expired token",
    403: "A read-only token may not write",
    404: "No such object (also any path number outside the ids, 1 to 2^31-1)",
    413: "The JSON body is too large, or any body is past the site's limit",
    415: "The body is not JSON (Content-Type: application/json)",
    422: "Parameters or body do not fit the schema; details say which",
    429: "Too many requests for this token (API_TOKEN_RATE_LIMIT); see Retry-After",
    503: "Briefly unavailable (a token's call cannot be counted against its limit); see "
    "Retry-After",
}

# The statuses that say when to try again, in a header an HTTP client backs off by.
RETRY_AFTER = {
    "description": "Seconds to wait before trying again",
    "schema": {"type": "integer", "minimum": 1},
}


def _error_statuses(path: str, method: str, operation: dict[str, Any]) -> list[int]:
    codes = [400, 401, 429, 503]
    if method in WRITE_METHODS:
        codes += [403, 413]
    if "{" in path:
        codes.append(404)
    if operation.get("requestBody"):
        codes.append(415)
    # Path values are never validated: one that fits no route is a 404 (a 422 cannot happen).
    if operation.get("parameters") or operation.get("requestBody"):
        codes.append(422)
    return codes


def _error_response(code: int) -> dict[str, Any]:
    return {
        "description": DESCRIPTIONS[code],
        # `Error` is always in the document: every operation's default response uses it.
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


class ErrorResponsesPlugin(BasePlugin):
    """Declare the authentication schemes and every operation's error answers."""

    def init_spec(self, spec) -> None:
        """Register the bearer token and the session cookie as the API's security schemes."""
        super().init_spec(spec)
        spec.components.security_scheme(
            "bearerAuth",
            {
                "type": "http",
                "scheme": "bearer",
                "description": "A personal API token from /account/security (campus_...). "
                "Read-only tokens may not write (403).",
            },
        )
        spec.components.security_scheme(
            "sessionCookie",
            {
                "type": "apiKey",
                "in": "cookie",
                "name": "session",
                "description": "The browser session; writes also need the X-CSRFToken header.",
            },
        )
        # Public reads need neither: the empty requirement makes authentication optional.
        spec.options.setdefault("security", [{"bearerAuth": []}, {"sessionCookie": []}, {}])

    def operation_helper(self, path=None, operations=None, **kwargs) -> None:
        """Add the error statuses each operation can answer (explicit ones are kept)."""
        for method, operation in (operations or {}).items():
            if not isinstance(operation, dict):
                continue
            responses = operation.setdefault("responses", {})
            for code in _error_statuses(path or "", method, operation):
                if str(code) not in responses and code not in responses:
                    responses[str(code)] = _error_response(code)
            for code in (429, 503):  # an operation's own keys may be numbers
                answer = responses.get(str(code), responses.get(code))
                if isinstance(answer, dict):
                    answer.setdefault("headers", {}).setdefault("Retry-After", dict(RETRY_AFTER))

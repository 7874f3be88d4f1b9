"""The API's OpenAPI document tells the truth about errors and authentication.

Every error the server sends has one body, campus.errors.json_error's
`{"error": {"code", "message", "details"?, ...}}`; flask-smorest's own error schema
(`{code, status, message, errors}`) is replaced by it everywhere, and each operation lists the
error statuses it can answer, so a generated client knows them all:

- every operation: 400 (malformed input), 401 (a bad, revoked or expired token, or no sign-in
  where one is needed) and 429 (the token's rate limit);
- writes: 403 (a read-only token) and 413 (a JSON body past JSON_MAX_BYTES);
- operations with path parameters: 404; with parameters or a body: 422.

Authentication is declared too: a personal token (`Authorization: Bearer`) or the browser
session cookie, or nothing for the public reads.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from apispec import BasePlugin
from flask_smorest import Api
from marshmallow import INCLUDE, Schema, fields

WRITE_METHODS = frozenset({"post", "put", "patch", "delete"})


class ErrorBodySchema(Schema):
    """What went wrong, for people (message) and programs (code)."""

    class Meta:
        unknown = INCLUDE  # facts a client acts on, e.g. retry_at

    code = fields.String(
        required=True,
        metadata={
            "description": "bad_request, unauthorized, forbidden, not_found, "
            "method_not_allowed, conflict, too_large, validation_error, rate_limited, or a "
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


class CampusApi(Api):
    """flask-smorest's Api with the error body the server really sends."""

    ERROR_SCHEMA = ErrorSchema


def _error_statuses(path: str, method: str, operation: dict[str, Any]) -> dict[str, str]:
    codes = [400, 401, 429]
    if method in WRITE_METHODS:
        codes += [403, 413]
    if "{" in path:
        codes.append(404)
    if operation.get("parameters") or operation.get("requestBody") or "{" in path:
        codes.append(422)
    # flask-smorest registers one response component per status, named as HTTPStatus names it.
    return {str(code): HTTPStatus(code).name for code in codes}


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
            for status, name in _error_statuses(path or "", method, operation).items():
                if status not in responses and int(status) not in responses:
                    responses[status] = name

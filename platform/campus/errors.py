"""Error pages for browsers and JSON errors for the API and webhooks."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from campus.accounts.access import wants_json

log = logging.getLogger(__name__)

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}
TITLES = {
    400: "That request could not be understood",
    401: "Please sign in",
    403: "This page is not open to you",
    404: "We could not find that page",
    405: "That action is not allowed here",
    409: "That conflicts with what is already there",
    413: "That upload is too large",
    422: "Some of what you sent needs fixing",
    429: "Too many attempts",
    500: "Something went wrong on our side",
    503: "Campus is briefly unavailable",
}


def json_error(status: int, message: str, code: str | None = None, **extra):
    """Build the API's error body {"error": {"code", "message"}} with a status."""
    body = {"error": {"code": code or CODES.get(status, "error"), "message": message, **extra}}
    return jsonify(body), status


def _message(exc: HTTPException) -> str:
    if isinstance(exc, CSRFError):
        return "The form expired or was sent from elsewhere. Reload the page and try again."
    if exc.code == 429:
        return f"You tried that too many times. Try again in {_retry_after()}."
    return exc.description or TITLES.get(exc.code or 500, "Error")


def _retry_after() -> str:
    """Say how long until the limit that was hit lets the next request through."""
    import time

    from campus.extensions import limiter

    current = limiter.current_limit
    seconds = max(1, int(current.reset_at - time.time())) if current else 60
    if seconds < 90:
        return f"{seconds} seconds"
    minutes = -(-seconds // 60)
    return f"{minutes} minutes" if minutes < 90 else f"{-(-minutes // 60)} hours"


def handle_http_exception(exc: HTTPException):
    """Render an HTTP error as JSON or as an error page, keeping its status."""
    status = exc.code or 500
    message = _message(exc)
    if wants_json():
        extra = {}
        data = getattr(exc, "data", None)
        if isinstance(data, dict) and data.get("messages"):
            extra["details"] = data["messages"]
        response = json_error(status, message, **extra)
    else:
        title = TITLES.get(status, "Error")
        response = (
            render_template("errors/error.html", status=status, title=title, message=message),
            status,
        )
    return response


def handle_unexpected(exc: Exception):
    """Log an unexpected failure and show a calm 500 page."""
    log.exception("unhandled error", exc_info=exc)
    return handle_http_exception(InternalServerError())


def register_errors(app: Flask) -> None:
    """Install the error handlers (after the API's, so these win)."""
    app.register_error_handler(HTTPException, handle_http_exception)
    if not app.testing:
        app.register_error_handler(Exception, handle_unexpected)

"""Error pages for browsers and JSON errors for the API and webhooks."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, current_app, jsonify, render_template
from flask_wtf.csrf import CSRFError
from limits.errors import StorageError as LimitStorageError
from werkzeug.exceptions import (
    BadHost,
    HTTPException,
    InternalServerError,
    RequestEntityTooLarge,
    SecurityError,
    ServiceUnavailable,
)
from werkzeug.wrappers import Response

from campus.accounts.access import wants_json
from campus.storage import StorageError
from campus.urls import requested_path

log = logging.getLogger(__name__)

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    416: "range_not_satisfiable",
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
    413: "That request is too large",
    415: "That kind of content is not taken here",
    416: "That part of the file does not exist",
    422: "Some of what you sent needs fixing",
    429: "Too many attempts",
    500: "Something went wrong on our side",
    503: "Campus is briefly unavailable",
}


def json_error(
    code: str, message: str, status: int, details: Any = None, **fields: Any
) -> Response:
    """Build the JSON error answer {"error": {"code", "message", ...}} with its status.

    The one shape of every JSON error (API, webhooks, sign-in required): `details` carries a
    validation's per-field messages, `fields` any other facts a client acts on (`retry_at`).
    """
    error: dict[str, Any] = {"code": code, "message": message, **fields}
    if details is not None:
        error["details"] = details
    response = jsonify(error=error)
    response.status_code = status
    return response


# What an error page says under its title when the view gave no reason of its own (in place of
# Werkzeug's stock sentences, which speak to developers: "If you entered the URL manually...").
PLAIN = {
    400: "Something in the address or the form was not what this page expects. Go back and try "
    "again.",
    403: "Your account does not give you access to this page.",
    404: "There is no page at this address. It may have moved, or the link may have a typo; "
    "the links above lead to everything on Campus.",
    405: "This page does not take that kind of request. Go back and use the page's own buttons.",
    500: "The error was logged for us to look into. Try again in a moment.",
}

# The same for a JSON caller, who reads them in a program's error message, not on a page.
PLAIN_JSON = {
    400: "The request was not what this endpoint expects.",
    403: "These credentials do not give access to this.",
    404: "Nothing exists at this address.",
    405: "This address does not take that method; the Allow header lists the ones it does.",
    422: "Some of what was sent is not valid; details names each field and what is wrong.",
    500: "The error was logged for us to look into. Try again in a moment.",
}


def _refused_host(exc: HTTPException) -> bool:
    """Tell whether the error is the request's Host being refused (untrusted or malformed)."""
    # A host under a trusted ".example.com" with a label over 63 characters passes the trust
    # check, then fails to bind the URL map (BadHost); no link can be built for either.
    return isinstance(exc, (SecurityError, BadHost))


def _message(exc: HTTPException) -> str:
    if isinstance(exc, CSRFError):
        return "The form expired or was sent from elsewhere. Reload the page and try again."
    if _refused_host(exc):
        return "This site does not answer to that host name."
    if exc.code == 429:
        return f"You tried that too many times. Try again in {_retry_after()}."
    if exc.code == 413 and exc.description == RequestEntityTooLarge.description:
        limit = current_app.config.get("MAX_CONTENT_LENGTH")
        size = f" (at most {limit // 1024} kB)" if limit else ""
        return f"What you sent is larger than this site accepts{size}."
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


def _bad_host_page(status: int, message: str) -> Response:
    """Render the unknown-host page without the site's links, which need a trusted host."""
    # render_template would run the context processors, and they build links from the very
    # Host header that was just refused; the page template uses nothing of theirs.
    page = current_app.jinja_env.get_template("errors/bad_host.html")
    html = page.render(status=status, title=TITLES[400], message=message)
    return Response(html, status, mimetype="text/html")


# What an error's own headers say that its answer keeps: a 405 names the methods that work, a
# 416 the file's length, a 503 when to come back.
_KEPT_HEADERS = ("Allow", "Content-Range", "Retry-After")


def _kept_headers(exc: HTTPException) -> dict[str, str]:
    headers = dict(exc.get_headers())
    return {name: headers[name] for name in _KEPT_HEADERS if name in headers}


def handle_http_exception(exc: HTTPException):
    """Render an HTTP error as JSON or as an error page, keeping its status."""
    status = exc.code or 500
    message = _message(exc)
    stock = exc.description == type(exc).description and not _refused_host(exc)
    if wants_json():
        if stock and status in PLAIN_JSON:
            message = PLAIN_JSON[status]
        data = getattr(exc, "data", None)
        details = data.get("messages") if isinstance(data, dict) else None
        response = json_error(CODES.get(status, "error"), message, status, details or None)
        response.headers.update(_kept_headers(exc))
        return response
    if _refused_host(exc):
        return _bad_host_page(status, message)
    if stock and status in PLAIN:
        message = PLAIN[status]
    title = TITLES.get(status, "Error")
    page = render_template(
        "errors/error.html",
        status=status,
        title=title,
        message=message,
        # The form's own address as the browser sees it: with the path prefix and the query.
        form_url=requested_path(),
    )
    return page, status, _kept_headers(exc)


def handle_unexpected(exc: Exception):
    """Log an unexpected failure and show a calm 500 page."""
    log.exception("unhandled error", exc_info=exc)
    return handle_http_exception(InternalServerError())


def handle_storage_outage(exc: StorageError):
    """Answer 503 when the file store cannot be reached: the request and the file are fine."""
    # An S3 outage or timeout (after botocore's retries) passes; a 500 would tell the member
    # and their client that something is wrong with this request, and not to try it again.
    log.error("file storage unavailable: %s", exc)
    return _unavailable("Our file storage cannot be reached just now. Try again in a minute.")


def handle_limit_storage_outage(exc: LimitStorageError):
    """Answer 503 when the rate-limit storage cannot be reached: attempts cannot be counted."""
    # Refused rather than let through uncounted: a Redis outage must not lift the sign-in limits.
    from campus.throttling import uncounted

    log.error("rate-limit storage unavailable: %s", exc)
    uncounted()
    return _unavailable("Campus cannot take this request just now. Try again in a minute.")


def _unavailable(message: str):
    return handle_http_exception(ServiceUnavailable(message, retry_after=60))


def register_errors(app: Flask) -> None:
    """Install the error handlers (after the API's, so these win)."""
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(StorageError, handle_storage_outage)
    app.register_error_handler(LimitStorageError, handle_limit_storage_outage)
    if not app.testing:
        app.register_error_handler(Exception, handle_unexpected)

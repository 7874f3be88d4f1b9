"""POST /webhooks/stripe: verify, store and acknowledge Stripe's deliveries ahead of Flask.

Stripe's deliveries carry no cookie, form or user, so none of what Flask's request handling does
for a page (request context, session, login, CSRF, rate limits, error pages) applies to them, and
on this one route that handling cost more than the work itself. WebhookIntake wraps the app's
WSGI callable and answers the route directly, inside an app context; every other request passes
through untouched. The view logic stays small: read the body, `services.verify_webhook`,
`services.store_webhook`, `services.wake_event_processing`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge
from werkzeug.wrappers import Request, Response

from campus.billing import services
from campus.extensions import db

log = logging.getLogger(__name__)

PATH = "/webhooks/stripe"
MAX_WEBHOOK_BYTES = 512 * 1024  # Stripe's events are a few kB; this bounds what we read


def _json(status: int, body: dict[str, Any], **headers: str) -> Response:
    """Build a JSON response that is never cached."""
    response = Response(json.dumps(body), status, mimetype="application/json", headers=headers)
    response.headers["Cache-Control"] = "no-store"
    return response


def _error(status: int, code: str, message: str, **headers: str) -> Response:
    """Build the API's error body {"error": {"code", "message"}} with a status."""
    return _json(status, {"error": {"code": code, "message": message}}, **headers)


def receive(body: bytes, signature: str | None) -> Response:
    """Verify one delivery, store its event once and wake its processing; return the answer."""
    try:
        text, event = services.verify_webhook(body, signature)
    except services.InvalidWebhook as exc:
        return _error(400, "invalid_webhook", str(exc))
    except services.WebhookNotConfigured:
        return _error(503, "unavailable", "Webhooks are not configured on this server.")
    engine = db.engine
    try:
        row_id = services.store_webhook(engine, text, event)
    except (SQLAlchemyError, engine.dialect.loaded_dbapi.Error):
        log.exception("could not store a Stripe event")
        # 5xx makes Stripe retry later. Nothing was written, or (the connection lost after the
        # commit) the retry finds the event stored, as a duplicate, and wakes its processing.
        return _error(503, "unavailable", "The event could not be stored; please retry.")
    try:
        services.wake_event_processing(row_id)
    except Exception:
        # The event is committed: the sweep (or the next event's wake-up) drains it.
        log.exception("stored a Stripe event but could not wake its processing")
    return _json(200, {"received": True, "duplicate": row_id is None})


class WebhookIntake:
    """WSGI middleware that answers POST /webhooks/stripe and passes everything else on."""

    def __init__(self, app: Flask, wsgi_app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.wsgi_app = wsgi_app

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        """Answer Stripe's deliveries here; hand every other request to Flask."""
        if environ.get("PATH_INFO") != PATH:
            return self.wsgi_app(environ, start_response)
        return self.answer(environ)(environ, start_response)

    def answer(self, environ: dict[str, Any]) -> Response:
        """Build the response to one request for the webhook path."""
        request = Request(environ)
        if request.method != "POST":
            return _error(
                405, "method_not_allowed", "Stripe delivers events with POST.", Allow="POST"
            )
        # One byte over the limit: a stream without a length (chunked) is cut there rather than
        # refused, so reading that byte is how a too-large one is told apart.
        request.max_content_length = MAX_WEBHOOK_BYTES + 1
        try:
            body = request.get_data(cache=False)
        except RequestEntityTooLarge:
            body = None
        except ClientDisconnected:
            return _error(400, "bad_request", "The request body was cut short.")
        if body is None or len(body) > MAX_WEBHOOK_BYTES:
            return _error(413, "too_large", "The event is too large.")
        try:
            with self.app.app_context():
                return receive(body, request.headers.get("Stripe-Signature"))
        except Exception:
            # Flask's error handling is bypassed here: log it ourselves and answer like it would.
            log.exception("unhandled error in the Stripe webhook intake")
            return _error(500, "internal_error", "Something went wrong on our side.")

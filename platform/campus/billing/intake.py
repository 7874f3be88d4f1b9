"""POST /webhooks/stripe: verify, store and acknowledge Stripe's deliveries; Celery applies them.

A plain Flask view, CSRF-exempt (Stripe signs its deliveries instead) and never rate limited
(Stripe retries what we refuse). The signature is checked on the raw body, the event is stored
once (its id is unique), the answer is 200 at once and the processing is woken in Celery.
"""

from __future__ import annotations

import logging

from flask import jsonify, request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge
from werkzeug.wrappers import Response

from campus.billing import bp, services
from campus.errors import json_error
from campus.extensions import csrf, db, limiter

log = logging.getLogger(__name__)

PATH = "/webhooks/stripe"
MAX_WEBHOOK_BYTES = 512 * 1024  # Stripe's events are a few kB; this bounds what we read


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def receive(body: bytes, signature: str | None) -> Response:
    """Verify one delivery, store its event once and wake its processing; return the answer."""
    try:
        text, event = services.verify_webhook(body, signature)
    except services.InvalidWebhook as exc:
        return json_error("invalid_webhook", str(exc), 400)
    except services.WebhookNotConfigured:
        return json_error("unavailable", "Webhooks are not configured on this server.", 503)
    engine = db.engine
    try:
        row_id = services.store_webhook(engine, text, event)
    except (SQLAlchemyError, engine.dialect.loaded_dbapi.Error):
        log.exception("could not store a Stripe event")
        # 5xx makes Stripe retry later. Nothing was written, or (the connection lost after the
        # commit) the retry finds the event stored, as a duplicate, and wakes its processing.
        return json_error("unavailable", "The event could not be stored; please retry.", 503)
    try:
        services.wake_event_processing(row_id)
    except Exception:
        # The event is committed: the sweep (or the next event's wake-up) drains it.
        log.exception("stored a Stripe event but could not wake its processing")
    return jsonify(received=True, duplicate=row_id is None)


# Stripe only POSTs: no automatic OPTIONS, so anything else is a 405 naming POST alone.
@bp.post(PATH, provide_automatic_options=False)
@csrf.exempt
@limiter.exempt
def stripe_webhook() -> Response:
    """Accept one Stripe delivery: verify it on the raw body, store it once, answer at once."""
    # One byte over the limit: a stream without a length (chunked) is cut there rather than
    # refused, so reading that byte is how a too-large one is told apart.
    request.max_content_length = MAX_WEBHOOK_BYTES + 1
    try:
        body = request.get_data(cache=False)
    except RequestEntityTooLarge:
        body = None
    except ClientDisconnected:
        return _no_store(json_error("bad_request", "The request body was cut short.", 400))
    if body is None or len(body) > MAX_WEBHOOK_BYTES:
        return _no_store(json_error("too_large", "The event is too large.", 413))
    try:
        return _no_store(receive(body, request.headers.get("Stripe-Signature")))
    except Exception:
        # Answered here in every configuration (tests propagate errors otherwise): a 5xx makes
        # Stripe deliver the event again, and nothing was stored.
        log.exception("unhandled error in the Stripe webhook intake")
        return _no_store(json_error("internal_error", "Something went wrong on our side.", 500))

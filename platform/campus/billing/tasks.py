"""Billing tasks: process stored webhook events, reconcile with Stripe, deliver simulated events."""

from __future__ import annotations

import json
import logging
import random

from celery import shared_task
from celery.schedules import crontab
from flask import current_app

from campus.extensions import db

log = logging.getLogger(__name__)

BEAT_SCHEDULE = {
    "billing-reconcile": {
        "task": "campus.billing.reconcile",
        "schedule": crontab(minute=17),  # hourly, off the top of the hour
    },
}


def _backoff(retries: int) -> int:
    """Exponential backoff with jitter: 10s, 20s, 40s ... capped at an hour."""
    return int(min(10 * 2**retries, 3600) * random.uniform(0.8, 1.2))


@shared_task(
    bind=True,
    max_retries=10,
    acks_late=True,
    reject_on_worker_lost=True,
    name="campus.billing.process_webhook_event",
)
def process_webhook_event(self, event_row_id: int) -> str | None:
    """Process one stored Stripe event by row id; a failure is recorded and retried."""
    from campus.billing import services

    try:
        row = services.process_event(event_row_id)
        status = row.status if row is not None else None
        db.session.commit()
        return status
    except Exception as exc:
        db.session.rollback()
        log.warning("webhook event %s failed: %s", event_row_id, exc, exc_info=True)
        services.record_failure(event_row_id, exc)
        db.session.commit()
        if self.request.is_eager:
            return "failed"  # inline (tests, eager mode): replay or reconciliation retries it
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc


@shared_task(name="campus.billing.reconcile", acks_late=True, reject_on_worker_lost=True)
def reconcile() -> dict[str, int]:
    """Compare the subscription mirror with Stripe and repair drift."""
    from campus.billing import services

    counts = services.reconcile()
    db.session.commit()
    log.info("billing reconciliation: %s", counts)
    return counts


@shared_task(
    bind=True,
    max_retries=8,
    acks_late=True,
    reject_on_worker_lost=True,
    name="campus.billing.deliver_simulated_event",
)
def deliver_simulated_event(self, event_id: str) -> int | None:
    """Sign a simulated Stripe event and post it to /webhooks/stripe, like Stripe would."""
    if not current_app.config.get("SIMULATED_STRIPE"):
        log.error("refusing to deliver simulated event %s: the simulator is off", event_id)
        return None
    from campus.billing import simulator
    from campus.billing.stripe_api import sign_payload, webhook_secret

    event = simulator.get_object(event_id)
    if event is None:
        return None
    payload = json.dumps(event)
    # Through the app's own WSGI stack: verification, storage and the task are the real ones.
    response = current_app.test_client().post(
        "/webhooks/stripe",
        data=payload,
        headers={
            "Stripe-Signature": sign_payload(payload, webhook_secret()),
            "Content-Type": "application/json",
        },
    )
    if response.status_code >= 300:
        if self.request.is_eager:
            log.error("simulated event %s was refused: %s", event_id, response.status_code)
            return response.status_code
        raise self.retry(countdown=_backoff(self.request.retries))
    return response.status_code

"""Billing tasks: process stored webhook events, reconcile with Stripe, deliver simulated events."""

from __future__ import annotations

import json
import logging
import random
from datetime import timedelta

from celery import shared_task
from celery.schedules import crontab
from flask import current_app

from campus.billing import actions, claims, customer_email, events, reconciling
from campus.billing.receivers import SYNC_EMAIL_TASK
from campus.billing.services import DRAIN_WAKE
from campus.billing.stripe_api import (
    CustomerMissing,
    PaymentProviderError,
    RequestRefused,
)
from campus.extensions import db
from campus.jobs import clear_wake, retry_wait

log = logging.getLogger(__name__)

# How many events one drain run takes before handing over to a fresh run (its wake-up mark,
# DRAIN_WAKE, is set by services.wake_event_processing).
DRAIN_BATCH = 500
# An event still "received" after this long lost its wake-up (or its worker): the sweep drains.
SWEEP_AFTER = timedelta(seconds=60)

BEAT_SCHEDULE = {
    "billing-reconcile": {
        "task": "campus.billing.reconcile",
        "schedule": crontab(minute=17),  # hourly, off the top of the hour
    },
    "billing-sweep-events": {
        "task": "campus.billing.sweep_webhook_events",
        "schedule": 60.0,
    },
    "billing-lapsed-comps": {
        "task": "campus.billing.email_lapsed_comps",
        "schedule": crontab(minute=41),  # hourly
    },
}


@shared_task(name="campus.billing.email_lapsed_comps", acks_late=True, reject_on_worker_lost=True)
def email_lapsed_comps() -> int:
    """Tell members whose complimentary membership ran out (once per grant)."""
    count = actions.email_lapsed_comps()
    db.session.commit()
    return count


# The longest wait before a retry: short of the broker's default hour (see jobs.retry_wait).
MAX_RETRY_WAIT = 50 * 60


def _backoff(retries: int) -> int:
    """Exponential backoff with jitter: 10s, 20s, 40s ... capped at 50 minutes."""
    # Capped after the jitter, and short of the broker's visibility timeout: Redis gives a
    # message held past it to another worker, and a retry waiting that long would run twice.
    return retry_wait(min(10 * 2**retries * random.uniform(0.8, 1.2), MAX_RETRY_WAIT))


def _process(event_row_id: int, counted: bool = False) -> tuple[str | None, Exception | None]:
    """Process one stored event and commit; return its status and the error to retry it for.

    A failure is recorded, not raised; an event it gives up (claims.record_failure) is returned
    without one: it is not retried until an admin replays it.
    """
    try:
        row = events.process_event(event_row_id, counted)
        status = row.status if row is not None else None
        db.session.commit()
        return status, None
    except Exception as exc:
        db.session.rollback()
        log.warning("webhook event %s failed: %s", event_row_id, exc, exc_info=True)
        gave_up = claims.record_failure(event_row_id, exc, counted)
        db.session.commit()
        return "failed", None if gave_up else exc


@shared_task(
    bind=True,
    max_retries=10,
    acks_late=True,
    reject_on_worker_lost=True,
    name="campus.billing.process_webhook_event",
)
def process_webhook_event(self, event_row_id: int) -> str | None:
    """Process one stored Stripe event by row id; a failure is recorded and retried."""
    started = claims.start_try(event_row_id)
    db.session.commit()  # the try outlives a worker killed processing the event
    if not started:
        return "failed"  # given up (claims): left for a replay
    status, exc = _process(event_row_id)
    if exc is None:
        return status
    if self.request.is_eager:
        return "failed"  # inline (tests, eager mode): replay or reconciliation retries it
    raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc


# The drain. With a Redis broker the web process does not send one task per stored event: after
# the commit it wakes a drain only if no wake-up is pending (services.wake_event_processing ->
# jobs.wake_once, a Redis SET NX EX). Why no stored event is stranded:
# - A drain clears the wake-up mark FIRST, then claims events one by one; each claim is a new
#   statement, so it sees every event committed before it ran.
# - A request that finds the mark absent sends a drain, which starts (and claims) after that
#   event's commit. A request that finds the mark set comes after a sender whose drain has not
#   cleared it yet: that drain clears it later and claims after that, so it sees the event too.
# - The mark also goes by expiry (DRAIN_WAKE_TTL) or when sending failed. The drain it stood for
#   is then still queued (it sees the event when it runs) or was lost. A lost drain, Redis down
#   at wake-up time, or a crash between commit and wake-up leaves the event "received": the
#   next wake-up by any later event drains it, and sweep_webhook_events (beat, every minute)
#   sends a drain for an event older than SWEEP_AFTER.
# - A worker killed mid-event leaves it "processing", claimed: once the claim is older than
#   claims.CLAIM_TIMEOUT the sweep's drain takes it again, and an event whose tries are all
#   spent (claims.CLAIMED_TRIES: cut off, or failed other than transiently) is given up,
#   "failed", so it cannot stop the queue behind it.
# - An event whose processing fails is marked "failed" and handed to process_webhook_event,
#   which retries it with backoff as before (unless that failure gave it up); reconcile
#   requeues failed events left behind, never one given up.
# Each claim is one conditional UPDATE (FOR UPDATE SKIP LOCKED): concurrent drains share a
# backlog and never take one event twice; process_event skips an event already processed or
# ignored besides.
@shared_task(
    bind=True,
    max_retries=5,
    acks_late=True,
    reject_on_worker_lost=True,
    name="campus.billing.drain_webhook_events",
)
def drain_webhook_events(self) -> int:
    """Process every received event, oldest first, each in its own transaction."""
    clear_wake(DRAIN_WAKE)  # first, before looking for work: see above
    done = 0
    try:
        claims.give_up_cut_off()
        db.session.commit()
        while done < DRAIN_BATCH:
            event_row_id = claims.claim_next_event()
            db.session.commit()  # the claim outlives a worker killed applying the event
            if event_row_id is None:
                return done
            _status, exc = _process(event_row_id, counted=True)
            done += 1
            if exc is not None and not self.request.is_eager:
                # Retried on its own from here, with backoff, as if its first try had been there.
                process_webhook_event.apply_async(
                    args=(event_row_id,), countdown=_backoff(0), retries=1
                )
    except Exception as exc:
        # The database or the broker is away: try again later; every event is still stored.
        db.session.rollback()
        log.warning("draining webhook events stopped: %s", exc, exc_info=True)
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc
    # A long backlog: hand over to a fresh run so other tasks get their turn on the worker.
    drain_webhook_events.apply_async()
    return done


@shared_task(name="campus.billing.sweep_webhook_events", acks_late=True, reject_on_worker_lost=True)
def sweep_webhook_events() -> bool:
    """Send a drain if an event has waited longer than SWEEP_AFTER (a lost wake-up or worker)."""
    waiting = claims.has_waiting_events(SWEEP_AFTER)
    db.session.rollback()
    if waiting:
        log.info("webhook events are waiting: sending a drain")
        drain_webhook_events.apply_async()
    return waiting


@shared_task(
    bind=True, max_retries=10, acks_late=True, reject_on_worker_lost=True, name=SYNC_EMAIL_TASK
)
def sync_customer_email(self, user_id: int) -> str | None:
    """Give the member's Stripe customer their current email and name; nothing without one."""
    try:
        return customer_email.send_current_email(user_id, db.session.commit)
    except CustomerMissing as exc:
        db.session.rollback()
        log.info("no Stripe customer to give user %s's email and name: %s", user_id, exc)
        return None
    except RequestRefused as exc:
        # Asked again, Stripe answers the same. Its message can quote the address or the name.
        db.session.rollback()
        log.warning("Stripe refused user %s's email or name (HTTP %s)", user_id, _status_of(exc))
        return None
    except PaymentProviderError as exc:
        db.session.rollback()
        log.warning(
            "user %s's email and name did not reach Stripe: %s (HTTP %s)",
            user_id,
            type(exc.__cause__ or exc).__name__,
            _status_of(exc),
        )
        if self.request.is_eager:
            return None  # inline (eager mode): retries at once would hold the request for minutes
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc


def _status_of(exc: Exception) -> int | None:
    """The HTTP status Stripe answered with, behind our error."""
    return getattr(exc.__cause__, "http_status", None)


@shared_task(name="campus.billing.reconcile", acks_late=True, reject_on_worker_lost=True)
def reconcile() -> dict[str, int]:
    """Compare the subscription mirror with Stripe and repair drift."""
    counts = reconciling.reconcile(settle=db.session.commit)
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
    secret = webhook_secret()
    assert secret is not None  # the simulator always has one (derived from SECRET_KEY)
    # Through the app's own WSGI stack: verification, storage and the task are the real ones.
    response = current_app.test_client().post(
        "/webhooks/stripe",
        data=payload,
        headers={
            "Stripe-Signature": sign_payload(payload, secret),
            "Content-Type": "application/json",
        },
    )
    if response.status_code >= 300:
        if self.request.is_eager:
            log.error("simulated event %s was refused: %s", event_id, response.status_code)
            return response.status_code
        raise self.retry(countdown=_backoff(self.request.retries))
    return response.status_code

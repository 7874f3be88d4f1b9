"""Stored Stripe events' tries: a drain's claims, tries cut off by a worker's death, failures.

One count of spent tries (`cut_off_tries`), bounded by CLAIMED_TRIES. A try is counted, and the
caller commits the count, before the event is applied (a drain's claim, start_try); it marks the
event "processing". How the try ends decides whether it stays spent:
- applied (processed or ignored): nothing is left to try, the count goes back to 0;
- failed because Stripe or the database could not be reached (TRANSIENT): taken back; such an
  event is retried with backoff and requeued by reconcile for as long as it takes;
- failed with any other error (an event of a shape the handler cannot read, a refusal that
  asking again would get too): it stays spent;
- cut off by its worker's death: it stays spent, found by the next try or the sweep's drain.
An event whose tries are all spent is given up: failed, with why, for the admin, who can replay
it (which gives it every try anew); neither a drain, its task nor reconcile takes it up again,
and an event that kills its worker cannot hold up every drain behind it. Functions flush;
callers commit.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import ColumnElement, CursorResult, and_, or_, select, update
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from campus.billing.models import WebhookEvent
from campus.billing.stripe_api import PaymentProviderError, RequestRefused
from campus.extensions import db
from campus.models.base import utcnow

log = logging.getLogger(__name__)

# A drain's claim of an event older than this belonged to a drain that died applying it.
CLAIM_TIMEOUT = timedelta(minutes=5)
# Tries spent (cut off by their worker's death, or failed other than transiently) after which
# an event is given up, failed; a replay gives it them all again.
CLAIMED_TRIES = 3
# Failures that may pass by themselves: Stripe or the database away, slow or busy (a 5xx, a 429,
# a timeout, a lost connection). Stripe refusing the request itself would answer the same again.
TRANSIENT: tuple[type[BaseException], ...] = (
    PaymentProviderError,
    OperationalError,
    InterfaceError,
    PoolTimeout,
    OSError,
)
_REPLAY = "not tried again unless it is replayed"


def _cut_off() -> str:
    """Why an event whose last try was cut off is given up, for the admin's event page."""
    return (
        f"Given up after {CLAIMED_TRIES} tries, {_REPLAY}. "
        "The last one: processing cut off by its worker's death"
    )


def is_transient(error: BaseException) -> bool:
    """Tell whether a try's error may pass by itself, so the try is not spent."""
    return isinstance(error, TRANSIENT) and not isinstance(error, RequestRefused)


def given_up() -> ColumnElement[bool]:
    """The events given up: failed with every try spent (see the module docstring)."""
    return and_(WebhookEvent.status == "failed", WebhookEvent.cut_off_tries >= CLAIMED_TRIES)


def claim_next_event() -> int | None:
    """Mark the oldest waiting event "processing" and count the try; return its id (None: none).

    The caller commits the claim before applying the event, so a worker killed while applying
    it (a crash, the OOM killer) leaves the claim and its count behind: once CLAIM_TIMEOUT has
    passed another drain takes the event again (or its own task does), and with CLAIMED_TRIES
    spent give_up_cut_off leaves it failed, with why, rather than have it kill every drain and
    hold up every event behind it. One conditional UPDATE takes it (SKIP LOCKED: concurrent
    drains share a backlog, never take one event twice).
    """
    now = utcnow()
    stale = now - CLAIM_TIMEOUT
    candidate = (
        select(WebhookEvent.id)
        .where(_waiting(stale))
        .order_by(WebhookEvent.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    return db.session.scalar(
        update(WebhookEvent)
        .where(WebhookEvent.id == candidate, _waiting(stale))
        .values(
            status="processing",
            attempts=WebhookEvent.attempts + 1,
            cut_off_tries=WebhookEvent.cut_off_tries + 1,  # until the try ends
            updated_at=now,
        )
        .returning(WebhookEvent.id)
        .execution_options(synchronize_session=False)
    )


def _waiting(stale: datetime, received_before: datetime | None = None) -> ColumnElement[bool]:
    """Events received (before that moment), and those a dead try left with tries to spare."""
    received = WebhookEvent.status == "received"
    if received_before is not None:
        received = and_(received, WebhookEvent.updated_at < received_before)
    return or_(
        received,
        and_(
            WebhookEvent.status == "processing",
            WebhookEvent.updated_at < stale,
            WebhookEvent.cut_off_tries < CLAIMED_TRIES,
        ),
    )


def give_up_cut_off() -> None:
    """Give up the events whose last try was cut off and that have no try left."""
    stale = utcnow() - CLAIM_TIMEOUT
    given_up = db.session.execute(
        update(WebhookEvent)
        .where(
            WebhookEvent.status == "processing",
            WebhookEvent.updated_at < stale,
            WebhookEvent.cut_off_tries >= CLAIMED_TRIES,
        )
        .values(status="failed", last_error=_cut_off(), updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if cast(CursorResult, given_up).rowcount:
        log.error("gave up stored events whose processing killed its worker every time")


def start_try(event_row_id: int) -> bool:
    """Count a try at an event outside a drain; False once it is given up (nothing to do).

    As a drain's claim does, the caller commits the count (and "processing") before processing:
    the event's own task, its retries and reconcile's requeues are not the drain's, and one that
    kills its worker would otherwise do so again every hour for good.
    """
    now = utcnow()
    tries = db.session.scalar(
        update(WebhookEvent)
        .where(
            WebhookEvent.id == event_row_id,
            WebhookEvent.status.in_(("received", "processing", "failed")),
            ~given_up(),
        )
        .values(
            status="processing",
            cut_off_tries=WebhookEvent.cut_off_tries + 1,  # until the try ends
            updated_at=now,
        )
        .returning(WebhookEvent.cut_off_tries)
        .execution_options(synchronize_session=False)
    )
    if tries is None:
        # Processed or ignored (processing finds nothing to do), or a late copy of the task of
        # an event given up since, which it leaves as it is.
        return (
            db.session.scalar(
                select(WebhookEvent.id).where(WebhookEvent.id == event_row_id, given_up())
            )
            is None
        )
    if tries <= CLAIMED_TRIES:
        return True
    # Its every try was spent, the last one cut off: this one is not made.
    db.session.execute(
        update(WebhookEvent)
        .where(WebhookEvent.id == event_row_id)
        .values(status="failed", last_error=_cut_off(), updated_at=now)
        .execution_options(synchronize_session=False)
    )
    log.error("gave up stored event %s: its processing killed its worker every time", event_row_id)
    return False


def has_waiting_events(older_than: timedelta) -> bool:
    """Tell whether some event has waited longer than `older_than`, or a dead drain's claim."""
    now = utcnow()
    # A claim out of tries counts too: the drain sent for it is what marks it failed.
    dead_claim = and_(
        WebhookEvent.status == "processing", WebhookEvent.updated_at < now - CLAIM_TIMEOUT
    )
    waiting = or_(_waiting(now - CLAIM_TIMEOUT, now - older_than), dead_claim)
    return db.session.scalar(select(WebhookEvent.id).where(waiting).limit(1)) is not None


def record_failure(event_row_id: int, error: BaseException, counted: bool = False) -> bool:
    """Mark a stored event failed with its error text; True when that gives it up.

    A transient error gives the try back; any other leaves it spent, and the last try spent
    gives the event up: not retried (the caller sends no retry) nor requeued until replayed.
    `counted`: a drain's claim already counted this try in `attempts`.
    """
    row = db.session.scalar(
        select(WebhookEvent).where(WebhookEvent.id == event_row_id).with_for_update()
    )
    if row is None or row.status in ("processed", "ignored"):
        return False
    row.status = "failed"
    if not counted:
        row.attempts += 1
    text = f"{type(error).__name__}: {error}"
    if is_transient(error):
        # Counted as spent when it started (a claim, start_try): it ended, and may pass.
        row.cut_off_tries = max(row.cut_off_tries - 1, 0)
    elif row.cut_off_tries >= CLAIMED_TRIES:
        text = f"Given up after {row.cut_off_tries} tries, {_REPLAY}. The last one: {text}"
        log.error("gave up stored event %s after %s tries", event_row_id, row.cut_off_tries)
    row.last_error = text[:4000]
    db.session.flush()
    return row.cut_off_tries >= CLAIMED_TRIES


def reset_for_replay(event_row: WebhookEvent) -> None:
    """Put an event back to received so it is processed again, with every try anew."""
    event_row.status = "received"
    event_row.cut_off_tries = 0  # its attempts, failed ones too, still count every try
    event_row.reason = None
    event_row.processed_at = None
    db.session.flush()

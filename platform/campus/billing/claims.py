"""Stored Stripe events' tries: a drain's claims, tries cut off by a worker's death, failures.

A try is counted, and the caller commits the count, before the event is applied: a worker
killed applying it leaves the count behind, and an event whose tries keep being cut off is given
up (failed, with why) rather than kill every drain behind it. Functions flush; callers commit.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import ColumnElement, CursorResult, and_, or_, select, update

from campus.billing.models import WebhookEvent
from campus.extensions import db
from campus.models.base import utcnow

log = logging.getLogger(__name__)

# A drain's claim of an event older than this belonged to a drain that died applying it.
CLAIM_TIMEOUT = timedelta(minutes=5)
# Tries cut off by their worker's death (a drain's claimed ones, the event's own task's) after
# which an event is left failed. Only those count (cut_off_tries), not its failing tries, and a
# replay gives it them all again.
CLAIMED_TRIES = 3
_CUT_OFF = "processing cut off by its worker's death, try after try"


def claim_next_event() -> int | None:
    """Mark the oldest waiting event "processing" and count the try; return its id (None: none).

    The caller commits the claim before applying the event, so a worker killed while applying
    it (a crash, the OOM killer) leaves the claim and its count behind: once CLAIM_TIMEOUT has
    passed another drain takes the event again, and after CLAIMED_TRIES give_up_cut_off leaves
    it failed, with why, rather than have it kill every drain and hold up every event behind
    it. One conditional UPDATE takes it (SKIP LOCKED: concurrent drains share a backlog, never
    take one event twice).
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
    """Events received (before that moment), and those a dead drain claimed with tries left."""
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
    """Mark failed the events whose every claimed try ended with its drain's death."""
    stale = utcnow() - CLAIM_TIMEOUT
    given_up = db.session.execute(
        update(WebhookEvent)
        .where(
            WebhookEvent.status == "processing",
            WebhookEvent.updated_at < stale,
            WebhookEvent.cut_off_tries >= CLAIMED_TRIES,
        )
        .values(status="failed", last_error=_CUT_OFF, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if cast(CursorResult, given_up).rowcount:
        log.error("gave up stored events whose processing killed its worker every time")


def start_try(event_row_id: int) -> bool:
    """Count a try at an event outside a drain; False (it is left failed) once out of tries.

    As a drain's claim does, the caller commits the count before processing: the event's own
    task, its retries and reconcile's requeues of a failed event are not the drain's, and one
    that kills its worker would otherwise do so again every hour for good.
    """
    tries = db.session.scalar(
        update(WebhookEvent)
        .where(
            WebhookEvent.id == event_row_id,
            WebhookEvent.status.in_(("received", "processing", "failed")),
        )
        .values(cut_off_tries=WebhookEvent.cut_off_tries + 1)
        .returning(WebhookEvent.cut_off_tries)
        .execution_options(synchronize_session=False)
    )
    if tries is None or tries <= CLAIMED_TRIES:
        return True  # processed or ignored: processing finds nothing to do
    db.session.execute(
        update(WebhookEvent)
        .where(WebhookEvent.id == event_row_id)
        .values(status="failed", last_error=_CUT_OFF, updated_at=utcnow())
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


def record_failure(event_row_id: int, error: BaseException, counted: bool = False) -> None:
    """Mark a stored event failed with its error text (the task retries it).

    `counted`: a drain's claim already counted this try.
    """
    row = db.session.scalar(
        select(WebhookEvent).where(WebhookEvent.id == event_row_id).with_for_update()
    )
    if row is None or row.status in ("processed", "ignored"):
        return
    row.status = "failed"
    # The try, counted as cut off when it started (a claim, start_try), ended with an error.
    row.cut_off_tries = max(row.cut_off_tries - 1, 0)
    if not counted:
        row.attempts += 1
    row.last_error = f"{type(error).__name__}: {error}"[:4000]
    db.session.flush()


def reset_for_replay(event_row: WebhookEvent) -> None:
    """Put an event back to received so it is processed again, with every claimed try."""
    event_row.status = "received"
    event_row.cut_off_tries = 0  # its attempts, failed ones too, still count every try
    event_row.reason = None
    event_row.processed_at = None
    db.session.flush()

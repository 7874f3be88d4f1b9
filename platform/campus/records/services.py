"""Data archives: ask for one (one at a time), build it in the worker, serve it to its owner."""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from campus.accounts.models import User
from campus.extensions import db
from campus.jobs import enqueue_after_commit
from campus.mail.services import queue_email
from campus.models.base import utcnow
from campus.models.writes import lock_row
from campus.records.archive import build_archive
from campus.records.models import DataExport
from campus.storage import get_storage
from campus.templating import format_date
from campus.urls import public_url

log = logging.getLogger(__name__)

BUILD_TASK = "campus.records.build_export"


class RecordsError(Exception):
    """A request about a member's records that cannot be carried out (safe to show).

    `field` names the form field the message belongs to, when there is one.
    """

    def __init__(self, message: str, status: int = 400, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.field = field


def latest_export(user: User) -> DataExport | None:
    """The member's most recent archive request."""
    return db.session.scalars(
        select(DataExport)
        .where(DataExport.user_id == user.id)
        .order_by(DataExport.requested_at.desc(), DataExport.id.desc())
        .limit(1)
    ).first()


def request_export(user: User) -> DataExport:
    """Queue a new archive, unless one is being built or the last was asked for too recently."""
    # Serialises two clicks at once: the second waits here and then sees the first request.
    lock_row(User, user.id)
    latest = latest_export(user)
    now = utcnow()
    if latest is not None and latest.status == "pending":
        raise RecordsError("Your archive is being prepared; we will email you when it is ready.")
    interval = timedelta(seconds=current_app.config["DATA_EXPORT_INTERVAL"])
    # A failed build was our fault, and its email and the page ask the member to ask again:
    # only an archive that was (or is being) delivered makes them wait.
    if latest is not None and latest.status != "failed" and latest.requested_at + interval > now:
        minutes = max(1, int((latest.requested_at + interval - now).total_seconds() // 60) + 1)
        raise RecordsError(
            f"You asked for an archive a moment ago. You can ask again in {minutes} minutes.",
            status=429,
        )
    export = DataExport(user_id=user.id, requested_at=now)
    db.session.add(export)
    db.session.flush()
    # Chosen once, now: a build that is retried or redelivered after a kill writes the same
    # object again, and no earlier copy is left behind that nothing would ever delete.
    export.storage_key = export_key(export)
    enqueue_after_commit(BUILD_TASK, export.id)
    return export


def export_key(export: DataExport) -> str:
    """Where an archive is stored (a random part, so keys are not guessable)."""
    return f"exports/{export.user_id}/{export.id}-{secrets.token_hex(8)}.zip"


# Builds of one archive that may start (the task's own retries among them) before it is given up.
MAX_BUILD_TRIES = 8


def start_build(export_id: int) -> bool:
    """Count a build of a pending archive about to start; False (it is failed) once out of tries.

    The caller commits the count before building: a build that kills its worker (an account's
    archive too large for its memory) is counted too, and its message, handed out again after
    each death, gives up instead of killing worker after worker for good.
    """
    tries = db.session.scalar(
        update(DataExport)
        .where(DataExport.id == export_id, DataExport.status == "pending")
        .values(attempts=DataExport.attempts + 1)
        .returning(DataExport.attempts)
        .execution_options(synchronize_session=False)
    )
    if tries is None or tries <= MAX_BUILD_TRIES:
        return True  # not pending: the build itself finds nothing to do
    log.error("data archive %s given up: %d builds were cut off", export_id, tries - 1)
    record_failure(export_id, RuntimeError(f"its build was cut off {tries - 1} times"))
    return False


def build_export(export_id: int) -> bool:
    """Build and store a pending archive, mark it ready and email its link; tell if built."""
    export = db.session.scalar(
        select(DataExport).where(DataExport.id == export_id).with_for_update()
    )
    if export is None or export.status != "pending":
        return False  # built already (a redelivered task), or the account is gone
    user = db.session.get_one(User, export.user_id)
    if user.deleted_at is not None:
        export.status = "failed"
        export.last_error = "the account was deleted"
        return False
    data = build_archive(user)
    key = export.storage_key or export_key(export)
    get_storage().save(key, data)
    now = utcnow()
    export.storage_key = key
    export.size_bytes = len(data)
    export.status = "ready"
    export.ready_at = now
    export.expires_at = now + timedelta(seconds=current_app.config["DATA_EXPORT_MAX_AGE"])
    export.last_error = None
    queue_email(
        user.email,
        "Your Campus data archive is ready",
        "data_export_ready",
        dedupe_key=f"data-export-ready:{export.id}",
        user=user,
        link=public_url("records.download_export", export_id=export.id),
        # To the minute: a date alone reads as the whole of that day, and the link ends at the
        # moment it was built a week before.
        expires=format_date(export.expires_at, "%B %-d, %Y at %H:%M %Z"),
    )
    return True


def record_failure(export_id: int, error: BaseException) -> None:
    """Mark an archive failed and tell the member, who was promised an email, to ask again."""
    export = db.session.get(DataExport, export_id)
    if export is not None and export.status == "pending":
        export.status = "failed"
        export.last_error = f"{type(error).__name__}: {error}"[:2000]
        if export.storage_key:
            # A copy saved before the failure (say, in a build whose commit failed) goes too.
            get_storage().delete(export.storage_key)
            export.storage_key = None
        # Nothing builds a failed archive again: without this the member waits for the email
        # the page promised, and only a visit to the page would tell them.
        queue_email(
            export.user.email,
            "Your Campus data archive could not be prepared",
            "data_export_failed",
            dedupe_key=f"data-export-failed:{export.id}",
            user=export.user,
            link=public_url("records.data"),
        )


def downloadable(user: User, export_id: int) -> DataExport:
    """The member's own archive if its link still works, else raise RecordsError (404/410)."""
    export = db.session.get(DataExport, export_id)
    if export is None or export.user_id != user.id:
        raise RecordsError("There is no such archive.", status=404)
    if not export.is_downloadable(utcnow()):
        raise RecordsError(
            "This archive link has expired. Ask for a new archive on the Your data page.",
            status=410,
        )
    return export


def stale_pending(older_than: timedelta = timedelta(minutes=10)) -> list[int]:
    """Archives still pending long after they were asked for (their build task was lost)."""
    cutoff = utcnow() - older_than
    return list(
        db.session.scalars(
            select(DataExport.id).where(
                DataExport.status == "pending", DataExport.requested_at < cutoff
            )
        )
    )


def expire_exports() -> int:
    """Delete the files of archives whose link has expired (safe to run twice); return how many."""
    now = utcnow()
    rows = db.session.scalars(
        select(DataExport).where(DataExport.status == "ready", DataExport.expires_at <= now)
    ).all()
    storage = get_storage()
    for export in rows:
        if export.storage_key:
            storage.delete(export.storage_key)
        export.status = "expired"
        export.storage_key = None
    return len(rows)

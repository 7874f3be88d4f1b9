"""Relay clients' messages to practitioners from the worker, and sweep for any left behind."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.schedules import crontab

from campus.directory import contact, photos
from campus.extensions import db
from campus.jobs import requeue

log = logging.getLogger(__name__)


@shared_task(
    name="campus.directory.relay_message",
    acks_late=True,
    reject_on_worker_lost=True,
)
def relay_message(message_id: int) -> bool:
    """Email a stored message to its practitioner (and the sender's copy), once."""
    started = contact.start_relay(message_id)
    db.session.commit()  # the try is counted even if this worker dies relaying
    if not started:
        return False
    try:
        sent = contact.relay(message_id)
        db.session.commit()
    except Exception:
        db.session.rollback()
        contact.relay_failed(message_id)  # failing is no cut-off: the sweep tries it again
        db.session.commit()
        raise
    return sent


@shared_task(
    name="campus.directory.sweep_messages",
    acks_late=True,
    reject_on_worker_lost=True,
)
def sweep_messages() -> int:
    """Re-enqueue the relay of stored messages whose task was lost (broker down, worker killed)."""
    return requeue(contact.RELAY_TASK, contact.unrelayed_ids(), "messages")


@shared_task(name="campus.directory.delete_old_messages")
def delete_old_messages() -> int:
    """Delete clients' messages stored before the retention period (safe to run twice)."""
    deleted = contact.delete_old_messages()
    db.session.commit()
    if deleted:
        log.info("deleted %d old contact messages", deleted)
    return deleted


@shared_task(name="campus.directory.delete_orphan_photos")
def delete_orphan_photos() -> int:
    """Delete stored photos no profile refers to, once past their grace (safe to run twice)."""
    deleted = photos.delete_orphans()
    if deleted:
        log.info("deleted %d stored directory photos no profile refers to", deleted)
    return deleted


BEAT_SCHEDULE = {
    "directory-sweep-messages": {
        "task": "campus.directory.sweep_messages",
        "schedule": 300.0,
    },
    "directory-delete-orphan-photos": {
        "task": "campus.directory.delete_orphan_photos",
        "schedule": crontab(minute=55, hour=2),  # daily, by the clock: see mail.tasks
    },
    "directory-delete-old-messages": {
        "task": "campus.directory.delete_old_messages",
        "schedule": crontab(minute=25, hour=2),  # daily, by the clock: see mail.tasks
    },
}

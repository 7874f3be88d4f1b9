"""Relay clients' messages to practitioners from the worker."""

from __future__ import annotations

from celery import shared_task

from campus.directory import contact
from campus.extensions import db


@shared_task(
    name="campus.directory.relay_message",
    acks_late=True,
    reject_on_worker_lost=True,
)
def relay_message(message_id: int) -> bool:
    """Email a stored message to its practitioner (and the sender's copy), once."""
    sent = contact.relay(message_id)
    db.session.commit()
    return sent

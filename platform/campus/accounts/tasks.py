"""Account jobs: housekeeping run by beat, and work that must not show in a request's timing."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.schedules import crontab

from campus.accounts import reset, sessions
from campus.extensions import db

log = logging.getLogger(__name__)


@shared_task(name="campus.accounts.purge_ended_sessions")
def purge_ended_sessions() -> int:
    """Delete sessions and emailed links that ended over 30 days ago (safe to run twice)."""
    removed = sessions.purge_ended()
    db.session.commit()
    if removed:
        log.info("purged %d ended sessions", removed)
    return removed


@shared_task(bind=True, name="campus.accounts.send_password_reset")
def send_password_reset(self, email: str) -> None:
    """Look the address up and email a reset link if it has an active account, once."""
    # Keyed by the task's id: a redelivery (its worker killed after the commit) sends nothing.
    reset.send_password_reset_email(email, request_id=self.request.id)
    db.session.commit()


BEAT_SCHEDULE = {
    "accounts-purge-ended-sessions": {
        "task": "campus.accounts.purge_ended_sessions",
        "schedule": crontab(minute=10, hour=2),  # daily, by the clock: see mail.tasks
    }
}

"""Renewal reminder emails, sent by the worker from a daily beat entry."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.schedules import crontab

from campus import dates
from campus.jobs import each_committed
from campus.licenses import reminders

log = logging.getLogger(__name__)

BEAT_SCHEDULE = {
    "licenses-renewal-reminders": {
        "task": "campus.licenses.send_renewal_reminders",
        # A few times a day, by the clock (see mail.tasks): each reminder still goes out once.
        "schedule": crontab(minute=5, hour="*/6"),
    }
}


@shared_task(name="campus.licenses.send_renewal_reminders")
def send_renewal_reminders() -> int:
    """Queue today's renewal reminders (90, 30, 7 days before expiry), each once."""
    sent = each_committed(
        reminders.candidate_ids(dates.today()),
        reminders.send_reminder,
        "renewal reminder of license",
    )
    if sent:
        log.info("queued %d renewal reminders", sent)
    return sent

"""Renewal reminder emails, sent by the worker from a daily beat entry."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.schedules import crontab

from campus import dates
from campus.extensions import db
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
    sent = 0
    for license_id in reminders.candidate_ids(dates.today()):
        try:
            if reminders.send_reminder(license_id):
                sent += 1
            db.session.commit()  # one license at a time: a failure later keeps what was sent
        except Exception:
            # One license that cannot be reminded (a rule that cannot be weighed) must not hold
            # up every license after it, run after run: it is logged and tried again next run.
            db.session.rollback()
            log.exception("renewal reminder for license %s failed", license_id)
    if sent:
        log.info("queued %d renewal reminders", sent)
    return sent

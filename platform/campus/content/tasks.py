"""The library's scheduled work: forgetting download leads past the retention."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.schedules import crontab

from campus.content.downloads import forget_old_leads
from campus.extensions import db

log = logging.getLogger(__name__)


@shared_task(name="campus.content.forget_old_leads")
def forget_old_leads_task() -> int:
    """Delete the download leads off the marketing list past the retention (safe to run twice)."""
    deleted = forget_old_leads()
    db.session.commit()
    if deleted:
        log.info("deleted %d old download leads off the marketing list", deleted)
    return deleted


BEAT_SCHEDULE = {
    "content-forget-old-leads": {
        "task": "campus.content.forget_old_leads",
        "schedule": crontab(minute=20, hour=2),  # daily, by the clock: see mail.tasks
    },
}

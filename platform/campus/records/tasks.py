"""Records jobs: build a member's archive, expire old archives, purge records past retention."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.schedules import crontab

from campus.extensions import db
from campus.jobs import each_committed, enqueue_after_commit, retry_wait
from campus.records import orphans, retention, services

log = logging.getLogger(__name__)


@shared_task(
    bind=True,
    max_retries=3,
    name="campus.records.build_export",
    acks_late=True,
    reject_on_worker_lost=True,
)
def build_export(self, export_id: int) -> bool:
    """Build one archive and email its link (a second run finds it built and does nothing)."""
    try:
        if not services.start_build(export_id):
            db.session.commit()
            return False
        db.session.commit()  # the try is counted even if this worker dies building
        built = services.build_export(export_id)
        db.session.commit()
        return built
    except Exception as exc:
        db.session.rollback()
        log.warning("data archive %s failed: %s", export_id, exc)
        if self.request.retries < self.max_retries and not self.request.is_eager:
            raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc
        services.record_failure(export_id, exc)
        db.session.commit()
        return False


def _backoff(retries: int) -> int:
    """Wait 30 seconds, doubled per try, short of the broker's visibility timeout."""
    return retry_wait(30 * 2**retries)


@shared_task(name="campus.records.sweep_exports", acks_late=True, reject_on_worker_lost=True)
def sweep_exports() -> int:
    """Rebuild archives whose build was lost; remove the files of expired ones."""
    for export_id in services.stale_pending():
        enqueue_after_commit(build_export.name, export_id)
    count = services.expire_exports()
    db.session.commit()
    return count


@shared_task(name="campus.records.purge_retained", acks_late=True, reject_on_worker_lost=True)
def purge_retained() -> int:
    """Purge every retention hold whose period has ended, one transaction each."""
    purged = each_committed(retention.due_holds(), retention.purge_hold, "purging retention hold")
    if purged:
        log.info("purged the retained CE records of %d deleted accounts", purged)
    return purged


@shared_task(name="campus.records.delete_orphan_files", acks_late=True, reject_on_worker_lost=True)
def delete_orphan_files() -> int:
    """Delete stored member files no row refers to, once past their grace (safe to run twice)."""
    deleted = orphans.delete_orphans()
    for prefix, count in deleted.items():
        if count:
            log.info("deleted %d stored files under %s that no record refers to", count, prefix)
    return sum(deleted.values())


BEAT_SCHEDULE = {
    "records-purge-retained": {
        "task": "campus.records.purge_retained",
        "schedule": crontab(minute=45, hour=2),  # daily, by the clock: see mail.tasks
    },
    "records-sweep-exports": {
        "task": "campus.records.sweep_exports",
        "schedule": crontab(minute=35),  # hourly, by the clock: see mail.tasks
    },
    "records-delete-orphan-files": {
        "task": "campus.records.delete_orphan_files",
        "schedule": crontab(minute=15, hour=4),  # daily, by the clock: see mail.tasks
    },
}

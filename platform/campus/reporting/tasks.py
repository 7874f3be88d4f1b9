"""Send queued completions to the tracking systems, retrying with backoff, and sweep leftovers."""

from __future__ import annotations

import logging

from celery import shared_task
from flask import current_app

from campus.extensions import db
from campus.jobs import requeue, retry_wait
from campus.reporting import actions, sending, services
from campus.reporting.adapters import Accepted, TransientFailure, Unanswered
from campus.reporting.models import ReportedCompletion

log = logging.getLogger(__name__)


def _backoff(retries: int) -> int:
    """Wait REPORTING_RETRY_DELAY, doubled per try, short of the broker's visibility timeout."""
    base = current_app.config["REPORTING_RETRY_DELAY"]
    return retry_wait(min(base * 2**retries, 3600))


@shared_task(
    bind=True,
    max_retries=sending.TRIES_PER_ROUND - 1,
    acks_late=True,
    reject_on_worker_lost=True,
    name=services.SEND_TASK,
)
def send_report(self, report_id: int) -> str | None:
    """Send one queued completion and store the answer; safe to run any number of times."""
    settled = sending.hold_back(report_id) or services.hold_back_outside_audience(report_id)
    db.session.commit()
    if settled is not None:
        return settled.status
    if db.session.get(ReportedCompletion, report_id) is None:
        return None
    if not sending.claim(report_id):
        db.session.commit()
        return None  # answered already, or another worker is sending it right now
    report = db.session.get(ReportedCompletion, report_id)
    assert report is not None
    completion = services.completion_of(report)
    report.sent = completion.as_record()
    db.session.commit()  # "sent" is visible (and claimed) before the request goes out
    try:
        outcome = sending.adapter(report.system).submit(completion)
    except Exception as exc:  # a bug in an adapter must not leave the report "sent" for good
        log.exception("report %s: adapter failed", report_id)
        outcome = TransientFailure(f"{type(exc).__name__}: {exc}")
    report = sending.record_outcome(report_id, outcome)
    if isinstance(outcome, Accepted):
        # A reissue that corrected the license while this send was out found it in flight:
        # the board now holds the old number, and the correction follows its answer.
        actions.correct_after_reissue(report.certificate_id)
    db.session.commit()
    if not isinstance(outcome, (TransientFailure, Unanswered)):
        return report.status
    log.warning("report %s: %s", report_id, outcome.error)
    if isinstance(outcome, Unanswered) or self.request.retries >= self.max_retries:
        # An unanswered send is not retried now: the system may hold it. It stays "sent" until
        # stale, when the sweep sends it again and a duplicate answer counts as accepted.
        sending.record_gave_up(report_id)
        db.session.commit()
        return report.status
    if self.request.is_eager:
        # Inline runs (tests, CELERY_TASK_ALWAYS_EAGER) have no broker to hold a delayed
        # message: retry at once, counting the attempt like the worker does.
        return self.apply(args=(report_id,), retries=self.request.retries + 1).result
    raise self.retry(countdown=_backoff(self.request.retries))


@shared_task(name="campus.reporting.sweep_reports")
def sweep_reports() -> int:
    """Re-enqueue reports left pending or sent without an answer; fail those out of attempts."""
    failed = sending.give_up_idle()
    if failed:
        log.warning("report sweep: %d reports failed after their last attempt", len(failed))
    return requeue(services.SEND_TASK, sending.sweep_candidates(), "reports")


BEAT_SCHEDULE = {
    "reporting-sweep": {
        "task": "campus.reporting.sweep_reports",
        "schedule": 900.0,
    }
}

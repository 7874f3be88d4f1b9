"""Program tasks: issue credentials (and sweep), close sittings, renew, expire old videos."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.schedules import crontab
from flask import current_app

from campus import dates
from campus.extensions import db
from campus.jobs import each_committed, requeue, retry_wait
from campus.programs import actions, exam, issuing, practicals, recovery

log = logging.getLogger(__name__)

BEAT_SCHEDULE = {
    "programs-close-expired-sittings": {
        "task": "campus.programs.close_expired_sittings",
        "schedule": 60.0,
    },
    "programs-renew-credentials": {
        "task": "campus.programs.renew_credentials",
        # The program page and API tell from this time whether a check remains in the grace.
        "schedule": crontab(
            minute=issuing.RENEWAL_CHECK_AT.minute, hour=issuing.RENEWAL_CHECK_AT.hour
        ),
    },
    # Nightly, by the clock (see mail.tasks): the reviewed videos past their retention go.
    "programs-remove-reviewed-videos": {
        "task": "campus.programs.remove_reviewed_videos",
        "schedule": crontab(minute=50, hour=2),
    },
    "programs-sweep-credentials": {
        "task": "campus.programs.sweep_credentials",
        "schedule": 300.0,
    },
}


def _backoff(retries: int) -> int:
    """Wait CERTIFICATE_RETRY_DELAY, doubled per try, short of the broker's visibility timeout."""
    return retry_wait(min(current_app.config["CERTIFICATE_RETRY_DELAY"] * 2**retries, 3600))


@shared_task(
    bind=True,
    max_retries=6,
    acks_late=True,
    reject_on_worker_lost=True,
    name="campus.programs.issue_credential",
)
def issue_credential(self, user_id: int, program_id: int) -> str | None:
    """Issue the holder's credential for a program once every requirement is met; idempotent."""
    credential_id = None
    try:
        credential_id = issuing.ensure_pending(user_id, program_id)
        if credential_id is not None:
            issuing.count_try(credential_id)
        db.session.commit()  # the row and its try outlive a worker killed while issuing
        if credential_id is None:
            return None
        issued = issuing.issue(credential_id)
        db.session.commit()
        return "issued" if issued else "unchanged"
    except Exception as exc:
        db.session.rollback()
        log.warning("credential for user %s program %s failed: %s", user_id, program_id, exc)
        out_of_tries = False
        if credential_id is not None:
            issuing.record_failure(credential_id, exc)
            db.session.commit()
            out_of_tries = issuing.out_of_tries(credential_id)
        # Out of the tries CREDENTIAL_SWEEP_MAX_ATTEMPTS allows, the holder is told it needs the
        # staff (Credential.given_up): a retry queued here would contradict that.
        if out_of_tries or self.request.retries >= self.max_retries:
            return "failed"
        if self.request.is_eager:
            return self.apply(args=(user_id, program_id), retries=self.request.retries + 1).result
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc


@shared_task(acks_late=True, reject_on_worker_lost=True, name="campus.programs.sweep_credentials")
def sweep_credentials() -> int:
    """Re-run issuing for credentials left pending or failed, and for any due but never made."""
    recovery.give_up_cut_off()
    pairs = dict.fromkeys(recovery.stuck_credentials() + recovery.due_without_credential())
    return requeue(issue_credential.name, pairs, "credentials")


@shared_task(acks_late=True, reject_on_worker_lost=True, name="campus.programs.check_program")
def check_program(program_id: int) -> int:
    """After a program's requirements change: issue to whoever now meets them all, and renew."""
    # Through the issuing task and its one row per (holder, program, period): a check run twice,
    # or meeting the sweep or a completed course's check, still issues and mails once.
    queued = requeue(issue_credential.name, recovery.due_in_program(program_id), "credentials")
    day = dates.today()
    renewed = each_committed(
        issuing.renewable_ids(day, program_id=program_id),
        lambda credential_id: actions.renew_credential(credential_id, day),
        "renewal of credential",
    )
    return queued + renewed


@shared_task(
    acks_late=True, reject_on_worker_lost=True, name="campus.programs.close_expired_sittings"
)
def close_expired_sittings() -> int:
    """Close every exam sitting whose deadline has passed, scored on its saved answers."""
    return each_committed(
        exam.expired_sitting_ids(), actions.close_expired_sitting, "closing expired sitting"
    )


@shared_task(acks_late=True, reject_on_worker_lost=True, name="campus.programs.renew_credentials")
def renew_credentials() -> int:
    """Renew every credential whose holder has earned the renewal hours within its period."""
    day = dates.today()
    return each_committed(
        issuing.renewable_ids(day),
        lambda credential_id: actions.renew_credential(credential_id, day),
        "renewal of credential",
    )


@shared_task(acks_late=True, reject_on_worker_lost=True, name="campus.programs.check_enrollment")
def check_enrollment(enrollment_id: int) -> int:
    """After a course completes: issue any program it finishes, renew any credential it renews."""
    from sqlalchemy import select

    from campus.learning.models import Enrollment
    from campus.programs.models import ProgramCourse

    enrollment = db.session.get(Enrollment, enrollment_id)
    if enrollment is None:
        return 0
    program_ids = set(
        db.session.scalars(
            select(ProgramCourse.program_id).where(ProgramCourse.course_id == enrollment.course_id)
        )
    )
    for program_id in program_ids:
        issue_credential.delay(enrollment.user_id, program_id)
    day = dates.today()
    return each_committed(
        issuing.renewable_ids(day, enrollment.user_id),
        lambda credential_id: actions.renew_credential(credential_id, day),
        "renewal of credential",
    )


@shared_task(
    acks_late=True, reject_on_worker_lost=True, name="campus.programs.remove_reviewed_videos"
)
def remove_reviewed_videos() -> int:
    """Delete the practical videos kept PRACTICAL_VIDEO_RETENTION_DAYS past the final review."""
    # Storage away for a moment: that video stays due for the next night, and the others go.
    removed = each_committed(
        practicals.videos_due(), practicals.remove_video, "removing the video of practical"
    )
    if removed:
        log.info("removed %d practical videos past their retention", removed)
    return removed

"""Issue certificates in the worker, and sweep for any a crash or an outage left behind."""

from __future__ import annotations

import logging

from celery import shared_task
from flask import current_app

from campus.certificates import services, tries
from campus.certificates.signals import certificate_stored
from campus.extensions import db
from campus.jobs import requeue, retry_wait

log = logging.getLogger(__name__)


def _backoff(retries: int) -> int:
    """Wait CERTIFICATE_RETRY_DELAY, doubled per try, short of the broker's visibility timeout."""
    base = current_app.config["CERTIFICATE_RETRY_DELAY"]
    return retry_wait(min(base * 2**retries, 3600))


@shared_task(bind=True, max_retries=6, name="campus.certificates.issue_certificate")
def issue_certificate(self, enrollment_id: int) -> str | None:
    """Issue the certificate of a completed enrollment, once, however often this runs."""
    certificate_id = None
    counted = False  # whether this try's count was committed, for a failure to take back
    try:
        certificate_id = services.ensure_pending(enrollment_id)
        if certificate_id is not None and not tries.start(certificate_id):
            db.session.commit()
            return "given up"  # its drawing killed its worker too often: left for an admin
        # The pending row is visible to the student from here on, and the try outlives a
        # worker killed while drawing.
        db.session.commit()
        counted = certificate_id is not None
        if certificate_id is None:
            return None
        issued = services.issue(certificate_id)
        certificate_stored.send(None, certificate_id=certificate_id)
        db.session.commit()
        return "issued" if issued else "unchanged"
    except Exception as exc:
        db.session.rollback()
        log.warning("certificate for enrollment %s failed: %s", enrollment_id, exc)
        if certificate_id is not None:
            services.record_failure(certificate_id, exc, counted=counted)
            db.session.commit()
        if self.request.retries >= self.max_retries:
            # Left "failed" for the periodic sweep; nothing is lost.
            log.error("certificate for enrollment %s gave up after retries", enrollment_id)
            return "failed"
        if self.request.is_eager:
            # Inline runs (tests, CELERY_TASK_ALWAYS_EAGER) have no broker to hold a delayed
            # message: retry at once, counting the attempt like the worker does.
            return self.apply(args=(enrollment_id,), retries=self.request.retries + 1).result
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc


@shared_task(name="campus.certificates.sweep_certificates")
def sweep_certificates() -> int:
    """Re-enqueue completed enrollments whose certificate is missing, failed or stuck."""
    return requeue(issue_certificate.name, services.sweep_candidates(), "enrollments")


BEAT_SCHEDULE = {
    "certificates-sweep": {
        "task": "campus.certificates.sweep_certificates",
        "schedule": 300.0,
    }
}

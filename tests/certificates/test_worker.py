"""Certificates through real `celery worker` processes: duplicates, a SIGKILL, failing storage.

Over Redis and PostgreSQL in CI (DATABASE_URL / CELERY_BROKER_URL), the SQLite broker locally.
"""

from __future__ import annotations

import os
import signal
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests import support
from tests.certificates.helpers import certificate_of, complete_course, student
from tests.learning.helpers import make_course

pytestmark = pytest.mark.worker

# The worker for the kill tests: it pauses where issuing is about to commit.
PAUSING_WORKER = "tests.certificates.pausing_worker"


def _completed_quietly(app) -> tuple[int, int, str]:
    """A completed enrollment whose completion enqueued nothing: the test sends the tasks."""
    from campus.learning.signals import enrollment_evaluated

    with app.app_context():
        course = make_course()
        user = student()
        with enrollment_evaluated.muted():
            enrollment_id = complete_course(user.id, course)
        return enrollment_id, user.id, user.email


def _counts(app, user_id: int, email: str) -> tuple[int, int, int]:
    from campus.certificates.models import Certificate, CertificateEvent
    from campus.extensions import db
    from campus.mail.models import EmailMessage

    with app.app_context():
        certificates = db.session.scalar(
            select(func.count(Certificate.id)).where(Certificate.user_id == user_id)
        )
        issued_events = db.session.scalar(
            select(func.count(CertificateEvent.id)).where(CertificateEvent.kind == "issued")
        )
        emails = db.session.scalar(
            select(func.count(EmailMessage.id)).where(EmailMessage.to == email)
        )
        db.session.remove()
        return certificates, issued_events, emails


def _status(app, user_id: int) -> str | None:
    from campus.extensions import db

    with app.app_context():
        cert = certificate_of(user_id)
        status = cert.status if cert else None
        db.session.remove()
        return status


@pytest.mark.slow
def test_twenty_concurrent_duplicates_issue_one_certificate_and_one_email(live_app, worker):
    from celery import group

    from campus.certificates.tasks import issue_certificate

    enrollment_id, user_id, email = _completed_quietly(live_app)
    with live_app.app_context():
        result = group(issue_certificate.s(enrollment_id) for _ in range(20)).apply_async()
    task_ids = [r.id for r in result.results]
    log = Path(worker.log_path)

    def all_finished() -> bool:
        text = log.read_text()
        return all(f"[{task_id}] succeeded" in text for task_id in task_ids)

    support.wait_for(all_finished, timeout=90, message="all 20 duplicate tasks to finish")
    support.wait_for(lambda: support.outbox(live_app), timeout=30, message="the email")
    assert _counts(live_app, user_id, email) == (1, 1, 1)
    assert _status(live_app, user_id) == "issued"
    assert len(support.outbox(live_app)) == 1
    lines = [
        line
        for line in log.read_text().splitlines()
        if any(f"[{task_id}] succeeded in" in line for task_id in task_ids)
    ]
    assert len(lines) == 20
    outcomes = sorted(line.rsplit(": ", 1)[-1] for line in lines)
    assert outcomes == ["'issued'"] + ["'unchanged'"] * 19


def _kill_worker_tree(proc) -> None:
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


@pytest.mark.slow
def test_worker_killed_mid_issue_still_ends_with_one_certificate_and_one_email(live_app):
    """SIGKILL the pool process while it holds the row lock with the PDF written, then recover."""
    from campus.certificates.tasks import issue_certificate

    enrollment_id, user_id, email = _completed_quietly(live_app)
    pause = Path(tempfile.mkdtemp(prefix="certs-pause-"))
    (pause / "armed").touch()
    worker = support.start_worker(
        concurrency=1,
        pool="prefork",
        log_name="worker-kill.log",
        queues="certificates-kill",
        celery_app=PAUSING_WORKER,
        CERTIFICATE_PAUSE_DIR=str(pause),
    )
    try:
        with live_app.app_context():
            issue_certificate.apply_async(args=[enrollment_id], queue="certificates-kill")
        support.wait_for(
            lambda: (pause / "reached").exists(), timeout=60, message="the task to pause"
        )
        child = int((pause / "reached").read_text())
        assert child != worker.pid
        # Paused between storing the PDF and committing: the row is still pending, no email.
        assert _status(live_app, user_id) == "pending"
        assert _counts(live_app, user_id, email) == (1, 0, 0)
        os.kill(child, signal.SIGKILL)
        # The pool notices its process died; task_reject_on_worker_lost puts the message back and
        # a fresh pool process (the restarted worker process) runs it to the end.
        support.wait_for(
            lambda: _status(live_app, user_id) == "issued", timeout=90, message="reissue"
        )
    finally:
        (pause / "release").touch()
        support.stop_worker(worker)
    log = Path(worker.log_path).read_text()
    assert "WorkerLostError" in log or "exited with 'signal 9 (SIGKILL)'" in log
    assert _counts(live_app, user_id, email) == (1, 1, 1)


@pytest.mark.slow
@pytest.mark.skipif(
    not os.environ["CELERY_BROKER_URL"].startswith("redis"),
    reason="redelivery of an unacknowledged message after a whole-worker crash needs Redis",
)
def test_whole_worker_killed_mid_issue_is_redelivered_after_restart(live_app):
    """SIGKILL the worker and its pool over Redis; a restarted worker gets the message again."""
    from campus.certificates.tasks import issue_certificate

    enrollment_id, user_id, email = _completed_quietly(live_app)
    pause = Path(tempfile.mkdtemp(prefix="certs-pause-"))
    (pause / "armed").touch()
    settings = {
        "concurrency": 1,
        "pool": "prefork",
        "queues": "certificates-crash",
        "celery_app": PAUSING_WORKER,
        "CERTIFICATE_PAUSE_DIR": str(pause),
        "CELERY_VISIBILITY_TIMEOUT": "3",
    }
    first = support.start_worker(log_name="worker-crash-1.log", **settings)
    try:
        with live_app.app_context():
            issue_certificate.apply_async(args=[enrollment_id], queue="certificates-crash")
        support.wait_for(lambda: (pause / "reached").exists(), timeout=60, message="the pause")
        assert _status(live_app, user_id) == "pending"
    finally:
        _kill_worker_tree(first)
    second = support.start_worker(log_name="worker-crash-2.log", **settings)
    try:
        support.wait_for(
            lambda: _status(live_app, user_id) == "issued", timeout=90, message="redelivery"
        )
    finally:
        (pause / "release").touch()
        support.stop_worker(second)
    assert _counts(live_app, user_id, email) == (1, 1, 1)


@pytest.mark.slow
def test_storage_failure_in_the_worker_is_retried_with_backoff_until_it_works(live_app):
    from campus.certificates.tasks import issue_certificate

    enrollment_id, user_id, email = _completed_quietly(live_app)
    folder = Path(tempfile.mkdtemp(prefix="certs-store-"))
    blocker = folder / "disk"
    blocker.write_text("a file where the storage folder should be")
    worker = support.start_worker(
        concurrency=1,
        log_name="worker-storage.log",
        queues="certificates-retry",
        STORAGE_LOCAL_DIR=str(blocker),
        CERTIFICATE_RETRY_DELAY="1",
    )
    try:
        with live_app.app_context():
            issue_certificate.apply_async(args=[enrollment_id], queue="certificates-retry")

        def failed_twice():
            with live_app.app_context():
                cert = certificate_of(user_id)
                ok = cert is not None and cert.status == "failed" and cert.attempts >= 2
                from campus.extensions import db

                db.session.remove()
                return ok

        support.wait_for(failed_twice, timeout=60, message="two failed attempts")
        assert not list(folder.rglob("*.pdf"))
        blocker.unlink()  # the disk is back
        support.wait_for(
            lambda: _status(live_app, user_id) == "issued", timeout=60, message="the retry"
        )
    finally:
        support.stop_worker(worker)
    with live_app.app_context():
        cert = certificate_of(user_id)
        kinds = [e.kind for e in cert.events]
        assert kinds[0] == "created" and kinds[-1] == "issued"
        assert kinds.count("failed") >= 2 and kinds.count("issued") == 1
        assert (blocker / cert.storage_key).is_file()
    assert _counts(live_app, user_id, email)[:2] == (1, 1)

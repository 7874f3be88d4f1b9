"""A worker killed while delivering an email: the sweep sends it, once, on every broker."""

from __future__ import annotations

import os
import signal
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import select

from tests import support

pytestmark = pytest.mark.worker


def _status(app, message_id: int) -> str:
    from campus.extensions import db
    from campus.mail.models import EmailMessage

    with app.app_context():
        status = db.session.scalar(select(EmailMessage.status).where(EmailMessage.id == message_id))
        db.session.remove()
        return status


@pytest.fixture
def mail_app(_database):
    """An app sending deliveries to the kill test's own queue, away from the shared worker."""
    app = support.make_app(
        eager=False,
        CELERY_OVERRIDES={"task_routes": {"campus.mail.deliver_email": {"queue": "mail-kill"}}},
    )
    yield app
    support.clean_database(app)


def test_an_email_whose_worker_was_killed_mid_delivery_is_swept_and_sent_once(mail_app):
    from campus.extensions import db
    from campus.mail.services import queue_email
    from campus.mail.tasks import sweep_unsent

    pause = Path(tempfile.mkdtemp(prefix="mail-pause-"))
    (pause / "armed").touch()
    worker = support.start_worker(
        concurrency=1,
        pool="prefork",
        log_name="worker-mail-kill.log",
        queues="mail-kill",
        celery_app="tests.main.pausing_mail_worker",
        MAIL_PAUSE_DIR=str(pause),
    )
    try:
        with mail_app.app_context():
            message = queue_email(
                "ana@example.com",
                "Your certificate is ready",
                "billing_comp_ended",
                user=support.create_user(email="ana@example.com"),
                link="https://campus.example/membership",
            )
            db.session.commit()  # the delivery task is sent after this commit
            message_id = message.id
        support.wait_for(lambda: (pause / "reached").exists(), timeout=60, message="the pause")
        assert _status(mail_app, message_id) == "sending"
    finally:
        os.killpg(worker.pid, signal.SIGKILL)  # the whole worker: nothing acknowledges or retries
        worker.wait(timeout=10)
    assert support.outbox(mail_app) == []
    # A sweep inside the claim timeout leaves it to its (presumed live) deliverer.
    with mail_app.app_context():
        assert sweep_unsent() == 0
    sweeper = support.make_app(MAIL_SWEEP_AFTER=0, MAIL_CLAIM_TIMEOUT=0)
    with sweeper.app_context():
        assert sweep_unsent() == 1
        assert sweep_unsent() == 0
        db.session.remove()
        db.engine.dispose()  # the sweeper's pooled connections close with it
    assert _status(mail_app, message_id) == "sent"
    [sent] = support.outbox(mail_app)
    assert sent["Subject"] == "Your certificate is ready"

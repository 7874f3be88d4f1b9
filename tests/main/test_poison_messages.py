"""A message whose task kills its worker every time is given up after CELERY_MAX_DELIVERIES."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import select

from tests import support
from tests.main.crashing_worker import CRASH_TASK

pytestmark = pytest.mark.skipif(
    not os.environ["CELERY_BROKER_URL"].startswith("redis"),
    reason="deliveries are counted in the broker's Redis",
)


def _runs(folder: Path) -> int:
    runs = folder / "runs"
    return len(runs.read_text().splitlines()) if runs.exists() else 0


@pytest.mark.usefixtures("app")  # the migrated database the task reads
def test_a_task_whose_runs_end_is_never_given_up_however_often_it_is_delivered():
    from campus.accounts.tasks import purge_ended_sessions

    app = support.shared_app(eager=False)
    with app.app_context():
        limit = app.config["CELERY_MAX_DELIVERIES"]
        # The same message run past the limit, each run ending (a visibility-timeout duplicate,
        # a warm shutdown's): only runs cut off by their worker's death count.
        purge_ended_sessions.push_request(id="same-message", retries=0, is_eager=False)
        try:
            results = [purge_ended_sessions() for _ in range(limit + 2)]
        finally:
            purge_ended_sessions.pop_request()
    assert results == [0] * (limit + 2)


@pytest.mark.slow
@pytest.mark.worker
def test_a_task_that_kills_its_worker_every_time_is_given_up_and_recorded(live_app):
    from campus.audit import AuditEntry
    from campus.extensions import db

    folder = Path(tempfile.mkdtemp(prefix="poison-"))
    worker = support.start_worker(
        concurrency=1,
        pool="prefork",
        log_name="worker-poison.log",
        queues="poison",
        celery_app="tests.main.crashing_worker",
        CELERY_MAX_DELIVERIES="3",
    )
    try:
        celery_app = live_app.extensions["celery"]
        result = celery_app.send_task(CRASH_TASK, args=[str(folder)], queue="poison")
        log = Path(worker.log_path)
        support.wait_for(
            lambda: "given up after 3 deliveries" in log.read_text(),
            timeout=90,
            message="the worker to give the message up",
        )
        # Each of the three deliveries killed its pool process; the fourth did not run it.
        assert _runs(folder) == 3
        # The worker carries on: the message is gone, nothing runs it again.
        support.wait_for(
            lambda: f"[{result.id}] succeeded" in log.read_text(), timeout=30, message="the ack"
        )
        assert _runs(folder) == 3
        assert worker.poll() is None
    finally:
        support.stop_worker(worker)
    with live_app.app_context():
        entry = db.session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "task_given_up", AuditEntry.object_id == result.id
            )
        ).one()
        assert CRASH_TASK in entry.summary
        assert entry.actor_email == "system"

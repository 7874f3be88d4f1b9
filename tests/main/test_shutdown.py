"""Graceful shutdown on SIGTERM: gunicorn finishes the request in flight, a Celery worker the task
in hand; a worker killed mid-task loses nothing, another worker runs the task again.

The web test runs gunicorn as production does (gthread, --graceful-timeout); the worker tests
use the certificate kill tests' pausing worker (tests/certificates/pausing_worker.py).
"""

from __future__ import annotations

import os
import signal
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from tests import support
from tests.certificates.test_worker import PAUSING_WORKER, _completed_quietly, _counts, _status

pytestmark = [pytest.mark.slow]


def test_gunicorn_on_sigterm_finishes_the_request_in_flight_then_exits(_database):
    from tests.main.slow_wsgi import BODY

    folder = Path(tempfile.mkdtemp(prefix="slow-request-"))
    web = support.start_web(
        log_name="web-shutdown.log", app="tests.main.slow_wsgi:app", SLOW_REQUEST_DIR=str(folder)
    )
    answers: list[tuple[int, bytes]] = []

    def ask() -> None:
        with urllib.request.urlopen(f"{web.url}/slow-for-test", timeout=60) as answer:  # type: ignore[attr-defined]
            answers.append((answer.status, answer.read()))

    asking = threading.Thread(target=ask)
    asking.start()
    try:
        support.wait_for(lambda: (folder / "reached").exists(), message="the request to start")
        os.kill(web.pid, signal.SIGTERM)  # what a supervisor or `docker stop` sends the master
        log = Path(web.log_path)  # type: ignore[attr-defined]
        support.wait_for(lambda: "Handling signal: term" in log.read_text(), message="SIGTERM")
        # Shutting down, and still holding the request: nothing was cut off.
        assert web.poll() is None and asking.is_alive() and answers == []
    finally:
        (folder / "release").touch()
        asking.join(timeout=60)
    assert web.wait(timeout=60) == 0
    assert answers == [(200, BODY)]
    assert "Shutting down: Master" in Path(web.log_path).read_text()  # type: ignore[attr-defined]


def test_ctrl_c_stops_gunicorn_through_its_master_alone(_database):
    """A worker leaves a terminal's SIGINT to the master, which stops it (gunicorn.conf.py)."""
    import subprocess

    web = support.start_web(log_name="web-ctrl-c.log")
    try:
        [worker] = subprocess.run(
            ["pgrep", "-P", str(web.pid)], capture_output=True, text=True, check=True
        ).stdout.split()
        os.kill(int(worker), signal.SIGINT)  # what Ctrl+C sends each process of the group
        time.sleep(1)
        with urllib.request.urlopen(f"{web.url}/healthz", timeout=10) as answer:  # type: ignore[attr-defined]
            assert answer.status == 200
        log = Path(web.log_path).read_text()  # type: ignore[attr-defined]
        assert "Worker exiting" not in log and "Booting worker" in log
        os.kill(web.pid, signal.SIGINT)
        assert web.wait(timeout=15) == 0
    finally:
        if web.poll() is None:
            web.kill()
    assert "Shutting down: Master" in Path(web.log_path).read_text()  # type: ignore[attr-defined]


@pytest.mark.worker
def test_worker_on_sigterm_finishes_the_task_in_hand_then_exits(live_app):
    """Warm shutdown: the certificate being issued is issued before the worker process ends."""
    from campus.certificates.tasks import issue_certificate

    enrollment_id, user_id, email = _completed_quietly(live_app)
    pause = Path(tempfile.mkdtemp(prefix="certs-pause-"))
    (pause / "armed").touch()
    worker = support.start_worker(
        concurrency=1,
        pool="prefork",
        log_name="worker-sigterm.log",
        queues="certificates-sigterm",
        celery_app=PAUSING_WORKER,
        CERTIFICATE_PAUSE_DIR=str(pause),
    )
    try:
        with live_app.app_context():
            issue_certificate.apply_async(args=[enrollment_id], queue="certificates-sigterm")
        support.wait_for(lambda: (pause / "reached").exists(), timeout=60, message="the pause")
        os.kill(worker.pid, signal.SIGTERM)  # the main process only, as a supervisor does
        log = Path(worker.log_path)  # type: ignore[attr-defined]
        support.wait_for(lambda: "Warm shutdown" in log.read_text(), message="warm shutdown")
        assert worker.poll() is None and _status(live_app, user_id) == "pending"
        (pause / "release").touch()
        assert worker.wait(timeout=60) == 0
    finally:
        (pause / "release").touch()
        support.stop_worker(worker, signal.SIGKILL)
    assert _status(live_app, user_id) == "issued"
    assert _counts(live_app, user_id, email)[:2] == (1, 1)
    assert "succeeded" in Path(worker.log_path).read_text()  # type: ignore[attr-defined]


@pytest.mark.worker
@pytest.mark.skipif(
    not os.environ["CELERY_BROKER_URL"].startswith("redis"),
    reason="redelivery of a message a dead worker held needs Redis (the sweep covers SQLite)",
)
def test_a_worker_killed_mid_task_loses_nothing_another_worker_runs_it(live_app):
    """acks_late + task_reject_on_worker_lost: the message goes back, a running peer takes it."""
    from campus.certificates.tasks import issue_certificate

    enrollment_id, user_id, email = _completed_quietly(live_app)
    pause = Path(tempfile.mkdtemp(prefix="certs-pause-"))
    (pause / "armed").touch()
    settings = {
        "concurrency": 1,
        "pool": "prefork",
        "queues": "certificates-peers",
        "celery_app": PAUSING_WORKER,
        "CERTIFICATE_PAUSE_DIR": str(pause),
        "CELERY_VISIBILITY_TIMEOUT": "3",
    }
    first = support.start_worker(log_name="worker-peer-1.log", **settings)
    second = None
    try:
        with live_app.app_context():
            issue_certificate.apply_async(args=[enrollment_id], queue="certificates-peers")
        support.wait_for(lambda: (pause / "reached").exists(), timeout=60, message="the pause")
        # The peer is up before the crash and stays up: it picks the message up on its own.
        second = support.start_worker(log_name="worker-peer-2.log", **settings)
        os.killpg(first.pid, signal.SIGKILL)  # the whole machine goes: main process and pool
        first.wait(timeout=10)
        support.wait_for(
            lambda: _status(live_app, user_id) == "issued", timeout=90, message="the peer"
        )
    finally:
        (pause / "release").touch()
        support.stop_worker(first, signal.SIGKILL)
        if second is not None:
            support.stop_worker(second)
    second_log = Path(second.log_path).read_text()  # type: ignore[union-attr]
    assert "campus.certificates.issue_certificate" in second_log
    assert _counts(live_app, user_id, email)[:2] == (1, 1)

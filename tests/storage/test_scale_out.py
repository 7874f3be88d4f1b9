"""Campus on four machines: two gunicorn web processes, two Celery workers and one beat, each
with its own instance folder, sharing PostgreSQL, Redis and the object store (moto's S3).

Only the shared services carry state between them: a certificate a worker stores downloads
through either web process, a comp granted on one web process is paid access on the other at
once, login limits count across both, and beat's runs are neither doubled nor lost.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests import support
from tests.storage.s3 import LocalS3

# The machines' Celery app and queue (tests/storage/machines.py): the suite's session worker
# shares the broker, and must not take the four machines' tasks.
MACHINES = "tests.storage.machines"
QUEUE = "scale-out"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.worker,
    pytest.mark.skipif(
        not support.using_real_services(),
        reason="four machines share PostgreSQL and Redis (CI runs this on both)",
    ),
]


def _beat(env: dict[str, str], folder: Path) -> subprocess.Popen:
    log_path = folder / "beat.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                MACHINES,
                "beat",
                "--loglevel=info",
                f"--schedule={folder / 'celerybeat-schedule'}",
            ],
            cwd=support.ROOT,
            env=support.worker_env(**env),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    proc.log_path = log_path  # type: ignore[attr-defined]
    return proc


@pytest.fixture
def hosts(_database, s3_server: LocalS3, bucket: str):
    """Start the four machines (plus beat on the first worker's); stop them afterwards."""
    from campus.certificates.signing import generate_jwk

    # The test's own app sends the certificate task to the machines' queue.
    app = support.make_app(eager=False, CELERY_OVERRIDES={"task_default_queue": QUEUE})
    root = Path(tempfile.mkdtemp(prefix="campus-hosts-"))
    shared = {
        **s3_server.settings(bucket),
        "RATELIMIT_STORAGE_URI": os.environ["CELERY_BROKER_URL"],
        "CERTIFICATE_SIGNING_KEY": json.dumps(generate_jwk()),
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "CAMPUS_TEST_QUEUE": QUEUE,
    }
    started: list[subprocess.Popen] = []

    def machine(name: str) -> dict[str, str]:
        instance = root / name / "instance"
        instance.mkdir(parents=True)
        return {**shared, "INSTANCE_PATH": str(instance)}

    try:
        web = [
            support.start_web(log_name=f"scale-web-{n}.log", **machine(f"web-{n}")) for n in (1, 2)
        ]
        started += web
        workers = [
            support.start_worker(
                concurrency=2,
                log_name=f"scale-worker-{n}.log",
                queues=QUEUE,
                celery_app=MACHINES,
                **machine(f"worker-{n}"),
            )
            for n in (1, 2)
        ]
        started += workers
        beat = _beat(machine("worker-1-beat"), root / "worker-1-beat")
        started.append(beat)
        yield SimpleNamespace(app=app, web=web, workers=workers, beat=beat, root=root)
    finally:
        for proc in reversed(started):
            support.stop_worker(proc, signal.SIGTERM)
        support.clean_database(app)


def _session_cookie(app, user_id: int, *, admin: bool = False) -> str:
    """A signed session cookie for the user, made by a test client of the same secret key."""
    client = app.test_client()
    with app.app_context():
        support.sign_in_directly(client, user_id, second_factor=admin)
    if admin:
        import time

        with client.session_transaction() as session:
            session["admin_confirmed_at"] = time.time()
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def _signed_in(app, user_id: int, *, admin: bool = False) -> support.HttpClient:
    http = support.HttpClient()
    http.set_cookie("session", _session_cookie(app, user_id, admin=admin))
    return http


def test_four_machines_share_files_access_limits_and_one_beat(hosts, s3_server, bucket):
    from tests.certificates.helpers import certificate_of, complete_course, student
    from tests.learning.helpers import make_course

    app, (web_a, web_b) = hosts.app, hosts.web
    from campus.extensions import db

    # A certificate issued by one of the workers (the task goes through Redis) ...
    with app.app_context():
        course = make_course()
        learner = student(email=f"learner-{uuid.uuid4().hex[:8]}@example.com")
        learner_id = learner.id
        complete_course(learner_id, course)

    def issued():
        with app.app_context():
            cert = certificate_of(learner_id)
            found = (cert.code, cert.storage_key) if cert and cert.status == "issued" else None
            db.session.remove()
            return found

    code, key = support.wait_for(issued, timeout=90, message="a worker to issue the certificate")
    stored = s3_server.keys(bucket)[f"campus/{key}"]
    assert stored.startswith(b"%PDF")
    # ... downloads, the same bytes, through either web process; no machine kept a copy.
    learner_http = _signed_in(app, learner_id)
    for web in (web_a, web_b):
        status, headers, body = learner_http.request(f"{web.url}/certificates/{code}.pdf")
        assert (status, headers["Content-Type"]) == (200, "application/pdf")
        assert body == stored
    assert not list(hosts.root.rglob("*.pdf"))
    worker_logs = "".join(Path(w.log_path).read_text() for w in hosts.workers)
    assert "campus.certificates.issue_certificate" in worker_logs

    # A comp granted through web A is paid access on web B at once.
    with app.app_context():
        admin = support.create_user(role="admin", email=f"admin-{uuid.uuid4().hex[:8]}@example.com")
        admin_id = admin.id
        support.enable_totp(admin_id)
        member = support.create_user(email=f"member-{uuid.uuid4().hex[:8]}@example.com")
        member_id, member_email = member.id, member.email
    member_http = _signed_in(app, member_id)

    def access_on(web) -> bool:
        status, _headers, body = member_http.request(f"{web.url}/api/v1/me")
        assert status == 200, body[:500]
        return bool(json.loads(body)["membership"]["has_access"])

    assert not access_on(web_a) and not access_on(web_b)
    admin_http = _signed_in(app, admin_id, admin=True)
    status, headers, _body = admin_http.post_form(
        f"{web_a.url}/admin/members/{member_id}/comp", {"days": "30", "reason": "Guest teacher"}
    )
    assert status == 302 and "/confirm/" not in headers["Location"]
    assert access_on(web_b) and access_on(web_a)

    # Login failures for one account, alternating between the two processes, share one limit
    # (5 a minute): in-memory counters would let each process allow five.
    anonymous = support.HttpClient()
    statuses = [
        anonymous.post_form(
            f"{web.url}/login", {"email": member_email, "password": "not the password!"}
        )[0]
        for web in (web_a, web_b) * 4
    ]
    assert statuses == [422] * 5 + [429] * 3

    # Beat runs once: every probe it sent ran exactly once, on one worker or the other.
    beat_log = Path(hosts.beat.log_path)

    def probes_sent() -> int:
        return beat_log.read_text().count("Sending due task scale-out-probe")

    support.wait_for(lambda: probes_sent() >= 4, timeout=60, message="four beat probes")
    sent = probes_sent()

    def runs() -> list[str]:
        pattern = re.compile(r"campus\.certificates\.sweep_certificates\[([0-9a-f-]+)\] succeeded")
        return [
            task_id
            for worker in hosts.workers
            for task_id in pattern.findall(Path(worker.log_path).read_text())
        ]

    support.wait_for(lambda: len(runs()) >= sent, timeout=30, message="the probes to run")
    support.stop_worker(hosts.beat, signal.SIGTERM)
    sent = probes_sent()
    support.wait_for(lambda: len(runs()) >= sent, timeout=30, message="the last probes to run")
    done = runs()
    assert len(done) == len(set(done)) == sent
    assert beat_log.read_text().count("beat: Starting...") == 1

"""The whole stack for browser tests: migrated and seeded database, gunicorn and a Celery worker.

The stack gets a database and a broker of its own, next to the suite's: the suite's PostgreSQL
database name + "_e2e" and another Redis database when the suite runs on PostgreSQL + Redis,
SQLite files in its own instance folder otherwise. So it never touches rows the other tests
(maybe running in parallel under pytest-xdist) rely on.
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests import support

# Seat time runs at a demonstration speed; heartbeats come every second so a lesson opens fast.
SEAT_TIME_SCALE = "0.002"
HEARTBEAT_SECONDS = "1"


def free_port() -> int:
    """Ask the kernel for a loopback port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _own_database(instance: Path) -> str:
    explicit = os.environ.get("E2E_DATABASE_URL")
    if explicit:
        return explicit
    url = os.environ["DATABASE_URL"]
    if url.startswith("postgresql"):
        parsed = make_url(url)
        return parsed.set(database=f"{parsed.database}_e2e").render_as_string(hide_password=False)
    return f"sqlite:///{instance / 'campus.sqlite'}"


def _own_broker(instance: Path) -> str:
    """The suite's Redis database + 8 (mod 16), or a SQLite broker in the instance folder."""
    explicit = os.environ.get("E2E_CELERY_BROKER_URL")
    if explicit:
        return explicit
    broker = os.environ["CELERY_BROKER_URL"]
    if broker.startswith("redis"):
        parts = urlsplit(broker)
        given = parts.path.strip("/")
        number = ((int(given) if given.isdigit() else 0) + 8) % 16
        return urlunsplit(parts._replace(path=f"/{number}"))
    return f"sqla+sqlite:///{instance / 'broker.sqlite'}"


def _reset_database(url: str) -> None:
    if url.startswith("postgresql"):
        support._ensure_pg_database(url)
        engine = create_engine(support._pg_url(url), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    elif url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)


def _flush_redis(url: str) -> None:
    if url.startswith("redis"):
        import redis

        client = redis.Redis.from_url(url)
        try:
            client.flushdb()
        finally:
            client.close()


@dataclass
class Stack:
    """A running Campus: its address, environment and instance folder."""

    base_url: str
    env: dict[str, str]
    instance: Path
    processes: list[subprocess.Popen] = field(default_factory=list)

    def url(self, path: str) -> str:
        """Return the absolute address of a path on this server."""
        return self.base_url + path

    def flask(self, *args: str) -> str:
        """Run `flask --app wsgi ARGS` against this stack's database; return its output."""
        done = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", *args],
            cwd=support.ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode != 0:
            raise AssertionError(f"flask {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def prepare(self, *args: str) -> dict:
        """Run `python -m tests.e2e.prepare ARGS` in the stack's environment; its JSON."""
        done = subprocess.run(
            [sys.executable, "-m", "tests.e2e.prepare", *args],
            cwd=support.ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        if done.returncode != 0:
            raise AssertionError(f"prepare {' '.join(args)} failed:\n{done.stderr[-4000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])

    def outbox(self) -> list[email.message.EmailMessage]:
        """Every message the stack wrote to its outbox folder, oldest first."""
        folder = self.instance / "outbox"
        return [
            email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            for path in sorted(folder.glob("*.eml"), key=lambda p: (p.stat().st_mtime, p.name))
        ]

    def mail_to(self, address: str, subject_has: str, timeout: float = 30) -> str:
        """Wait for a message to `address` whose subject contains `subject_has`; its text body."""

        def find() -> str | None:
            for message in reversed(self.outbox()):
                if address in str(message["To"]) and subject_has in str(message["Subject"]):
                    return support.body_of(message)
            return None

        return support.wait_for(find, timeout=timeout, message=f"mail '{subject_has}' to {address}")

    def logs(self) -> str:
        """The tail of the server and worker logs, for a failure message."""
        parts = []
        for name in ("gunicorn.log", "worker.log"):
            path = self.instance / name
            if path.exists():
                parts.append(f"--- {name}\n{path.read_text()[-3000:]}")
        return "\n".join(parts)

    def stop(self) -> None:
        """Stop gunicorn and the worker (their whole process groups)."""
        for proc in self.processes:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.processes:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


def _spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("w") as out:  # the child writes to its own copy of the descriptor
        return subprocess.Popen(
            args,
            cwd=support.ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def start_stack(instance: Path) -> Stack:
    """Migrate and seed a database of the stack's own, then start gunicorn and a worker."""
    instance.mkdir(parents=True, exist_ok=True)
    # E2E_PORT pins the server to a port (a shared machine hands out ranges); else any free one.
    port = int(os.environ.get("E2E_PORT") or free_port())
    base_url = f"http://127.0.0.1:{port}"
    database = _own_database(instance)
    broker = _own_broker(instance)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST_", "CAMPUS_TESTS_", "STRIPE_"))
    }
    env.update(
        CAMPUS_ENV="development",
        INSTANCE_PATH=str(instance),
        DATABASE_URL=database,
        CELERY_BROKER_URL=broker,
        CELERY_TASK_ALWAYS_EAGER="0",
        PUBLIC_BASE_URL=base_url,
        PORT=str(port),
        SEAT_TIME_SCALE=SEAT_TIME_SCALE,
        SEAT_TIME_HEARTBEAT_SECONDS=HEARTBEAT_SECONDS,
        PYTHONPATH=str(support.ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    )
    _reset_database(database)
    _flush_redis(broker)
    stack = Stack(base_url=base_url, env=env, instance=instance)
    stack.flask("db", "upgrade")
    stack.flask("seed-demo")
    try:
        worker = _spawn(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "workers",
                "worker",
                "--pool=threads",
                "--concurrency=4",
                "--loglevel=info",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            env,
            instance / "worker.log",
        )
        stack.processes.append(worker)
        web = _spawn(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
                "--threads",
                "4",
                "wsgi:app",
            ],
            env,
            instance / "gunicorn.log",
        )
        stack.processes.append(web)
        worker_log = instance / "worker.log"
        support.wait_for(
            lambda: worker.poll() is not None or " ready." in worker_log.read_text(),
            timeout=60,
            message="the e2e Celery worker to start",
        )
        support.wait_for(
            lambda: web.poll() is not None or _healthy(base_url),
            timeout=60,
            message=f"gunicorn to answer on {base_url}",
        )
        if worker.poll() is not None or web.poll() is not None:
            raise RuntimeError(f"the e2e stack exited early:\n{stack.logs()}")
    except BaseException:
        stack.stop()
        raise
    return stack

"""Reusable HTTP benchmark harness: our pages against a bare Flask page, same gunicorn, one run.

A scenario names a path of the Campus app, optionally a `prepare` function (run once inside an
app context on the benchmark database; it returns a dict that may hold `path` and `login`, an
email signed in with DEMO_PASSWORD) and a `target` ratio (our req/s over the bare page's).
Feature modules under bench/scenarios/ each define SCENARIOS. `bench/pages.py` runs them.

Method: one temporary instance (SQLite by default, or DATABASE_URL), both apps under gunicorn
with the same workers and threads, loaded in turn by wrk for the same duration and connections,
in alternating rounds; the figures printed are medians over the rounds.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO_PASSWORD = "bench-password-123"
# One browser: sessions are tied to the user agent, so the login and the load must agree.
USER_AGENT = "campus-bench/1.0"


@dataclass
class Scenario:
    """One page to load: `path`, or a path returned by `prepare` under the key "path"."""

    name: str
    path: str = "/"
    prepare: Callable[[], dict] | None = None
    login: str | None = None
    target: float | None = None
    context: dict = field(default_factory=dict)


@dataclass
class Result:
    """One wrk run."""

    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx: int


def make_user(email: str, *, paid: bool = False, role: str = "student") -> str:
    """Create a verified benchmark user (an active Stripe subscriber if paid); return the email."""
    from datetime import timedelta

    from campus.accounts.models import User
    from campus.accounts.services import get_user_by_email, hash_password
    from campus.billing.models import Subscription
    from campus.extensions import db
    from campus.models.base import utcnow

    user = get_user_by_email(email)
    if user is None:
        user = User(
            email=email,
            password_hash=hash_password(DEMO_PASSWORD),
            full_name="Bench Reader",
            profession="massage_therapist",
            role=role,
            email_verified_at=utcnow(),
        )
        db.session.add(user)
        db.session.flush()
        if paid:
            db.session.add(
                Subscription(
                    user_id=user.id,
                    stripe_subscription_id=f"sub_bench_{user.id}",
                    stripe_customer_id=f"cus_bench_{user.id}",
                    status="active",
                    price_id="price_bench",
                    current_period_end=utcnow() + timedelta(days=30),
                )
            )
        db.session.commit()
    return email


def bench_environment(prefix: str, database_url: str | None = None) -> Path:
    """Point this process at a fresh temporary instance (SQLite unless a URL is given)."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ.update(
        CAMPUS_ENV="development",
        INSTANCE_PATH=str(tmp / "instance"),
        SECRET_KEY="bench-secret",
        CELERY_TASK_ALWAYS_EAGER="1",
        RATELIMIT_ENABLED="0",
        DATABASE_URL=database_url or f"sqlite:///{tmp / 'bench.sqlite'}",
        CELERY_BROKER_URL=f"sqla+sqlite:///{tmp / 'broker.sqlite'}",
    )
    return tmp


def discover() -> list[Scenario]:
    """Collect SCENARIOS from every module in bench/scenarios/."""
    import importlib

    found: list[Scenario] = []
    for path in sorted((ROOT / "bench" / "scenarios").glob("*.py")):
        if path.stem.startswith("_"):
            continue
        module = importlib.import_module(f"bench.scenarios.{path.stem}")
        found.extend(getattr(module, "SCENARIOS", []))
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except Exception:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


class Bench:
    """Owns the temporary instance, the two gunicorn servers and the wrk runs."""

    def __init__(self, workers: int = 2, threads: int = 1) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="campus-bench-"))
        self.env = dict(os.environ)
        self.env.update(
            CAMPUS_ENV="development",
            INSTANCE_PATH=str(self.tmp / "instance"),
            SECRET_KEY="bench-secret",
            CELERY_TASK_ALWAYS_EAGER="1",
            RATELIMIT_ENABLED="0",
            PYTHONPATH=str(ROOT),
        )
        self.env.setdefault("DATABASE_URL", f"sqlite:///{self.tmp / 'bench.sqlite'}")
        self.env.setdefault("CELERY_BROKER_URL", f"sqla+sqlite:///{self.tmp / 'broker.sqlite'}")
        self.workers, self.threads = workers, threads
        self.start_timeout = 30.0  # seconds for a server to answer (longer on a busy machine)
        self.procs: list[subprocess.Popen] = []

    # --- set-up -------------------------------------------------------------------------------

    def prepare(self, scenarios: list[Scenario]) -> None:
        """Migrate the benchmark database and run each scenario's prepare()."""
        os.environ.update(self.env)
        subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
        )
        from campus import create_app

        app = create_app()
        with app.app_context():
            for scenario in scenarios:
                if scenario.prepare is not None:
                    scenario.context = scenario.prepare() or {}
                    scenario.path = scenario.context.get("path", scenario.path)
                    scenario.login = scenario.context.get("login", scenario.login)

    def serve(self, target: str, port: int | None = None) -> str:
        """Start gunicorn for a WSGI target (on `port`, else a free one); return its base URL."""
        port = port or _free_port()
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(self.workers),
                "--threads",
                str(self.threads),
                "--log-level",
                "warning",
                target,
            ],
            cwd=ROOT,
            env=self.env,
            start_new_session=True,
        )
        self.procs.append(proc)
        base = f"http://127.0.0.1:{port}"
        _wait_http(base + ("/healthz" if target == "wsgi:app" else "/"), self.start_timeout)
        return base

    def cookie_for(self, base: str, email: str, visit: str | None = None) -> str:
        """Log in through the form, open `visit` once, and return the Cookie header value.

        The visit lets the session settle as a browser's would (its CSRF secret is created on
        the first page with a form): wrk replays one cookie and never stores a new one.
        """
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        opener.addheaders = [("User-Agent", USER_AGENT)]
        html = opener.open(base + "/login").read().decode()
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
        data = urllib.parse.urlencode(
            {"csrf_token": token, "email": email, "password": DEMO_PASSWORD}
        ).encode()
        opener.open(base + "/login", data=data)
        if visit:
            opener.open(base + visit).read()
        return "; ".join(f"{c.name}={c.value}" for c in jar)

    # --- load ---------------------------------------------------------------------------------

    def wrk(self, url: str, seconds: int, connections: int, cookie: str | None = None) -> Result:
        """Load one URL with wrk and parse req/s and latency percentiles."""
        cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url]
        cmd[1:1] = ["-H", f"User-Agent: {USER_AGENT}"]
        if cookie:
            cmd[1:1] = ["-H", f"Cookie: {cookie}"]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
        non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
        return Result(
            rps=rps,
            p50_ms=_latency(out, "50%"),
            p99_ms=_latency(out, "99%"),
            non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        )

    def close(self) -> None:
        """Stop the servers and remove the temporary instance."""
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=20)
        shutil.rmtree(self.tmp, ignore_errors=True)


def _latency(out: str, pct: str) -> float:
    match = re.search(rf"^\s*{re.escape(pct)}\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def median_result(results: list[Result]) -> Result:
    """Median of each figure over the rounds."""
    return Result(
        rps=statistics.median(r.rps for r in results),
        p50_ms=statistics.median(r.p50_ms for r in results),
        p99_ms=statistics.median(r.p99_ms for r in results),
        non_2xx=sum(r.non_2xx for r in results),
    )

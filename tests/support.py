"""Helpers shared by the tests: database lifecycle, the real worker, forms and factories."""

from __future__ import annotations

import email
import email.policy
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]


def using_real_services() -> bool:
    """Tell whether the suite points at PostgreSQL and Redis."""
    return os.environ["DATABASE_URL"].startswith("postgresql") and os.environ[
        "CELERY_BROKER_URL"
    ].startswith("redis")


def isolate_xdist_worker(worker: str, chosen: list[str]) -> None:
    """Give a pytest-xdist worker ("gw3") its own PostgreSQL database and Redis database.

    Values the suite chose itself are already this process's own (see conftest); a PostgreSQL
    database named by the environment gets the suffix "_gw3", a Redis database the number
    <given> + 3, so `-n 4` with redis://.../8 uses the databases 8 to 11.
    """
    index = int(worker.removeprefix("gw"))
    if "DATABASE_URL" not in chosen:
        url = make_url(os.environ["DATABASE_URL"])
        if url.drivername.startswith("postgresql"):
            os.environ["DATABASE_URL"] = url.set(
                database=f"{url.database}_{worker}"
            ).render_as_string(hide_password=False)
        elif url.database:
            os.environ["DATABASE_URL"] = url.set(
                database=f"{url.database}.{worker}"
            ).render_as_string(hide_password=False)
    if "CELERY_BROKER_URL" not in chosen:
        broker = os.environ["CELERY_BROKER_URL"]
        if broker.startswith("redis"):
            parts = urlsplit(broker)
            given = parts.path.strip("/")
            number = (int(given) if given.isdigit() else 0) + index
            if number > 15:
                raise RuntimeError(f"xdist worker {worker} would need Redis database {number}")
            os.environ["CELERY_BROKER_URL"] = urlunsplit(parts._replace(path=f"/{number}"))
        elif broker.startswith("sqla+sqlite:///"):
            os.environ["CELERY_BROKER_URL"] = f"{broker}.{worker}"


def is_postgres() -> bool:
    return os.environ["DATABASE_URL"].startswith("postgresql")


def make_app(eager: bool = True, **overrides: Any) -> Flask:
    """Build a new testing app; eager=False sends tasks to the real worker."""
    from campus import create_app

    celery = {"task_always_eager": eager, "task_eager_propagates": True}
    celery.update(overrides.pop("CELERY_OVERRIDES", {}))
    return create_app("testing", {"CELERY_OVERRIDES": celery, **overrides})


class _Pristine:
    """What a shared app looked like when it was built, to put it back before each test."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.config = dict(app.config)
        self.extensions = dict(app.extensions)
        from campus.extensions import limiter

        # Flask-Limiter keeps the storage of the last app it was given on its one (global)
        # object: a production app built by a test (Redis) must not stay this app's.
        self.limits = (limiter._storage, limiter._limiter)

    def restore(self) -> None:
        from campus.extensions import limiter

        limiter._storage, limiter._limiter = self.limits

        app = self.app
        # Settings a test assigned, and everything kept lazily in app.extensions: the content
        # and snapshot caches are keyed by ids and versions that restart once rows are deleted.
        app.config.clear()
        app.config.update(self.config)
        app.extensions.clear()
        app.extensions.update(self.extensions)
        # A cache made while the app was built is the same object again: empty it too.
        from campus.cache import clear_caches

        clear_caches(app)
        limiter.reset()  # this app's in-memory storage
        # Tasks are shared_task proxies bound to the current Celery app: make it this app's,
        # so they run in this app's context (eagerly or not, as it was built).
        celery = app.extensions["celery"]
        celery.set_current()
        celery.set_default()


_SHARED: dict[tuple, Flask] = {}
_PRISTINE: dict[Flask, _Pristine] = {}


def shared_app(eager: bool = True, **overrides: Any) -> Flask:
    """Return this process's one app of this configuration, put back as it was built.

    Building an app costs about half a second (the admin views, the OpenAPI spec), so the
    tests share one per configuration. A test that changes the app itself takes the `fresh_app`
    fixture; one that needs a setting read only by create_app passes it here or to make_app.
    """
    app = _shared(eager, **overrides)
    reset_app(app)
    return app


def _shared(eager: bool, **overrides: Any) -> Flask:
    key = (eager, tuple(sorted((name, repr(value)) for name, value in overrides.items())))
    app = _SHARED.get(key)
    if app is None:
        app = _SHARED[key] = make_app(eager, **overrides)
        _PRISTINE[app] = _Pristine(app)
    return app


def reset_app(app: Flask) -> None:
    """Put a shared app back as it was built (settings, caches, rate limits, Celery app)."""
    _PRISTINE[app].restore()


def _pg_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def _ensure_pg_database(url: str) -> None:
    target = make_url(_pg_url(url))
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database}
        )
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


def reset_database() -> None:
    """Empty the test database and build it from the migrations."""
    from flask_migrate import upgrade

    url = os.environ["DATABASE_URL"]
    if url.startswith("postgresql"):
        _ensure_pg_database(url)
        engine = create_engine(_pg_url(url), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    elif url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    app = shared_app()
    with app.app_context():
        upgrade()
        from campus.extensions import db

        db.engine.dispose()


def clean_database(app: Flask) -> None:
    """Remove every row and every file a test left behind."""
    from campus.extensions import db

    with app.app_context():
        db.session.remove()
        tables = [t for t in db.metadata.sorted_tables]
        with db.engine.begin() as conn:
            # DELETE, children first: far cheaper than TRUNCATE for the few rows a test leaves.
            for table in reversed(tables):
                conn.execute(table.delete())
        db.engine.dispose()
    instance = Path(app.config["INSTANCE_PATH"])
    for child in instance.iterdir() if instance.exists() else ():
        if child.is_dir():
            shutil.rmtree(child, ignore_errors=True)


# --- the real worker -------------------------------------------------------------------------


def worker_env(**extra: str) -> dict[str, str]:
    """Environment for a worker process that shares the tests' database and broker."""
    env = dict(os.environ)
    env.update(
        CAMPUS_ENV="testing",
        CELERY_TASK_ALWAYS_EAGER="0",
        PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
    )
    env.update(extra)
    return env


def start_worker(
    concurrency: int = 4,
    pool: str = "threads",
    log_name: str = "worker.log",
    queues: str | None = None,
    celery_app: str = "workers",
    **env: str,
) -> subprocess.Popen:
    """Start `celery -A <celery_app> worker` and wait until it says it is ready."""
    # The broker's leftovers from an earlier run go; the current test's app stays as it is.
    _shared(eager=False).extensions["celery"].control.purge()
    log_path = Path(os.environ["INSTANCE_PATH"]).parent / log_name
    with log_path.open("w") as log:  # the worker writes to its own copy of the descriptor
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                celery_app,
                "worker",
                f"--pool={pool}",
                f"--concurrency={concurrency}",
                "--loglevel=info",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                *([f"--queues={queues}"] if queues else []),
            ],
            cwd=ROOT,
            env=worker_env(**env),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    proc.log_path = log_path  # type: ignore[attr-defined]
    wait_for(
        lambda: proc.poll() is not None or " ready." in log_path.read_text(),
        timeout=60,
        message="the Celery worker to start",
    )
    if proc.poll() is not None:
        raise RuntimeError(f"worker exited early:\n{log_path.read_text()[-4000:]}")
    return proc


def stop_worker(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    """Stop a worker process (and its children)."""
    if proc.poll() is None:
        os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def hammer_in_threads(work: Callable[[int], None], threads: int = 8) -> list[BaseException]:
    """Run work(0..threads-1) in threads started together, switching between them as often as
    the interpreter can; return what any of them raised."""
    import sys
    import threading

    failures: list[BaseException] = []
    start = threading.Barrier(threads)

    def run(seed: int) -> None:
        start.wait()
        try:
            work(seed)
        except BaseException as exc:  # any failure in a thread fails the test
            failures.append(exc)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads between any two steps
    try:
        started = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
        for thread in started:
            thread.start()
        for thread in started:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    return failures


def run_together(calls: list[Callable[[], Any]]) -> None:
    """Start each call in its own thread at the same moment and wait for them all."""
    import threading

    start = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> None:
        start.wait(timeout=10)
        call()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)


def hold_in_pairs(monkeypatch: Any, module: Any, name: str) -> None:
    """Make two calls of module.name wait for each other, so both get there before either
    goes on (or the first goes on alone after 2 s, when the second waits for its lock)."""
    import contextlib
    import threading

    meet = threading.Barrier(2)
    real = getattr(module, name)

    def held(*args: Any, **kwargs: Any) -> Any:
        with contextlib.suppress(threading.BrokenBarrierError):
            meet.wait(timeout=2)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, held)


# --- real web processes ----------------------------------------------------------------------


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on right now."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_web(
    log_name: str = "web.log",
    app: str = "wsgi:app",
    threads: int = 2,
    graceful_timeout: int = 30,
    **env: str,
) -> subprocess.Popen:
    """Start gunicorn (one worker process) as production runs it; wait until /healthz answers."""
    import urllib.request

    port = free_port()
    log_path = Path(os.environ["INSTANCE_PATH"]).parent / log_name
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                f"--bind=127.0.0.1:{port}",
                "--workers=1",
                f"--threads={threads}",
                f"--graceful-timeout={graceful_timeout}",
                "--access-logfile=-",
                app,
            ],
            cwd=ROOT,
            env=worker_env(**env),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    proc.log_path = log_path  # type: ignore[attr-defined]
    proc.url = f"http://127.0.0.1:{port}"  # type: ignore[attr-defined]

    def healthy() -> bool:
        if proc.poll() is not None:
            return True
        try:
            with urllib.request.urlopen(f"{proc.url}/healthz", timeout=5) as answer:  # type: ignore[attr-defined]
                return answer.status == 200
        except OSError:
            return False

    wait_for(healthy, timeout=60, message=f"gunicorn on port {port} to answer /healthz")
    if proc.poll() is not None:
        raise RuntimeError(f"gunicorn exited early:\n{log_path.read_text()[-4000:]}")
    return proc


class HttpClient:
    """A cookie-keeping HTTP client for real servers: no redirects followed, no error raised."""

    def __init__(self) -> None:
        import http.cookiejar
        import urllib.request

        class _NoRedirects(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args: Any, **kwargs: Any) -> None:
                return None

        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirects()
        )

    def set_cookie(self, name: str, value: str) -> None:
        """Hand the client a cookie for 127.0.0.1 (any port), e.g. a test client's session."""
        import http.cookiejar

        self.cookies.set_cookie(
            http.cookiejar.Cookie(
                0, name, value, None, False, "127.0.0.1", False, False, "/", True,
                False, None, False, None, None, {},
            )
        )  # fmt: skip

    def request(self, url: str, data: dict[str, str] | None = None) -> tuple[int, Any, bytes]:
        """GET (or POST a form to) a URL: (status, headers, body)."""
        import urllib.error
        import urllib.parse
        import urllib.request

        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(urllib.request.Request(url, data=body), timeout=30) as answer:
                return answer.status, answer.headers, answer.read()
        except urllib.error.HTTPError as error:
            with error:
                return error.code, error.headers, error.read()

    def post_form(self, url: str, data: dict[str, str]) -> tuple[int, Any, bytes]:
        """POST a form with the session's CSRF token, read from a page of the same server."""
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        for page in ("/", "/login"):
            _status, _headers, body = self.request(f"{parts.scheme}://{parts.netloc}{page}")
            match = _CSRF.search(body.decode())
            if match:
                return self.request(url, {"csrf_token": match.group(1) or match.group(2), **data})
        raise AssertionError(f"no CSRF token on / or /login of {parts.netloc}")


def wait_for(predicate: Callable[[], Any], timeout: float = 30, message: str = "condition") -> Any:
    """Poll until predicate() is truthy; fail with a clear message after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    delay = 0.02
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(delay)
        delay = min(delay * 1.5, 0.25)


# --- forms and sessions ----------------------------------------------------------------------

_CSRF = re.compile(
    r'name="csrf-token" content="([^"]+)"|name="csrf_token" type="hidden" value="([^"]+)"'
)


def csrf_token(client: FlaskClient, path: str | None = None) -> str:
    """Read the CSRF token of the client's session (signed-in pages and forms carry it)."""
    for candidate in [path] if path else ["/", "/login"]:
        match = _CSRF.search(client.get(candidate).get_data(as_text=True))
        if match:
            return match.group(1) or match.group(2)
    raise AssertionError(f"no CSRF token on {path or '/ or /login'}")


def post_form(client: FlaskClient, path: str, data: dict | None = None, **kwargs: Any):
    """POST a form with the session's CSRF token added."""
    payload = {"csrf_token": csrf_token(client), **(data or {})}
    return client.post(path, data=payload, **kwargs)


def confirm_link(client: FlaskClient, link: str, **kwargs: Any):
    """Open an emailed confirmation link and press its button, as the person does."""
    return client.post(link, data={"csrf_token": csrf_token(client, link)}, **kwargs)


def login(client: FlaskClient, email: str, password: str = "correct horse battery", **kw: Any):
    """Sign a client in through the login form."""
    response = post_form(client, "/login", {"email": email, "password": password, **kw})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return response


def open_session(user_id: int, *, second_factor: bool = False) -> str:
    """Open a server-side session for a user (inside an app context); returns its token."""
    from campus.accounts.models import User
    from campus.accounts.sessions import start_session
    from campus.extensions import db

    token = start_session(db.session.get(User, user_id), second_factor=second_factor)
    db.session.commit()
    return token


def sign_in_directly(client: FlaskClient, user_id: int, *, second_factor: bool = False) -> str:
    """Open a server-side session for a user and hand its token to the client (no forms).

    For tests that need many signed-in clients; signing in itself is tested with the accounts.
    Call it inside an app context. Returns the session token.
    """
    token = open_session(user_id, second_factor=second_factor)
    with client.session_transaction() as session:
        session["_user_id"] = token
        session["_fresh"] = True
    return token


def enable_totp(user_id: int) -> str:
    """Turn TOTP on for a user (inside an app context); returns the secret."""
    import pyotp

    from campus.accounts.models import User
    from campus.extensions import db
    from campus.models.base import utcnow

    user = db.session.get(User, user_id)
    user.totp_secret = pyotp.random_base32()
    user.totp_enabled_at = utcnow()
    db.session.commit()
    return user.totp_secret


def totp_code(secret: str, steps: int = 0) -> str:
    """The TOTP code of `secret` now, or `steps` 30-second steps away."""
    import time as _time

    import pyotp

    totp = pyotp.TOTP(secret)
    return totp.generate_otp(totp.timecode(_time.time()) + steps)


def login_with_code(
    client: FlaskClient, email: str, code: str, password: str = "correct horse battery", **kw: Any
):
    """Sign a client in with the password, then the second-factor code."""
    first = post_form(client, "/login", {"email": email, "password": password, **kw})
    assert first.status_code == 302 and first.headers["Location"].endswith("/login/verify"), (
        first.get_data(as_text=True)[:2000]
    )
    response = post_form(client, "/login/verify", {"code": code})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return response


# --- factories -------------------------------------------------------------------------------

DEFAULT_PASSWORD = "correct horse battery"
_counter = iter(range(1, 10**9))


def create_user(
    *,
    email: str | None = None,
    password: str = DEFAULT_PASSWORD,
    role: str = "student",
    verified: bool = True,
    **fields: Any,
):
    """Insert and commit a user (inside an app context); returns the User."""
    from campus.accounts.models import User
    from campus.accounts.services import hash_password
    from campus.extensions import db
    from campus.models.base import utcnow

    n = next(_counter)
    # The license a test names goes where licenses live (a row of campus.licenses).
    number, state = fields.pop("license_number", None), fields.pop("license_state", None)
    user = User(
        email=(email or f"user{n}@example.com").lower(),
        password_hash=hash_password(password),
        full_name=fields.pop("full_name", f"Test User {n}"),
        profession=fields.pop("profession", "massage_therapist"),
        role=role,
        email_verified_at=utcnow() if verified else None,
        **fields,
    )
    db.session.add(user)
    if number or state:
        from campus.licenses.models import License

        db.session.flush()
        db.session.add(
            License(
                user_id=user.id,
                profession=user.profession,
                jurisdiction=state or "",
                number=number or "",
            )
        )
    db.session.commit()
    return user


# --- the outbox ------------------------------------------------------------------------------


def outbox(app: Flask) -> list[email.message.EmailMessage]:
    """Parse every message written to the outbox folder, oldest first."""
    folder = Path(app.config["INSTANCE_PATH"]) / "outbox"
    if not folder.exists():
        return []
    return [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in sorted(folder.glob("*.eml"))
    ]


def body_of(message: email.message.EmailMessage) -> str:
    """Return the plain-text body of a parsed message."""
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part else ""


def link_in(message: email.message.EmailMessage) -> str:
    """Return the first http(s) link in a message's text, as a path for the test client."""
    match = re.search(r"https?://[^\s/]+(/\S+)", body_of(message))
    assert match, "no link in the message"
    return match.group(1)


def make_member(user_id: int, status: str = "active", **fields: Any):
    """Give a user a mirrored Stripe subscription with the given status (inside an app context)."""
    from datetime import timedelta

    from campus.billing.models import Subscription
    from campus.extensions import db
    from campus.models.base import utcnow

    n = next(_counter)
    sub = Subscription(
        user_id=user_id,
        stripe_subscription_id=fields.pop("stripe_subscription_id", f"sub_test_{n}"),
        stripe_customer_id=fields.pop("stripe_customer_id", f"cus_test_{n}"),
        status=status,
        price_id=fields.pop("price_id", "price_test"),
        current_period_end=fields.pop("current_period_end", utcnow() + timedelta(days=30)),
        **fields,
    )
    db.session.add(sub)
    db.session.commit()
    return sub


def grant_comp(user_id: int, days: int = 30, reason: str = "test grant"):
    """Give a user a comp membership for `days` (inside an app context)."""
    from datetime import timedelta

    from campus.billing.models import CompMembership
    from campus.extensions import db
    from campus.models.base import utcnow

    comp = CompMembership(
        user_id=user_id, starts_at=utcnow(), ends_at=utcnow() + timedelta(days=days), reason=reason
    )
    db.session.add(comp)
    db.session.commit()
    return comp

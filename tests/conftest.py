"""Fixtures: one app per configuration on one migrated database, a client, a real worker.

By default the suite runs on SQLite with eager tasks; tests marked `worker` start a real
`celery worker` process over the SQLite broker. With DATABASE_URL and CELERY_BROKER_URL pointing
at PostgreSQL and Redis (as .ci/run sets them), the same tests run against those servers.

Each process (each pytest-xdist worker too) has its own instance folder, SQLite files or
PostgreSQL database and Redis database. Tests marked `slow` run only with --slow.
"""

from __future__ import annotations

import os
import signal
import tempfile
from pathlib import Path

import pytest

# Settings are read at import time, so the environment is fixed before campus is imported.
# Under pytest-xdist every worker imports this file in a process that inherited the
# controller's environment: values the controller chose for itself are chosen again here.
_XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
_TMP = Path(tempfile.mkdtemp(prefix=f"campus-tests-{_XDIST_WORKER}-".replace("--", "-")))
_CHOSEN = "CAMPUS_TESTS_CHOSE"


def _default(name: str, value: str) -> None:
    chosen = set(filter(None, os.environ.get(_CHOSEN, "").split(",")))
    if not os.environ.get(name) or name in chosen:
        os.environ[name] = value
        os.environ[_CHOSEN] = ",".join(sorted(chosen | {name}))


os.environ["CAMPUS_ENV"] = "testing"
os.environ["INSTANCE_PATH"] = str(_TMP / "instance")
_default("DATABASE_URL", f"sqlite:///{_TMP / 'campus-test.sqlite'}")
_default("CELERY_BROKER_URL", f"sqla+sqlite:///{_TMP / 'broker.sqlite'}")
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "1"
os.environ.setdefault("RATELIMIT_STORAGE_URI", "memory://")
for _name in ("STRIPE_SECRET_KEY", "STRIPE_PRICE_ID", "STRIPE_API_BASE"):
    os.environ.pop(_name, None)

from tests import support  # noqa: E402

if _XDIST_WORKER:
    support.isolate_xdist_worker(_XDIST_WORKER, chosen=os.environ.get(_CHOSEN, "").split(","))

if os.environ.get("CI") and not support.using_real_services():
    pytest.exit(
        "CI must run against PostgreSQL and Redis: set DATABASE_URL and CELERY_BROKER_URL",
        returncode=3,
    )


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--slow", action="store_true", help="also run the tests marked slow (CI runs them all)"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--slow"):
        return
    slow = [item for item in items if item.get_closest_marker("slow")]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if not item.get_closest_marker("slow")]


@pytest.fixture(autouse=True)
def _joins_allowed():
    """Start every test outside any task, as far as Celery's "would block" flag knows.

    An inline task sets that process-wide flag while it runs and puts back what it found: two
    run at once on two threads (a race test) can put back the other's "inside a task", and
    every later test of the process then fails on "Never call result.get() within a task!".
    """
    from celery.result import _set_task_join_will_block

    _set_task_join_will_block(False)
    yield


@pytest.fixture(scope="session")
def _database():
    """Create the test database from the migrations once per session."""
    support.reset_database()
    yield


@pytest.fixture
def app(_database):
    """The shared app, as it was built, on the migrated database; every row goes afterwards."""
    app = support.shared_app()
    yield app
    support.clean_database(app)


@pytest.fixture
def fresh_app(_database):
    """An app of its own, for a test that changes the app itself; every row goes afterwards."""
    app = support.make_app()
    yield app
    support.clean_database(app)


@pytest.fixture
def pacific(app):
    """Run the provider's calendar (TIME_ZONE) on Pacific time for one test; the suite's is UTC."""
    before = app.config["TIME_ZONE"]
    app.config["TIME_ZONE"] = "America/Los_Angeles"
    yield
    app.config["TIME_ZONE"] = before


@pytest.fixture
def client(app):
    """A test client with cookies; CSRF is on, use tests.support helpers to post forms."""
    return app.test_client()


@pytest.fixture(scope="session")
def worker(_database):
    """A real `celery -A workers worker` process on the test database and broker."""
    proc = support.start_worker()
    yield proc
    # Nothing of the session is kept: no need to wait seconds for a warm shutdown.
    support.stop_worker(proc, signal.SIGKILL)


@pytest.fixture
def live_app(worker, _database):
    """An app that sends tasks to the real worker instead of running them inline."""
    app = support.shared_app(eager=False)
    yield app
    support.clean_database(app)

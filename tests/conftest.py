"""Fixtures: an app per test on one migrated database, a client, and a real worker on demand.

By default the suite runs on SQLite with eager tasks; tests marked `worker` start a real
`celery worker` process over the SQLite broker. With DATABASE_URL and CELERY_BROKER_URL pointing
at PostgreSQL and Redis (as .ci/run sets them), the same tests run against those servers.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

# Settings are read at import time, so the environment is fixed before campus is imported.
_TMP = Path(tempfile.mkdtemp(prefix="campus-tests-"))
os.environ["CAMPUS_ENV"] = "testing"
os.environ["INSTANCE_PATH"] = str(_TMP / "instance")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{_TMP / 'campus-test.sqlite'}")
os.environ.setdefault("CELERY_BROKER_URL", f"sqla+sqlite:///{_TMP / 'broker.sqlite'}")
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "1"
os.environ.setdefault("RATELIMIT_STORAGE_URI", "memory://")
for _name in ("STRIPE_SECRET_KEY", "STRIPE_PRICE_ID", "STRIPE_API_BASE"):
    os.environ.pop(_name, None)

from tests import support  # noqa: E402

if os.environ.get("CI") and not support.using_real_services():
    pytest.exit(
        "CI must run against PostgreSQL and Redis: set DATABASE_URL and CELERY_BROKER_URL",
        returncode=3,
    )


@pytest.fixture(scope="session")
def _database():
    """Create the test database from the migrations once per session."""
    support.reset_database()
    yield


@pytest.fixture
def app(_database):
    """A fresh app on the migrated database; every row is removed after the test."""
    app = support.make_app()
    yield app
    support.clean_database(app)


@pytest.fixture
def client(app):
    """A test client with cookies; CSRF is on, use tests.support helpers to post forms."""
    return app.test_client()


@pytest.fixture(scope="session")
def worker(_database):
    """A real `celery -A workers worker` process on the test database and broker."""
    proc = support.start_worker()
    yield proc
    support.stop_worker(proc)


@pytest.fixture
def live_app(worker, _database):
    """An app that sends tasks to the real worker instead of running them inline."""
    app = support.make_app(eager=False)
    yield app
    support.clean_database(app)

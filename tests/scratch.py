"""An empty database for a migration test: a file for SQLite, a side database for PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask
from sqlalchemy import create_engine, make_url, text

from tests import support
from tests.support import make_app


def scratch_database(backend: str, tmp_path) -> str:
    """The URL of an empty database of the backend ("sqlite" or "postgresql")."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'm.sqlite'}"
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        pytest.skip("PostgreSQL runs when DATABASE_URL points at it")
    target = make_url(support._pg_url(url))
    scratch = target.set(database=f"{target.database}_migration")
    support._ensure_pg_database(scratch.render_as_string(hide_password=False))
    engine = create_engine(scratch, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return scratch.render_as_string(hide_password=False)


@contextmanager
def migrating(backend: str, tmp_path) -> Iterator[Flask]:
    """An app on an empty scratch database, in its app context; its connections closed after."""
    from campus.extensions import db

    app = make_app(SQLALCHEMY_DATABASE_URI=scratch_database(backend, tmp_path))
    try:
        with app.app_context():
            yield app
    finally:
        with app.app_context():
            db.engine.dispose()

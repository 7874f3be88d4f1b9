"""An empty database for a migration test: a file for SQLite, a side database for PostgreSQL."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import create_engine, make_url, text

from tests import support


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

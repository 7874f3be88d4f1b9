"""Pooled PostgreSQL connections are pinged before use only after sitting idle."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from campus.extensions import db
from tests import support

pytestmark = pytest.mark.skipif(not support.is_postgres(), reason="PostgreSQL only")


def _kill_pooled_connection(app) -> int:
    """Use a pooled connection, return it to the pool, then have the server drop it."""
    with app.app_context():
        pid = db.session.scalar(text("SELECT pg_backend_pid()"))
        db.session.remove()
    killer = create_engine(app.config["SQLALCHEMY_DATABASE_URI"], isolation_level="AUTOCOMMIT")
    with killer.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    killer.dispose()
    return pid


def test_idle_connection_the_server_dropped_is_replaced_before_use(_database):
    app = support.make_app(POOL_PING_AFTER_IDLE=0)
    old_pid = _kill_pooled_connection(app)
    with app.app_context():
        assert db.session.scalar(text("SELECT pg_backend_pid()")) != old_pid
        db.session.remove()  # back to the pool first: dispose() closes only what it holds
        db.engine.dispose()


def test_connection_used_a_moment_ago_is_not_pinged(_database):
    app = support.make_app(POOL_PING_AFTER_IDLE=3600)
    old_pid = _kill_pooled_connection(app)
    with app.app_context():
        # No ping: the dead connection fails its request once, then the pool is renewed.
        with pytest.raises(OperationalError):
            db.session.scalar(text("SELECT 1"))
        db.session.remove()
        assert db.session.scalar(text("SELECT pg_backend_pid()")) != old_pid
        db.session.remove()  # back to the pool first: dispose() closes only what it holds
        db.engine.dispose()

"""Health checks of the services the platform depends on."""

from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import text

from campus.extensions import db

log = logging.getLogger(__name__)


def check_database() -> str:
    """Run a trivial query; return "ok" or the failure."""
    try:
        db.session.execute(text("SELECT 1"))
        return "ok"
    except Exception as exc:
        db.session.rollback()
        log.warning("health check: database failed: %s", exc)
        return f"error: {type(exc).__name__}"


def check_broker() -> str:
    """Open a connection to the Celery broker; return "ok" or the failure."""
    celery_app = current_app.extensions["celery"]
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return "ok"
    except Exception as exc:
        log.warning("health check: broker failed: %s", exc)
        return f"error: {type(exc).__name__}"


def health() -> tuple[bool, dict[str, str]]:
    """Check every dependency; the first value tells whether all are healthy."""
    checks = {"database": check_database(), "broker": check_broker()}
    return all(v == "ok" for v in checks.values()), checks

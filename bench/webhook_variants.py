"""The webhook intake with one piece of speed machinery put back or taken out, for measuring.

bench/webhooks.py serves `webhook_variants:app` under gunicorn with BENCH_WEBHOOK_VARIANT set,
and bench/webhook_pieces.py calls `apply()` in-process, so each piece is measured against the
shipped app in the same run:

- `ours`: the app as shipped: a plain Flask view (campus.billing.intake) that stores the event
  with one INSERT through SQLAlchemy Core on an autocommit Connection.
- `wsgi-intake`: the same `receive()` answered by WSGI middleware ahead of Flask's request
  handling (no request context, session, login, CSRF or limiter work), as Campus once did.
- `raw-insert`: the INSERT sent straight to the pooled psycopg connection on PostgreSQL,
  skipping SQLAlchemy's Connection, as Campus once did.
- `core-insert`: the Core INSERT whatever the shipped app does (today the same as `ours`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from flask import Flask
from sqlalchemy import Dialect, Engine
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge
from werkzeug.wrappers import Request, Response

VARIANTS = ("ours", "wsgi-intake", "core-insert", "raw-insert")


class WsgiIntake:
    """WSGI middleware answering POST /webhooks/stripe itself; other requests go to Flask."""

    def __init__(self, app: Flask, wsgi_app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]):
        from campus.billing import intake

        if environ.get("PATH_INFO") != intake.PATH:
            return self.wsgi_app(environ, start_response)
        return self.answer(environ)(environ, start_response)

    def answer(self, environ: dict[str, Any]) -> Response:
        from campus.billing import intake
        from campus.errors import json_error

        request = Request(environ)
        with self.app.app_context():
            if request.method != "POST":
                response = json_error("method_not_allowed", "Use POST.", 405)
                response.headers["Allow"] = "POST"
                return response
            request.max_content_length = intake.MAX_WEBHOOK_BYTES + 1
            try:
                body = request.get_data(cache=False)
            except RequestEntityTooLarge:
                body = None
            except ClientDisconnected:
                return json_error("bad_request", "The request body was cut short.", 400)
            if body is None or len(body) > intake.MAX_WEBHOOK_BYTES:
                return json_error("too_large", "The event is too large.", 413)
            response = intake.receive(body, request.headers.get("Stripe-Signature"))
            response.headers["Cache-Control"] = "no-store"
            return response


def insert_params(text: str, event: dict[str, Any]) -> dict[str, Any]:
    """The INSERT's parameters for one event, as services.store_webhook builds them."""
    from campus.models.base import utcnow

    now = utcnow()
    return {
        "stripe_event_id": event["id"],
        "type": event["type"],
        "created": event["created"],
        "livemode": bool(event.get("livemode")),
        "payload": text,
        "status": "received",
        "attempts": 0,
        "created_at": now,
        "updated_at": now,
    }


def _core_insert(engine: Engine, params: dict[str, Any]) -> int | None:
    """Store through SQLAlchemy Core on an autocommit Connection (any database)."""
    from campus.billing import services

    statement = services._insert_event_statement(engine.dialect.name)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        return conn.execute(statement, params).scalar()


@lru_cache(maxsize=4)
def _compiled(dialect: Dialect, keys: tuple[str, ...]) -> str:
    """The INSERT's SQL for these columns as the driver takes it, compiled once."""
    from campus.billing import services

    statement = services._insert_event_statement(dialect.name)
    return str(statement.compile(dialect=dialect, column_keys=keys))


def _raw_insert(engine: Engine, params: dict[str, Any]) -> int | None:
    """Send the compiled INSERT straight to the pooled psycopg connection (PostgreSQL only)."""

    sql = _compiled(engine.dialect, tuple(params))
    pooled = engine.raw_connection()
    driver: Any = pooled.driver_connection
    try:
        driver.autocommit = True
        try:
            row = driver.execute(sql, params).fetchone()
        finally:
            if not driver.broken:
                driver.autocommit = False
    except Exception:
        if driver.broken or driver.closed:
            pooled.invalidate()
        raise
    finally:
        pooled.close()
    return row[0] if row else None


def apply(app: Flask, variant: str) -> Flask:
    """Put back or take out one piece of machinery on a built app; return it."""
    from campus.billing import services

    if variant not in VARIANTS:
        raise SystemExit(f"unknown variant {variant!r}; one of {', '.join(VARIANTS)}")
    if variant == "wsgi-intake":
        app.wsgi_app = WsgiIntake(app, app.wsgi_app)  # type: ignore[method-assign]
    elif variant in ("core-insert", "raw-insert"):
        store = _core_insert if variant == "core-insert" else _raw_insert
        shipped = services.store_webhook

        def store_webhook(engine: Engine, text: str, event: dict[str, Any]) -> int | None:
            if engine.dialect.name != "postgresql":
                return shipped(engine, text, event)
            return store(engine, insert_params(text, event))

        services.store_webhook = store_webhook  # type: ignore[assignment]
    return app


@contextmanager
def applied(app: Flask, variant: str) -> Iterator[Flask]:
    """Apply a variant for the duration of a block, then restore the shipped app."""
    from campus.billing import services

    wsgi_app, store_webhook = app.wsgi_app, services.store_webhook
    try:
        yield apply(app, variant)
    finally:
        app.wsgi_app = wsgi_app  # type: ignore[method-assign]
        services.store_webhook = store_webhook


def served_app() -> Flask:
    """Build the app gunicorn serves, with the variant named in BENCH_WEBHOOK_VARIANT."""
    from campus import create_app

    return apply(create_app(), os.environ.get("BENCH_WEBHOOK_VARIANT", "ours"))


app = served_app() if os.environ.get("BENCH_WEBHOOK_VARIANT") else None

"""Campus: membership and continuing education for hands-on health professionals."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask

if TYPE_CHECKING:
    from flask import Response

    from config import Config

ROOT = Path(__file__).resolve().parents[2]  # the repository: templates/ and config.py live here


class CampusFlask(Flask):
    """Flask, answering a route's OPTIONS with 204 and Allow."""

    def make_default_options_response(self) -> Response:
        """Answer OPTIONS with the methods the address takes, and no content of any type."""
        response = super().make_default_options_response()
        # Flask's answer is an empty 200 typed text/html: an API client was told it had been
        # sent a page, and a JSON client tried to parse nothing.
        response.status_code = 204
        del response.headers["Content-Type"]
        return response


def create_app(config: str | None = None, overrides: dict[str, Any] | None = None) -> Flask:
    """Build the Flask app for CAMPUS_ENV (or `config`), with optional setting overrides."""
    import config as settings

    config_class = settings.config_for(config)
    instance = Path((overrides or {}).get("INSTANCE_PATH") or config_class.INSTANCE_PATH)
    app = CampusFlask(
        "campus",
        instance_path=str(instance),
        template_folder=str(ROOT / "templates"),
        static_folder="static",
    )
    from campus.integers import register_converters

    register_converters(app)  # before any route is added: they bind their converters then
    app.config.from_object(config_class)
    app.config.update(overrides or {})
    app.config["INSTANCE_PATH"] = instance
    instance.mkdir(parents=True, exist_ok=True)
    _finish_config(app, config_class, implicit=config is None and not os.environ.get("CAMPUS_ENV"))

    from campus.observability import logs

    logs.configure(app.config["LOG_FORMAT"])
    if config_class.ENV_NAME == "production":
        from campus.preflight import warn_about_local_storage

        warn_about_local_storage(app.config, logging.getLogger("campus.storage"))
    register_extensions(app)
    register_features(app)
    from campus.errors import register_errors

    register_errors(app)
    from campus.cli import register_cli

    register_cli(app)
    from campus.templating import register_templating

    register_templating(app)
    from campus.security import register_security

    register_security(app)
    from campus.observability.hooks import start_first

    start_first(app)  # last: every other hook is in place by now
    return app


def _finish_config(app: Flask, config_class: type[Config], *, implicit: bool = False) -> None:
    """Fill derived settings and refuse to run production on missing or weak ones."""
    from campus import preflight

    problems = preflight.setting_problems(app.config)
    if config_class.ENV_NAME == "production":
        problems += preflight.production_problems(app.config)
    if problems:
        raise preflight.ConfigurationError(config_class.ENV_NAME, problems, implicit=implicit)
    if app.config.get("TRUSTED_HOSTS") is None:
        app.config["TRUSTED_HOSTS"] = preflight.trusted_hosts(app.config, config_class.ENV_NAME)
    if not app.config.get("SECRET_KEY") and app.config.get("GENERATE_SECRET_KEY"):
        import config as settings

        app.config["SECRET_KEY"] = settings.dev_secret_key(app.config["INSTANCE_PATH"])
    if not app.config.get("SECRET_KEY"):
        raise RuntimeError("SECRET_KEY is not set")
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("postgresql://"):
        # psycopg 3 is the driver we ship.
        uri = app.config["SQLALCHEMY_DATABASE_URI"] = (
            "postgresql+psycopg://" + uri[len("postgresql://") :]
        )
    if uri.startswith("sqlite"):
        # Web and worker share one file: wait for locks instead of failing at once.
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options.setdefault("connect_args", {"timeout": 30})
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    celery_overrides = dict(app.config.get("CELERY_OVERRIDES") or {})
    celery_overrides.setdefault("broker_url", app.config["CELERY_BROKER_URL"])
    celery_overrides.setdefault("task_always_eager", bool(app.config["CELERY_TASK_ALWAYS_EAGER"]))
    app.config["CELERY"] = config_class.celery(celery_overrides)
    app.config["SIMULATED_STRIPE"] = config_class.ENV_NAME != "production" and not app.config.get(
        "STRIPE_SECRET_KEY"
    )


def register_extensions(app: Flask) -> None:
    """Bind the extensions to this app."""
    from campus.extensions import csrf, db, limiter, login_manager, migrate
    from campus.jobs import celery_init_app

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    csrf.init_app(app)
    limiter.init_app(app)
    celery_init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            _tune_sqlite(db.engine)  # a file database never goes stale under us: no pings
        else:
            _ping_idle_connections(db.engine, app.config["POOL_PING_AFTER_IDLE"])


def _tune_sqlite(engine) -> None:
    """Run SQLite in WAL mode, waiting for locks, with a SAVEPOINT always inside a transaction.

    pysqlite opens a transaction only before INSERT/UPDATE/DELETE, so a SAVEPOINT
    (`begin_nested()`) issued first ran outside one and its RELEASE committed on its own: a crash
    before the outer commit kept half a change (a certificate without its code). A BEGIN is
    emitted before such a SAVEPOINT, so it nests in a real transaction that commits or rolls
    back whole. SQLAlchemy's other recipe (driver transactions off, BEGIN on every begin) makes
    each read open a deferred transaction; when another process writes meanwhile, SQLite refuses
    that transaction's first write at once ("database is locked", busy_timeout does not apply),
    which broke concurrent checkouts; reads outside a transaction behave like PostgreSQL's
    READ COMMITTED instead.
    """
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        # WAL lets the worker write while the web process reads; FKs are off by default.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "savepoint")
    def _on_savepoint(connection, _name) -> None:
        dbapi_connection = connection.connection.dbapi_connection
        if dbapi_connection is not None and not dbapi_connection.in_transaction:
            connection.exec_driver_sql("BEGIN")


def _ping_idle_connections(engine, idle_seconds: float) -> None:
    """Ping a pooled connection before use when it has been idle, and replace it if dead.

    pool_pre_ping would ping on every checkout: one more round trip per request, about a tenth
    of a webhook's cost. A connection the server dropped (restart, idle timeout) is almost
    always one that sat idle; one that dies in use fails its request and SQLAlchemy then
    replaces every connection of the pool that is older.
    """
    import time

    from sqlalchemy import event, exc

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection, record) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection, record, _proxy) -> None:
        idle_since = record.info.pop("idle_since", None)
        if idle_since is None or time.monotonic() - idle_since < idle_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            # As pool_pre_ping does: the pool replaces this connection and every older one
            # (after a server restart they are all dead) and checks out a fresh one.
            raise exc.InvalidatePoolError(str(error)) from error


def register_features(app: Flask) -> None:
    """Register every feature's models, pages, API, tasks and commands, then the API docs."""
    from campus import audit  # noqa: F401  (the audit log's table)
    from campus.api import register_api_docs
    from campus.extensions import api
    from campus.features import all_features

    api.init_app(app)
    features = all_features()
    app.extensions["campus_features"] = tuple(f.name for f in features)
    for feature in features:
        feature.register(app)
    register_api_docs(app)

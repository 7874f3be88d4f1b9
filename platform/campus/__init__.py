"""Campus: membership and continuing education for hands-on health professionals."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask

if TYPE_CHECKING:
    from config import Config

ROOT = Path(__file__).resolve().parents[2]  # the repository: templates/ and config.py live here

# Feature packages, in registration order. Each may have: models, tasks (Celery tasks and a
# BEAT_SCHEDULE dict), demo (a seed() returning what it created), `bp` (a Flask blueprint in its
# __init__) and api.blp (a flask-smorest blueprint mounted under /api/v1).
FEATURES = ("main", "mail", "accounts", "billing", "content", "learning", "certificates", "admin")


def feature_module(feature: str, name: str | None = None):
    """Import campus.<feature>[.<name>], or return None if the feature has no such module."""
    import importlib

    module_name = f"campus.{feature}" + (f".{name}" if name else "")
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise  # a real import error inside the module
        return None


def create_app(config: str | None = None, overrides: dict[str, Any] | None = None) -> Flask:
    """Build the Flask app for CAMPUS_ENV (or `config`), with optional setting overrides."""
    import config as settings

    config_class = settings.config_for(config)
    instance = Path((overrides or {}).get("INSTANCE_PATH") or config_class.INSTANCE_PATH)
    app = Flask(
        "campus",
        instance_path=str(instance),
        template_folder=str(ROOT / "templates"),
        static_folder="static",
    )
    app.config.from_object(config_class)
    app.config.update(overrides or {})
    app.config["INSTANCE_PATH"] = instance
    instance.mkdir(parents=True, exist_ok=True)
    _finish_config(app, config_class)

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    register_extensions(app)
    register_blueprints(app)
    from campus.errors import register_errors

    register_errors(app)
    from campus.cli import register_cli

    register_cli(app)
    from campus.templating import register_templating

    register_templating(app)
    from campus.billing.intake import WebhookIntake

    # Stripe's deliveries are answered ahead of Flask's request handling (see billing.intake).
    app.wsgi_app = WebhookIntake(app, app.wsgi_app)  # type: ignore[method-assign]
    return app


def _finish_config(app: Flask, config_class: type[Config]) -> None:
    """Fill derived settings and refuse to run production without its secrets."""
    if config_class.ENV_NAME == "production":
        missing = [name for name in config_class.REQUIRED if not app.config.get(name)]
        if missing:
            raise RuntimeError(f"production needs these settings: {', '.join(missing)}")
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
    import_models()
    for feature in FEATURES:
        feature_module(feature, "tasks")


def import_models() -> None:
    """Import every feature's models so the metadata (and Alembic) sees all tables."""
    for feature in FEATURES:
        feature_module(feature, "models")
    from campus import audit as _audit  # noqa: F401
    from campus.mail import models as _mail  # noqa: F401


def _tune_sqlite(engine) -> None:
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        # WAL lets the worker write while the web process reads; FKs are off by default.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()


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


def register_blueprints(app: Flask) -> None:
    """Register every feature's blueprint and the API."""
    from campus.api import register_api

    for feature in FEATURES:
        package = feature_module(feature)
        if getattr(package, "bp", None) is not None:
            app.register_blueprint(package.bp)
    register_api(app)

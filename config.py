"""Configuration classes: every value comes from the environment, with development defaults."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any, overload

ROOT = Path(__file__).resolve().parent


@overload
def _env(name: str) -> str | None: ...
@overload
def _env(name: str, default: str) -> str: ...
@overload
def _env(name: str, default: None) -> str | None: ...
def _env(name: str, default: str | None = None) -> str | None:
    """Return an environment variable, treating an empty value as unset."""
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _flag(name: str, default: bool = False) -> bool:
    """Read a boolean environment variable (1/true/yes/on)."""
    value = _env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def instance_path() -> Path:
    """Return the instance folder: SQLite files, the outbox and stored files live here."""
    return Path(_env("INSTANCE_PATH", str(ROOT / "instance"))).resolve()


def dev_secret_key(folder: Path) -> str:
    """Generate the development SECRET_KEY once and keep it, so sessions survive restarts."""
    folder.mkdir(parents=True, exist_ok=True)
    key_file = folder / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def _sqlite_url(folder: Path, name: str) -> str:
    return f"sqlite:///{folder / name}"


class Config:
    """Settings shared by every environment."""

    ENV_NAME = "base"
    REQUIRED: tuple[str, ...] = ()  # settings an environment refuses to start without
    GENERATE_SECRET_KEY = False
    INSTANCE_PATH = instance_path()
    SECRET_KEY = _env("SECRET_KEY")
    PUBLIC_BASE_URL = _env("PUBLIC_BASE_URL", "http://127.0.0.1:5000")
    SITE_NAME = "Campus"

    SQLALCHEMY_DATABASE_URI = _env("DATABASE_URL") or _sqlite_url(INSTANCE_PATH, "campus.sqlite")
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    # A pooled server connection idle longer than this (seconds) is pinged before use; a busy
    # pool's connections were used a moment ago, and a ping would cost a round trip per request.
    POOL_PING_AFTER_IDLE = 10

    CELERY_BROKER_URL = _env("CELERY_BROKER_URL") or "sqla+" + _sqlite_url(
        INSTANCE_PATH, "celery-broker.sqlite"
    )
    CELERY_TASK_ALWAYS_EAGER = _flag("CELERY_TASK_ALWAYS_EAGER")

    # Mail: SMTP in production; the outbox folder (one .eml a message) everywhere else.
    MAIL_BACKEND = _env("MAIL_BACKEND", "outbox")
    MAIL_FROM = _env("MAIL_FROM", "Campus <hello@campus.example>")
    SMTP_HOST = _env("SMTP_HOST", "localhost")
    SMTP_PORT = int(_env("SMTP_PORT", "587") or 587)
    SMTP_USERNAME = _env("SMTP_USERNAME")
    SMTP_PASSWORD = _env("SMTP_PASSWORD")
    SMTP_USE_TLS = _flag("SMTP_USE_TLS", True)

    # Stripe: absent keys outside production switch on the simulated checkout.
    STRIPE_SECRET_KEY = _env("STRIPE_SECRET_KEY")
    STRIPE_WEBHOOK_SECRET = _env("STRIPE_WEBHOOK_SECRET")
    STRIPE_PRICE_ID = _env("STRIPE_PRICE_ID")
    STRIPE_API_BASE = _env("STRIPE_API_BASE")
    MEMBERSHIP_PRICE_CENTS = 1995
    PAST_DUE_GRACE_DAYS = int(_env("PAST_DUE_GRACE_DAYS", "7") or 7)

    RATELIMIT_STORAGE_URI = _env("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_ENABLED = _flag("RATELIMIT_ENABLED", True)
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_RATE_LIMIT = _env("LOGIN_RATE_LIMIT", "10 per minute;50 per hour")
    RESET_RATE_LIMIT = _env("RESET_RATE_LIMIT", "5 per minute;20 per hour")

    # Argon2 parameters, by argon2.profiles name: the library's recommendation.
    PASSWORD_HASH_PROFILE = "RFC_9106_LOW_MEMORY"
    PASSWORD_RESET_MAX_AGE = 60 * 60  # seconds
    EMAIL_VERIFY_MAX_AGE = 7 * 24 * 60 * 60
    REMEMBER_COOKIE_DURATION = 30 * 24 * 60 * 60
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session

    API_TITLE = "Campus API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"

    PROVIDER_NAME = _env("PROVIDER_NAME", "Campus Continuing Education")
    PROVIDER_ADDRESS = _env("PROVIDER_ADDRESS", "200 Harbor Street, Suite 4, Portland, ME 04101")
    PROVIDER_EMAIL = _env("PROVIDER_EMAIL", "ce@campus.example")

    # Certificates: who signs them, where the PDFs go, the credential signing key, retries.
    CERTIFICATE_SIGNATORY_NAME = _env("CERTIFICATE_SIGNATORY_NAME", "Dana Whitfield, LMT, MEd")
    CERTIFICATE_SIGNATORY_TITLE = _env(
        "CERTIFICATE_SIGNATORY_TITLE", "Director of Continuing Education"
    )
    CERTIFICATE_SIGNATURE_IMAGE = _env("CERTIFICATE_SIGNATURE_IMAGE")  # a PNG scan; else drawn
    CERTIFICATE_STORAGE_DIR = _env("CERTIFICATE_STORAGE_DIR")  # default <instance>/certificates
    # An Ed25519 private JWK (JSON); required in production, generated under instance/ elsewhere.
    CERTIFICATE_SIGNING_KEY = _env("CERTIFICATE_SIGNING_KEY")
    CERTIFICATE_RETRY_DELAY = int(_env("CERTIFICATE_RETRY_DELAY", "15") or 15)  # doubles per try
    CERTIFICATE_SWEEP_AFTER = int(_env("CERTIFICATE_SWEEP_AFTER", "600") or 600)  # seconds
    CERTIFICATE_PAUSE_DIR = _env("CERTIFICATE_PAUSE_DIR")  # testing only: the kill test's hook

    @classmethod
    def celery(cls, overrides: dict | None = None) -> dict:
        """Build the Celery settings from the flat config values."""
        conf: dict[str, Any] = {
            "broker_url": cls.CELERY_BROKER_URL,
            "task_always_eager": cls.CELERY_TASK_ALWAYS_EAGER,
            "task_eager_propagates": False,
            "task_ignore_result": True,
            "task_acks_late": True,
            "task_reject_on_worker_lost": True,
            "worker_prefetch_multiplier": 1,
            "broker_connection_retry_on_startup": True,
            "timezone": "UTC",
        }
        conf.update(overrides or {})
        if conf["broker_url"].startswith("sqla+"):
            # The SQL transport hands its options to create_engine: SQLite should wait on locks.
            conf.setdefault("broker_transport_options", {"connect_args": {"timeout": 30}})
        else:
            # Redis redelivers a message nobody acknowledged after this many seconds.
            timeout = int(_env("CELERY_VISIBILITY_TIMEOUT", "3600") or 3600)
            options: dict = {"visibility_timeout": timeout}
            if timeout < 60:
                # A short timeout (tests) is only useful if abandoned messages are looked for often.
                options.update(unacked_restore_interval=1, unacked_restore_throttle=1)
            conf.setdefault("broker_transport_options", options)
        return conf


class DevelopmentConfig(Config):
    """Embedded default: SQLite, the SQLite broker, the outbox and the simulated checkout."""

    ENV_NAME = "development"
    GENERATE_SECRET_KEY = True  # create_app persists one under the instance folder


class TestingConfig(Config):
    """Tests: eager tasks and a throwaway database unless the environment names real servers."""

    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = Config.SECRET_KEY or "testing-secret-key"
    RATELIMIT_ENABLED = True
    # A production-strength hash costs a tenth of a second; the tests make hundreds.
    PASSWORD_HASH_PROFILE = "CHEAPEST"
    STRIPE_WEBHOOK_SECRET = Config.STRIPE_WEBHOOK_SECRET or "whsec_test_secret"


class ProductionConfig(Config):
    """Production: PostgreSQL, Redis, SMTP and Stripe, all named by the environment."""

    ENV_NAME = "production"
    MAIL_BACKEND = _env("MAIL_BACKEND", "smtp")
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"

    REQUIRED = ("SECRET_KEY", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "STRIPE_PRICE_ID")

    @classmethod
    def missing(cls) -> list[str]:
        """List the required settings that the environment left empty."""
        return [name for name in cls.REQUIRED if not getattr(cls, name)]


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_for(name: str | None = None) -> type[Config]:
    """Return the config class for CAMPUS_ENV (or the given name)."""
    name = name or _env("CAMPUS_ENV", "development")
    try:
        return CONFIGS[name]
    except KeyError:
        raise RuntimeError(
            f"CAMPUS_ENV={name!r} is not one of {', '.join(sorted(CONFIGS))}"
        ) from None

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
    """Read a switch (1/true/yes/on or 0/false/no/off); anything else stops the start by name."""
    value = _env(name)
    if value is None:
        return default
    word = value.strip().lower()
    # Not "anything else is off": SMTP_USE_TLS=ture would send the mail password in the clear.
    if word in {"1", "true", "yes", "on"}:
        return True
    if word in {"0", "false", "no", "off"}:
        return False
    raise RuntimeError(f"{name} must be true or false (1/0, yes/no, on/off), not {value!r}")


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


def _int(name: str, default: int) -> int:
    """Read a whole-number environment variable; a malformed one stops the start with its name."""
    value = _env(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise RuntimeError(f"{name} must be a whole number, not {value!r}") from None


def _float(name: str, default: float) -> float:
    """Read a decimal environment variable; a malformed one stops the start with its name."""
    value = _env(name)
    if value is None:
        return default
    try:
        return float(value)
    except ValueError:
        raise RuntimeError(f"{name} must be a number, not {value!r}") from None


def _list(name: str) -> list[str]:
    """Read a comma-separated environment variable as a list of non-empty items."""
    return [item.strip() for item in (_env(name) or "").split(",") if item.strip()]


class Config:
    """Settings shared by every environment."""

    ENV_NAME = "base"
    REQUIRED: tuple[str, ...] = ()  # settings an environment refuses to start without
    GENERATE_SECRET_KEY = False
    INSTANCE_PATH = instance_path()
    SECRET_KEY = _env("SECRET_KEY")
    # Seals TOTP secrets in the database (accounts/sealing.py); derived from SECRET_KEY when
    # unset. Former keys stay in the fallbacks until every secret is sealed with the new one
    # (`flask --app wsgi accounts reseal-totp`).
    TOTP_ENCRYPTION_KEY = _env("TOTP_ENCRYPTION_KEY")
    TOTP_ENCRYPTION_KEY_FALLBACKS = _list("TOTP_ENCRYPTION_KEY_FALLBACKS")
    # The site's public address: links in emails, certificates and their QR codes. Commands
    # that write links refuse to run without it (campus.urls.builds_links).
    PUBLIC_BASE_URL: str | None = _env("PUBLIC_BASE_URL")
    SITE_NAME = "Campus"

    SQLALCHEMY_DATABASE_URI: str | None = _env("DATABASE_URL") or _sqlite_url(
        INSTANCE_PATH, "campus.sqlite"
    )
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    # A pooled server connection idle longer than this (seconds) is pinged before use; a busy
    # pool's connections were used a moment ago, and a ping would cost a round trip per request.
    POOL_PING_AFTER_IDLE = 10

    CELERY_BROKER_URL: str | None = _env("CELERY_BROKER_URL") or "sqla+" + _sqlite_url(
        INSTANCE_PATH, "celery-broker.sqlite"
    )
    CELERY_TASK_ALWAYS_EAGER = _flag("CELERY_TASK_ALWAYS_EAGER")
    # Deliveries of one try of a task (over Redis) after which a message that never finishes
    # (its run kills the worker) is acknowledged unrun and logged; 0 counts nothing.
    CELERY_MAX_DELIVERIES = _int("CELERY_MAX_DELIVERIES", 5)

    # Mail: SMTP in production; the outbox folder (one .eml a message) everywhere else.
    MAIL_BACKEND = _env("MAIL_BACKEND", "outbox")
    MAIL_FROM = _env("MAIL_FROM", "Campus <hello@campus.example>")
    # A message still unsent this long after it was queued (its task lost with a killed
    # worker) is delivered by the mail sweep; a delivery claim this old belonged to a dead one.
    MAIL_SWEEP_AFTER = _int("MAIL_SWEEP_AFTER", 600)
    MAIL_CLAIM_TIMEOUT = _int("MAIL_CLAIM_TIMEOUT", 600)
    SMTP_HOST = _env("SMTP_HOST", "localhost")
    SMTP_PORT = _int("SMTP_PORT", 587)
    SMTP_USERNAME = _env("SMTP_USERNAME")
    SMTP_PASSWORD = _env("SMTP_PASSWORD")
    SMTP_USE_TLS = _flag("SMTP_USE_TLS", True)

    # Stripe: absent keys outside production switch on the simulated checkout.
    STRIPE_SECRET_KEY = _env("STRIPE_SECRET_KEY")
    STRIPE_WEBHOOK_SECRET = _env("STRIPE_WEBHOOK_SECRET")
    STRIPE_PRICE_ID = _env("STRIPE_PRICE_ID")
    STRIPE_API_BASE = _env("STRIPE_API_BASE")
    # Seconds a call to Stripe may take: members wait on checkout and the portal in a web thread.
    STRIPE_TIMEOUT = _float("STRIPE_TIMEOUT", 10.0)
    MEMBERSHIP_PRICE_CENTS = 1995
    PAST_DUE_GRACE_DAYS = _int("PAST_DUE_GRACE_DAYS", 7)

    RATELIMIT_STORAGE_URI: str | None = _env("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_ENABLED = _flag("RATELIMIT_ENABLED", True)
    # Whatever the storage (Redis, Memcached ...), its failure is one error the app answers
    # with a 503 (campus.errors), not the client library's own exception and a 500.
    RATELIMIT_STORAGE_OPTIONS = {"wrap_exceptions": True}
    RATELIMIT_HEADERS_ENABLED = True
    # Flask-Limiter strings. Login and password checks count failures only: per account (the
    # normalised email) and per address separately; the rest count every POST.
    LOGIN_ACCOUNT_RATE_LIMIT = _env("LOGIN_ACCOUNT_RATE_LIMIT", "5 per minute;20 per hour")
    LOGIN_ADDRESS_RATE_LIMIT = _env("LOGIN_ADDRESS_RATE_LIMIT", "30 per minute;200 per hour")
    PASSWORD_CHANGE_RATE_LIMIT = _env("PASSWORD_CHANGE_RATE_LIMIT", "5 per minute;20 per hour")
    ADMIN_CONFIRM_RATE_LIMIT = _env("ADMIN_CONFIRM_RATE_LIMIT", "5 per minute;20 per hour")
    SIGNUP_RATE_LIMIT = _env("SIGNUP_RATE_LIMIT", "5 per minute;20 per hour")
    RESET_RATE_LIMIT = _env("RESET_RATE_LIMIT", "5 per minute;20 per hour")
    VERIFY_RESEND_RATE_LIMIT = _env("VERIFY_RESEND_RATE_LIMIT", "2 per minute;6 per day")
    VERIFY_PAGE_RATE_LIMIT = _env("VERIFY_PAGE_RATE_LIMIT", "30 per minute;300 per hour")
    API_TOKEN_RATE_LIMIT = _env("API_TOKEN_RATE_LIMIT", "120 per minute;3000 per hour")
    BILLING_SYNC_RATE_LIMIT = _env("BILLING_SYNC_RATE_LIMIT", "60 per minute;600 per hour")
    BILLING_SYNC_INTERVAL = _int("BILLING_SYNC_INTERVAL", 60)  # seconds per member
    # One-click links from emails (no cookie, no CSRF token): marketing unsubscribe and license
    # reminders off, per address; practical video uploads per address.
    ONE_CLICK_RATE_LIMIT = _env("ONE_CLICK_RATE_LIMIT", "30 per minute")
    PRACTICAL_UPLOAD_RATE_LIMIT = _env("PRACTICAL_UPLOAD_RATE_LIMIT", "10 per hour")
    # The directory's contact form: per sender address, and per practitioner whoever sends.
    CONTACT_ADDRESS_RATE_LIMIT = _env("CONTACT_ADDRESS_RATE_LIMIT", "3 per minute;10 per day")
    CONTACT_PROFILE_RATE_LIMIT = _env("CONTACT_PROFILE_RATE_LIMIT", "10 per hour;30 per day")
    # Saving one's directory profile, per member: each save may decode and re-encode a photo.
    PROFILE_SAVE_RATE_LIMIT = _env("PROFILE_SAVE_RATE_LIMIT", "10 per minute;60 per hour")
    # A contact form sent back sooner than this after it was shown is a robot's; later than
    # the maximum, it has expired.
    CONTACT_MIN_FILL_SECONDS = _float("CONTACT_MIN_FILL_SECONDS", 3.0)
    CONTACT_FORM_MAX_AGE = _int("CONTACT_FORM_MAX_AGE", 7200)
    # A stored message not relayed this long after it was sent (its task lost) is relayed by
    # the directory sweep; one still failing after the give-up age is left to the log.
    DIRECTORY_RELAY_SWEEP_AFTER = _int("DIRECTORY_RELAY_SWEEP_AFTER", 300)  # seconds
    DIRECTORY_RELAY_GIVE_UP_AFTER = _int("DIRECTORY_RELAY_GIVE_UP_AFTER", 3 * 24 * 3600)
    # Directory impressions are added up in each web process and written at most this often
    # (seconds; 0 writes each search's at once). See README, "What keeps the directory fast".
    DIRECTORY_IMPRESSIONS_FLUSH_SECONDS = float(
        _env("DIRECTORY_IMPRESSIONS_FLUSH_SECONDS", "5") or 0
    )

    # The perimeter. Host names the app answers besides PUBLIC_BASE_URL's (create_app adds that
    # one); an empty list in testing means any host.
    TRUSTED_HOSTS_EXTRA = _list("TRUSTED_HOSTS")
    # How many proxies in front of the app set each X-Forwarded-* header (0: ignore the header).
    PROXY_FIX_X_FOR = _int("PROXY_FIX_X_FOR", 0)
    PROXY_FIX_X_PROTO = _int("PROXY_FIX_X_PROTO", 0)
    PROXY_FIX_X_HOST = _int("PROXY_FIX_X_HOST", 0)
    PROXY_FIX_X_PORT = _int("PROXY_FIX_X_PORT", 0)
    PROXY_FIX_X_PREFIX = _int("PROXY_FIX_X_PREFIX", 0)
    # No form or JSON body here needs more than this; Flask answers 413 beyond it.
    MAX_CONTENT_LENGTH = _int("MAX_CONTENT_LENGTH", 1024 * 1024)
    # JSON bodies (the API's writes) are far smaller; deep nesting would exhaust the parser.
    JSON_MAX_BYTES = _int("JSON_MAX_BYTES", 128 * 1024)
    JSON_MAX_DEPTH = _int("JSON_MAX_DEPTH", 32)
    SECURITY_HEADERS_HSTS = False  # production sends Strict-Transport-Security
    HSTS_MAX_AGE = _int("HSTS_MAX_AGE", 365 * 24 * 60 * 60)

    # Argon2 parameters, by argon2.profiles name: the library's recommendation.
    PASSWORD_HASH_PROFILE = "RFC_9106_LOW_MEMORY"
    PASSWORD_RESET_MAX_AGE = 60 * 60  # seconds
    EMAIL_VERIFY_MAX_AGE = 7 * 24 * 60 * 60
    # Server-side sessions (seconds): signed out after this long without a request, and after
    # this long in all; "keep me signed in" stretches both. Admin sessions are never remembered.
    SESSION_IDLE_TIMEOUT = _int("SESSION_IDLE_TIMEOUT", 3600)
    SESSION_ABSOLUTE_TIMEOUT = _int("SESSION_ABSOLUTE_TIMEOUT", 43200)
    REMEMBER_IDLE_TIMEOUT = _int("REMEMBER_IDLE_TIMEOUT", 1209600)
    REMEMBER_ABSOLUTE_TIMEOUT = _int("REMEMBER_ABSOLUTE_TIMEOUT", 2592000)
    REMEMBER_COOKIE_DURATION = REMEMBER_ABSOLUTE_TIMEOUT
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
    # The provider's time zone (IANA): the calendar of completion dates, expiry dates and
    # "today" (campus.dates). Times are stored in UTC whatever it is.
    TIME_ZONE = _env("TIME_ZONE", "America/New_York")

    # Stored files (campus.storage): certificates, lesson resources, downloads, uploads.
    # "local" keeps them under STORAGE_LOCAL_DIR (default: the instance folder); "s3" in a bucket
    # of any S3-compatible store, with credentials from the standard AWS_* environment variables.
    STORAGE_BACKEND = _env("STORAGE_BACKEND", "local").strip().lower()
    STORAGE_LOCAL_DIR = _env("STORAGE_LOCAL_DIR")
    STORAGE_S3_BUCKET = _env("STORAGE_S3_BUCKET")
    STORAGE_S3_PREFIX = _env("STORAGE_S3_PREFIX", "")
    STORAGE_S3_ENDPOINT_URL = _env("STORAGE_S3_ENDPOINT_URL")  # unset = AWS S3 itself
    STORAGE_S3_REGION = _env("STORAGE_S3_REGION")
    STORAGE_S3_MAX_ATTEMPTS = _int("STORAGE_S3_MAX_ATTEMPTS", 4)  # tries per request, backing off
    # Seconds a signed link to a free download lives (S3 only); 0 streams it through the app.
    STORAGE_S3_PRESIGN_SECONDS = _int("STORAGE_S3_PRESIGN_SECONDS", 0)
    # How many machines run Campus (web and worker hosts together). Above 1, production
    # refuses STORAGE_BACKEND=local: a file written on one host must be readable on every other.
    CAMPUS_HOSTS = _int("CAMPUS_HOSTS", 1)

    # Certificates: who signs them, the credential signing key, retries.
    CERTIFICATE_SIGNATORY_NAME = _env("CERTIFICATE_SIGNATORY_NAME", "Dana Whitfield, LMT, MEd")
    CERTIFICATE_SIGNATORY_TITLE = _env(
        "CERTIFICATE_SIGNATORY_TITLE", "Director of Continuing Education"
    )
    CERTIFICATE_SIGNATURE_IMAGE = _env("CERTIFICATE_SIGNATURE_IMAGE")  # a PNG scan; else drawn
    # An Ed25519 private JWK (JSON); required in production, generated under instance/ elsewhere.
    CERTIFICATE_SIGNING_KEY = _env("CERTIFICATE_SIGNING_KEY")
    # The keys signed with before a rotation (the old JWKS, or a JSON array of JWKs): still
    # published, so credentials they signed keep verifying.
    CERTIFICATE_PREVIOUS_KEYS = _env("CERTIFICATE_PREVIOUS_KEYS")
    CERTIFICATE_RETRY_DELAY = _int("CERTIFICATE_RETRY_DELAY", 15)  # doubles per try
    CERTIFICATE_SWEEP_AFTER = _int("CERTIFICATE_SWEEP_AFTER", 600)  # seconds
    # Tries at drawing one certificate that may be cut off by their worker's death (a crash,
    # the OOM killer) before it is left failed for an admin; failing tries never count.
    CERTIFICATE_MAX_CUT_OFF_TRIES = _int("CERTIFICATE_MAX_CUT_OFF_TRIES", 5)
    # Reporting completions to the boards' tracking systems (campus.reporting). Unset provider
    # id or upload key = not configured: completions are recorded as such and nothing is sent
    # (an admin downloads the roster file instead). The endpoint can point at a test service.
    CEBROKER_PROVIDER_ID = _env("CEBROKER_PROVIDER_ID")  # the "50-" provider tracking number
    CEBROKER_UPLOAD_KEY = _env("CEBROKER_UPLOAD_KEY")
    CEBROKER_ENDPOINT = _env(
        "CEBROKER_ENDPOINT",
        "https://webservices.cebroker.com/CEBrokerWebService.asmx/UploadXMLString",
    )
    CEBROKER_TIMEOUT = _float("CEBROKER_TIMEOUT", 20.0)
    REPORTING_RETRY_DELAY = _int("REPORTING_RETRY_DELAY", 30)  # seconds; doubles per try
    REPORTING_SWEEP_AFTER = _int("REPORTING_SWEEP_AFTER", 3600)  # pending this long: re-sent
    REPORTING_SENT_STALE_AFTER = _int("REPORTING_SENT_STALE_AFTER", 600)  # no answer: re-sent
    # Tries of one report, all rounds together, after which the sweep stops: it is "failed".
    REPORTING_MAX_ATTEMPTS = _int("REPORTING_MAX_ATTEMPTS", 14)
    # Certification programs: the largest practical video accepted (bytes; 200 MB).
    PRACTICAL_MAX_BYTES = _int("PRACTICAL_MAX_BYTES", 200 * 1024 * 1024)
    # A credential pending or failed this long (its task lost, or out of retries) is issued
    # again by the credential sweep, until it has been tried this many times; a member who
    # met every requirement within the lookback and holds no credential gets one from it too.
    CREDENTIAL_SWEEP_AFTER = _int("CREDENTIAL_SWEEP_AFTER", 600)  # seconds
    CREDENTIAL_SWEEP_MAX_ATTEMPTS = _int("CREDENTIAL_SWEEP_MAX_ATTEMPTS", 20)
    CREDENTIAL_SWEEP_LOOKBACK = _int("CREDENTIAL_SWEEP_LOOKBACK", 30 * 24 * 3600)  # seconds
    # Seat time (campus.learning.seattime): every required study time is multiplied by the
    # scale; production refuses anything but 1. A lesson opens its "complete" button after this
    # share of its expected time; the lesson page beats this often while visible and in use.
    SEAT_TIME_SCALE = _float("SEAT_TIME_SCALE", 1.0)
    SEAT_TIME_LESSON_SHARE = _float("SEAT_TIME_LESSON_SHARE", 0.5)
    SEAT_TIME_HEARTBEAT_SECONDS = _int("SEAT_TIME_HEARTBEAT_SECONDS", 15)
    # Records that outlive the account (campus.records): CE records of a deleted account are
    # kept this many years after its last CE activity (NCBTMB asks for 6), then purged.
    CE_RECORD_RETENTION_YEARS = _int("CE_RECORD_RETENTION_YEARS", 6)
    # Days a client's message to a practitioner and the body of a sent email are kept; then the
    # message is deleted and the body erased (a member's email keeps its row: to whom, what,
    # when). Emails to people without an account, and download leads off the marketing list,
    # are deleted on the same schedule.
    MESSAGE_RETENTION_DAYS = _int("MESSAGE_RETENTION_DAYS", 90)
    # Days a practical's video is kept after the candidate's final review (a pass; a video
    # returned and then followed by a passed one goes with it); then the file is deleted and the
    # review stays. A video waiting for review, or returned and not yet sent again, is kept.
    PRACTICAL_VIDEO_RETENTION_DAYS = _int("PRACTICAL_VIDEO_RETENTION_DAYS", 90)
    # A member's data archive: how long its link works, and how often one may be asked for.
    DATA_EXPORT_MAX_AGE = _int("DATA_EXPORT_MAX_AGE", 7 * 24 * 60 * 60)  # seconds
    DATA_EXPORT_INTERVAL = _int("DATA_EXPORT_INTERVAL", 60 * 60)  # seconds between requests
    EMAIL_CHANGE_MAX_AGE = _int("EMAIL_CHANGE_MAX_AGE", 24 * 60 * 60)  # seconds
    EMAIL_CHANGE_RATE_LIMIT = _env("EMAIL_CHANGE_RATE_LIMIT", "5 per hour;10 per day")
    ACCOUNT_DELETE_RATE_LIMIT = _env("ACCOUNT_DELETE_RATE_LIMIT", "5 per minute;20 per hour")

    # Operating it: log format (text, or one JSON object a line) and a line per request;
    # Prometheus metrics at /metrics, off unless enabled, for a bearer token or listed networks.
    LOG_FORMAT = _env("LOG_FORMAT", "text")
    LOG_REQUESTS = _flag("LOG_REQUESTS", False)
    METRICS_ENABLED = _flag("METRICS_ENABLED", False)
    METRICS_TOKEN = _env("METRICS_TOKEN")
    METRICS_ALLOW_FROM = _list("METRICS_ALLOW_FROM")  # addresses or networks, e.g. 10.0.0.0/8
    # A worker serves its task figures on this port (it has no web server of its own).
    METRICS_WORKER_PORT = _int("METRICS_WORKER_PORT", 0)
    METRICS_WORKER_ADDRESS = _env("METRICS_WORKER_ADDRESS", "127.0.0.1")

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
            timeout = _int("CELERY_VISIBILITY_TIMEOUT", 3600)
            options: dict = {"visibility_timeout": timeout}
            if timeout < 60:
                # A short timeout (tests) is only useful if abandoned messages are looked for often,
                # and if a worker killed while holding the restore lock (kept 5 minutes by default)
                # keeps the others from looking for no longer than the timeout.
                options.update(
                    unacked_restore_interval=1,
                    unacked_restore_throttle=1,
                    unacked_mutex_expire=timeout,
                )
            conf.setdefault("broker_transport_options", options)
        return conf


class DevelopmentConfig(Config):
    """Embedded default: SQLite, the SQLite broker, the outbox and the simulated checkout."""

    ENV_NAME = "development"
    GENERATE_SECRET_KEY = True  # create_app persists one under the instance folder
    # The address `./dev serve` gives the server, so a command's links point at the same place.
    PUBLIC_BASE_URL = _env("PUBLIC_BASE_URL") or f"http://127.0.0.1:{_env('PORT', '5000')}"


class TestingConfig(Config):
    """Tests: eager tasks and a throwaway database unless the environment names real servers."""

    ENV_NAME = "testing"
    TESTING = True
    PUBLIC_BASE_URL = _env("PUBLIC_BASE_URL", "http://127.0.0.1:5000")
    SECRET_KEY = Config.SECRET_KEY or "testing-secret-key"
    RATELIMIT_ENABLED = True
    # Reporting is configured by each test that needs it (against its own fake server).
    CEBROKER_PROVIDER_ID = None
    CEBROKER_UPLOAD_KEY = None
    CEBROKER_TIMEOUT = 5.0
    # A production-strength hash costs a tenth of a second; the tests make hundreds.
    PASSWORD_HASH_PROFILE = "CHEAPEST"
    # Each search's impressions written at once, so a test reads them (the buffer has its own).
    DIRECTORY_IMPRESSIONS_FLUSH_SECONDS = 0.0
    STRIPE_WEBHOOK_SECRET = Config.STRIPE_WEBHOOK_SECRET or "whsec_test_secret"
    # Tests complete lessons directly; the seat-time tests build an app with the scale at 1.
    SEAT_TIME_SCALE = 0.0
    # The suite reasons in UTC dates; tests of the provider's calendar set their own zone.
    TIME_ZONE = _env("TIME_ZONE", "UTC")


class ProductionConfig(Config):
    """Production: PostgreSQL, Redis, SMTP and Stripe, all named by the environment.

    Nothing that matters has a default here: create_app refuses to start (campus.preflight)
    until the environment names each setting, rather than quietly running on a development one.
    """

    ENV_NAME = "production"
    # No SQLite files in the instance folder: a deploy or a second host would lose what they hold.
    SQLALCHEMY_DATABASE_URI = _env("DATABASE_URL")
    CELERY_BROKER_URL = _env("CELERY_BROKER_URL")
    MAIL_BACKEND = _env("MAIL_BACKEND", "smtp")
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    # A browser takes a __Host- cookie only when it is Secure, for the path / and with no Domain,
    # from this host: a subdomain or a plain-HTTP answer cannot plant a session (ASVS 3.3.1).
    SESSION_COOKIE_NAME = "__Host-session"
    REMEMBER_COOKIE_NAME = "__Host-remember_token"
    PREFERRED_URL_SCHEME = "https"
    PUBLIC_BASE_URL = _env("PUBLIC_BASE_URL")
    RATELIMIT_STORAGE_URI = _env("RATELIMIT_STORAGE_URI")
    SECURITY_HEADERS_HSTS = True
    LOG_FORMAT = _env("LOG_FORMAT", "json")
    LOG_REQUESTS = _flag("LOG_REQUESTS", True)

    REQUIRED = (
        "SECRET_KEY",
        "STRIPE_SECRET_KEY",
        "STRIPE_WEBHOOK_SECRET",
        "STRIPE_PRICE_ID",
        "CERTIFICATE_SIGNING_KEY",
        "PUBLIC_BASE_URL",
        "RATELIMIT_STORAGE_URI",
        "CELERY_BROKER_URL",
    )


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_for(name: str | None = None) -> type[Config]:
    """Return the config class for CAMPUS_ENV (or the given name); unset means production."""
    # Failing closed: a server started without CAMPUS_ENV gets production's checks, not the
    # simulated checkout, the outbox and insecure cookies. Development says so explicitly.
    name = name or _env("CAMPUS_ENV", "production")
    try:
        return CONFIGS[name]
    except KeyError:
        raise RuntimeError(
            f"CAMPUS_ENV={name!r} is not one of {', '.join(sorted(CONFIGS))}"
        ) from None

"""Settings checked before the app serves anything: production refuses to start on weak ones."""

from __future__ import annotations

import ipaddress
import logging
import os
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from campus.dates import zone_problem

MIN_SECRET_KEY_LENGTH = 32
# Flask-Limiter storages that every web process shares; memory:// counts per process, so a
# limit of 10 a minute would really be 10 per process per minute, and restarts reset it.
_SHARED_LIMIT_STORAGES = (
    "redis://",
    "rediss://",
    "redis+unix://",
    "redis+sentinel://",
    "redis+cluster://",
    "valkey://",
    "valkeys://",
    "valkey+unix://",
    "valkey+sentinel://",
    "valkey+cluster://",
    "memcached://",
    "mongodb://",
    "mongodb+srv://",
)
_BUCKET_NAME = re.compile(r"^[a-zA-Z0-9.\-_]{1,255}$")
# What Werkzeug compares a Host header with: a name (".name" for it and its subdomains) or a
# bracketed IPv6 address, and a port it ignores. A scheme, path or "*" would match no request.
_LABEL = r"[^\W_](?:[\w-]*[^\W_])?"
_TRUSTED_HOST = re.compile(rf"^(?:\.?{_LABEL}(?:\.{_LABEL})*|\[[0-9a-fA-F:.]+\])(?::(\d{{1,5}}))?$")
# Each Stripe setting's prefix and what it is, for an operator who pasted the wrong one.
_STRIPE_SHAPES = {
    "STRIPE_SECRET_KEY": (
        ("sk_live_", "sk_test_", "rk_live_", "rk_test_"),
        "a secret key (sk_live_... or sk_test_..., or a restricted rk_...), not the "
        "publishable pk_ key",
    ),
    "STRIPE_WEBHOOK_SECRET": (("whsec_",), "the webhook endpoint's signing secret (whsec_...)"),
    "STRIPE_PRICE_ID": (
        ("price_",),
        "the monthly price's id (price_...), not the product's id or the amount",
    ),
}
_STRIPE_ID = re.compile(r"^[A-Za-z0-9_]+$")
_FIXES = {
    "SECRET_KEY": "python -c 'import secrets; print(secrets.token_hex(32))'",
    # Run where production's settings are not (it would refuse to start without this very key).
    "CERTIFICATE_SIGNING_KEY": "CAMPUS_ENV=development flask --app wsgi certificates new-key",
}


class ConfigurationError(RuntimeError):
    """The settings cannot run this environment; the message lists every problem."""

    def __init__(self, env_name: str, problems: list[str], *, implicit: bool = False) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {problem}" for problem in problems)
        why = (
            "CAMPUS_ENV is unset, which means production; a development machine sets "
            "CAMPUS_ENV=development"
            if implicit
            else f"CAMPUS_ENV={env_name}"
        )
        super().__init__(
            f"Campus will not start in {env_name} ({why}): "
            f"{len(problems)} setting(s) to fix:\n{lines}"
        )


def production_problems(config: Mapping[str, Any]) -> list[str]:
    """List what keeps these settings from running production safely (empty when fine)."""
    problems = []
    for name in config["REQUIRED"]:
        if not config.get(name):
            fix = f" (make one with: {_FIXES[name]})" if name in _FIXES else ""
            problems.append(f"{name} is not set{fix}")
    if not config.get("SQLALCHEMY_DATABASE_URI"):
        problems.append("DATABASE_URL is not set (production's database: postgresql://...)")
    secret = config.get("SECRET_KEY")
    if secret and len(secret) < MIN_SECRET_KEY_LENGTH:
        problems.append(
            f"SECRET_KEY has {len(secret)} characters; it needs at least "
            f"{MIN_SECRET_KEY_LENGTH} random ones (make one with: {_FIXES['SECRET_KEY']})"
        )
    signing_key = config.get("CERTIFICATE_SIGNING_KEY")
    if signing_key:
        from campus.certificates.signing import load_key

        try:
            load_key(signing_key)
        except ValueError as error:
            problems.append(f"CERTIFICATE_SIGNING_KEY is {error}")
    base_url = config.get("PUBLIC_BASE_URL")
    if base_url:
        problems.extend(_base_url_problems(base_url))
    storage = config.get("RATELIMIT_STORAGE_URI")
    if storage and "://" not in storage:
        problems.append(
            "RATELIMIT_STORAGE_URI has no scheme; give a URL such as redis://host:6379/n"
        )
    elif storage and not storage.startswith(_SHARED_LIMIT_STORAGES):
        problems.append(
            f"RATELIMIT_STORAGE_URI={storage.split('://')[0]}:// is not shared between "
            "processes; use Redis (redis://host:6379/n) or another shared storage"
        )
    elif storage and not _has_valid_port(storage):
        problems.append(
            "RATELIMIT_STORAGE_URI is not a URL: its port is not a number from 0 to 65535"
        )
    problems.extend(_broker_problems(config.get("CELERY_BROKER_URL")))
    problems.extend(_stripe_problems(config))
    problems.extend(storage_problems(config))
    if not config.get("RATELIMIT_ENABLED"):
        problems.append("RATELIMIT_ENABLED is off; production always limits sign-in attempts")
    if config.get("SEAT_TIME_SCALE", 1.0) != 1.0:
        problems.append(
            f"SEAT_TIME_SCALE={config.get('SEAT_TIME_SCALE')!r} shortens the study time CE "
            "hours require; production always measures it at 1"
        )
    if not 0 < config.get("SEAT_TIME_LESSON_SHARE", 0.5) <= 1:
        problems.append("SEAT_TIME_LESSON_SHARE must be above 0 and at most 1")
    if (
        config.get("METRICS_ENABLED")
        and not config.get("METRICS_TOKEN")
        and not config.get("METRICS_ALLOW_FROM")
    ):
        problems.append(
            "METRICS_ENABLED is on with neither METRICS_TOKEN nor METRICS_ALLOW_FROM; "
            "/metrics would be refused to every scraper"
        )
    return problems


def setting_problems(config: Mapping[str, Any]) -> list[str]:
    """List settings that are malformed in any environment (empty when fine)."""
    problems = []
    zone = zone_problem(config.get("TIME_ZONE"))
    if zone:
        problems.append(zone)
    for name in ("MESSAGE_RETENTION_DAYS", "PRACTICAL_VIDEO_RETENTION_DAYS"):
        retention = config.get(name, 1)
        if not isinstance(retention, int) or retention < 1:
            problems.append(f"{name}={retention!r} must be a whole number of days, 1 or more")
    # Anything but smtp writes the emails to the outbox folder, so a typo would send none.
    if config.get("MAIL_BACKEND", "outbox") not in ("smtp", "outbox"):
        problems.append(f"MAIL_BACKEND={config.get('MAIL_BACKEND')!r} must be smtp or outbox")
    if config.get("LOG_FORMAT") not in ("text", "json"):
        problems.append(f"LOG_FORMAT={config.get('LOG_FORMAT')!r} must be text or json")
    previous = config.get("CERTIFICATE_PREVIOUS_KEYS")
    if previous:
        from campus.certificates.signing import load_public_keys

        try:
            load_public_keys(previous)
        except ValueError as error:
            problems.append(f"CERTIFICATE_PREVIOUS_KEYS is {error}")
    signature = config.get("CERTIFICATE_SIGNATURE_IMAGE")
    if signature:
        problems.extend(_signature_image_problems(str(signature)))
    for host in config.get("TRUSTED_HOSTS_EXTRA") or ():
        match = _TRUSTED_HOST.match(host)
        if match is None or not 0 < int(match.group(1) or 1) <= 65535:
            problems.append(
                f"TRUSTED_HOSTS has {host!r}, which is not a host name: give the name alone "
                "(www.campus.example, or .campus.example for it and its subdomains), with no "
                "scheme, path or *"
            )
    for network in config.get("METRICS_ALLOW_FROM") or ():
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            problems.append(
                f"METRICS_ALLOW_FROM has {network!r}, which is not an address or network"
            )
    problems.extend(_multiprocess_dir_problems(os.environ.get("PROMETHEUS_MULTIPROC_DIR")))
    return problems


def _signature_image_problems(path: str) -> list[str]:
    """Refuse a signature image no certificate could print: each one copies it at issue."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(8)
    except OSError as error:
        return [
            f"CERTIFICATE_SIGNATURE_IMAGE={path!r} cannot be read ({error.strerror}); give the "
            "path of the PNG on this machine, or unset it for the drawn signature"
        ]
    if head != b"\x89PNG\r\n\x1a\n":
        return [f"CERTIFICATE_SIGNATURE_IMAGE={path!r} is not a PNG file"]
    return []


def _multiprocess_dir_problems(folder: str | None) -> list[str]:
    """Refuse a metrics folder this process cannot write: every request counts into it."""
    if not folder or (os.path.isdir(folder) and os.access(folder, os.W_OK | os.X_OK)):
        return []
    return [
        f"PROMETHEUS_MULTIPROC_DIR={folder!r} is not a folder this process can write; create it "
        "(empty) for the user Campus runs as, or unset it when only one process serves"
    ]


def _has_valid_port(url: str) -> bool:
    try:
        urlsplit(url).port  # noqa: B018 - raises on a port that is not a number from 0 to 65535
    except ValueError:
        return False
    return True


def _broker_problems(url: str | None) -> list[str]:
    """Find a broker URL Celery would refuse only when the first task is sent."""
    from kombu.transport import TRANSPORT_ALIASES

    if not url:
        return []
    # Celery takes fail-over brokers separated by ";". The URLs are not echoed: they hold passwords.
    for part in url.split(";"):
        scheme = part.strip().partition("://")[0] if "://" in part else ""
        if not scheme:
            return ["CELERY_BROKER_URL has no scheme; give a URL such as redis://host:6379/0"]
        if scheme.partition("+")[0] not in TRANSPORT_ALIASES:
            return [
                f"CELERY_BROKER_URL={scheme}:// is not a broker Celery knows; use Redis "
                "(redis://host:6379/0) or RabbitMQ (amqp://user@host:5672//)"
            ]
        if not _has_valid_port(part.strip()):
            return ["CELERY_BROKER_URL is not a URL: its port is not a number from 0 to 65535"]
    return []


def _stripe_problems(config: Mapping[str, Any]) -> list[str]:
    """Find a Stripe setting that is another kind of Stripe value (found at the first payment)."""
    problems = []
    for name, (prefixes, what) in _STRIPE_SHAPES.items():
        value = config.get(name)
        if value and not (value.startswith(prefixes) and _STRIPE_ID.match(value)):
            # Not echoed: a key pasted in the wrong setting is still a secret.
            problems.append(f"{name} is not {what}")
    return problems


def storage_problems(config: Mapping[str, Any]) -> list[str]:
    """What keeps the file storage settings from serving every host (empty when fine)."""
    backend = config.get("STORAGE_BACKEND") or "local"
    hosts = config.get("CAMPUS_HOSTS", 1)
    if backend not in ("local", "s3"):
        return [f"STORAGE_BACKEND={backend!r} is not one of local, s3"]
    if hosts < 1:
        return [f"CAMPUS_HOSTS={hosts} must be at least 1"]
    bucket = str(config.get("STORAGE_S3_BUCKET") or "")
    if backend == "s3" and not bucket:
        return ["STORAGE_BACKEND=s3 needs STORAGE_S3_BUCKET"]
    # botocore's own rule (an access point's ARN aside): it refuses any other name at each call.
    if backend == "s3" and not (_BUCKET_NAME.match(bucket) or bucket.startswith("arn:")):
        return [
            f"STORAGE_S3_BUCKET={bucket!r} is not a bucket name: give the name alone "
            "(campus-files), and any folder in it as STORAGE_S3_PREFIX"
        ]
    if backend == "s3":
        return _s3_problems(config)
    if bucket:
        # STORAGE_BACKEND forgotten: every file would stay on the disk of the host that wrote
        # it while the operator believes the hosts share the bucket.
        return [
            "STORAGE_S3_BUCKET is set, but STORAGE_BACKEND is local (its default), so files "
            "would stay on this machine's disk; set STORAGE_BACKEND=s3, or unset the bucket"
        ]
    if backend == "local" and hosts > 1:
        return [
            f"STORAGE_BACKEND=local keeps files on one machine, but CAMPUS_HOSTS={hosts}: a "
            "certificate written on a worker host would be missing on every web host; use "
            "STORAGE_BACKEND=s3 (with STORAGE_S3_BUCKET)"
        ]
    return []


# The longest a SigV4 signed link may live: S3 refuses a link signed for longer, at each use.
MAX_PRESIGN_SECONDS = 7 * 24 * 3600


def _s3_problems(config: Mapping[str, Any]) -> list[str]:
    """Find S3 settings the client refuses only when it is first made (at the first file)."""
    from botocore.exceptions import InvalidRegionError
    from botocore.utils import validate_region_name

    problems = []
    endpoint = config.get("STORAGE_S3_ENDPOINT_URL")
    if endpoint:
        try:
            parts = urlsplit(endpoint)
            parts.port  # noqa: B018 - raises on a port that is not a number from 0 to 65535
        except ValueError:
            parts = None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            problems.append(
                f"STORAGE_S3_ENDPOINT_URL={endpoint!r} is not a URL: give the store's address "
                "with its scheme (https://s3.example.com, http://minio:9000)"
            )
    region = config.get("STORAGE_S3_REGION")
    if region:
        try:
            validate_region_name(region)
        except InvalidRegionError:
            problems.append(f"STORAGE_S3_REGION={region!r} is not a region name (us-east-1)")
    attempts = config.get("STORAGE_S3_MAX_ATTEMPTS", 4)
    if attempts < 1:
        problems.append(f"STORAGE_S3_MAX_ATTEMPTS={attempts} must be at least 1")
    seconds = config.get("STORAGE_S3_PRESIGN_SECONDS") or 0
    if not 0 <= seconds <= MAX_PRESIGN_SECONDS:
        problems.append(
            f"STORAGE_S3_PRESIGN_SECONDS={seconds} is not from 0 (downloads stream through the "
            f"app) to {MAX_PRESIGN_SECONDS} (a week, the longest S3 takes a signed link for)"
        )
    return problems


def warn_about_local_storage(config: Mapping[str, Any], log: logging.Logger) -> None:
    """Say loudly at start-up where production keeps files when they are on local disk."""
    if (config.get("STORAGE_BACKEND") or "local") != "local":
        return
    folder = config.get("STORAGE_LOCAL_DIR") or config.get("INSTANCE_PATH")
    log.warning(
        "STORAGE_BACKEND=local: certificates, lesson resources and downloads are kept in %s. "
        "Every web and worker process must see the same folder (one machine, or a shared "
        "mount); with more than one host use STORAGE_BACKEND=s3 and set CAMPUS_HOSTS.",
        folder,
    )


def _base_url_problems(base_url: str) -> list[str]:
    # Every emailed link and certificate QR code is written from it: a bad port or a space in
    # it would break them all, for good on a printed certificate.
    try:
        parts = urlsplit(base_url)
        hostname = parts.hostname
        parts.port  # noqa: B018 - raises on a port that is not a number from 0 to 65535
    except ValueError:
        return [f"PUBLIC_BASE_URL={base_url!r} is not a URL"]
    if any(char.isspace() for char in base_url):
        return [f"PUBLIC_BASE_URL={base_url!r} is not a URL (it has a space in it)"]
    problems = []
    if parts.scheme != "https":
        problems.append(f"PUBLIC_BASE_URL={base_url!r} must start with https://")
    if not hostname:
        problems.append(f"PUBLIC_BASE_URL={base_url!r} has no host name")
    if parts.query or parts.fragment or parts.username or parts.password:
        problems.append(
            f"PUBLIC_BASE_URL={base_url!r} must be a plain base URL (no user, query or fragment)"
        )
    return problems


def trusted_hosts(config: Mapping[str, Any], env_name: str) -> list[str] | None:
    """Return the Host names the app answers, or None to accept any (testing without a list)."""
    # Werkzeug compares names as they are; browsers send them in lower case.
    extra = [host.lower() for host in config.get("TRUSTED_HOSTS_EXTRA") or []]
    if env_name == "testing" and not extra:
        return None
    hosts = []
    base_url = config.get("PUBLIC_BASE_URL")
    if base_url:
        try:
            host = urlsplit(base_url).hostname
        except ValueError:
            host = None
        if host:
            hosts.append(host)
    if env_name == "development":
        hosts += ["localhost", "127.0.0.1"]
    hosts += extra
    return list(dict.fromkeys(hosts))

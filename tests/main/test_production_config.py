"""Production fails closed: it refuses to start on a missing or weak setting, listing them all."""

from __future__ import annotations

import json

import pytest

from campus.preflight import ConfigurationError
from tests import support
from tests.production import BASE_URL, production_app, production_settings


def test_unset_campus_env_means_production(monkeypatch):
    import config

    monkeypatch.delenv("CAMPUS_ENV", raising=False)
    assert config.config_for() is config.ProductionConfig
    monkeypatch.setenv("CAMPUS_ENV", "")
    assert config.config_for() is config.ProductionConfig
    monkeypatch.setenv("CAMPUS_ENV", "development")
    assert config.config_for() is config.DevelopmentConfig


def test_an_app_built_without_campus_env_gets_the_production_checks(monkeypatch, _database):
    from campus import create_app

    monkeypatch.delenv("CAMPUS_ENV", raising=False)
    with pytest.raises(ConfigurationError, match="Campus will not start in production"):
        create_app()


def test_production_with_every_setting_valid_starts_and_serves_its_keys(_database):
    app = production_app()
    try:
        assert app.config["SIMULATED_STRIPE"] is False
        assert app.config["SESSION_COOKIE_SECURE"] is True
        response = app.test_client().get("/.well-known/jwks.json", base_url=BASE_URL)
        assert response.status_code == 200
        expected = json.loads(production_settings()["CERTIFICATE_SIGNING_KEY"])["x"]
        assert response.get_json()["keys"][0]["x"] == expected
    finally:
        support.clean_database(app)  # also closes the pool's connections


def test_production_refuses_to_seed_the_demo_and_its_published_passwords(_database):
    """The demo admin's password is in the README: on a live site anyone could sign in as it."""
    from sqlalchemy import func, select

    from campus.accounts.models import User
    from campus.extensions import db

    app = production_app()
    try:
        result = app.test_cli_runner().invoke(args=["seed-demo"])
        assert result.exit_code == 1 and "production" in result.output
        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(User)) == 0
    finally:
        support.clean_database(app)


@pytest.mark.parametrize(
    "name",
    [
        "SECRET_KEY",
        "STRIPE_SECRET_KEY",
        "STRIPE_WEBHOOK_SECRET",
        "STRIPE_PRICE_ID",
        "CERTIFICATE_SIGNING_KEY",
        "PUBLIC_BASE_URL",
        "RATELIMIT_STORAGE_URI",
    ],
)
def test_production_refuses_to_start_without_a_required_setting(name, _database):
    with pytest.raises(ConfigurationError) as refused:
        production_app(**{name: None})
    assert refused.value.problems == [refused.value.problems[0]]
    assert refused.value.problems[0].startswith(f"{name} is not set")


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"SECRET_KEY": "x"}, "SECRET_KEY has 1 characters; it needs at least 32"),
        ({"SECRET_KEY": "s" * 31}, "SECRET_KEY has 31 characters"),
        ({"CERTIFICATE_SIGNING_KEY": "not json"}, "CERTIFICATE_SIGNING_KEY is not an Ed25519"),
        ({"CERTIFICATE_SIGNING_KEY": '{"kty": "OKP"}'}, "CERTIFICATE_SIGNING_KEY is not an"),
        ({"CERTIFICATE_SIGNING_KEY": "[1, 2]"}, "CERTIFICATE_SIGNING_KEY is not an Ed25519"),
        ({"PUBLIC_BASE_URL": "http://campus.example"}, "must start with https://"),
        ({"PUBLIC_BASE_URL": "campus.example"}, "must start with https://"),
        ({"PUBLIC_BASE_URL": "https://"}, "has no host name"),
        ({"PUBLIC_BASE_URL": "https://[::1"}, "is not a URL"),
        ({"PUBLIC_BASE_URL": "https://campus.example:abc"}, "is not a URL"),
        ({"PUBLIC_BASE_URL": "https://campus.example:99999"}, "is not a URL"),
        ({"PUBLIC_BASE_URL": "https://campus .example"}, "is not a URL"),
        ({"PUBLIC_BASE_URL": "https://campus.example/?a=1"}, "must be a plain base URL"),
        ({"RATELIMIT_STORAGE_URI": "memory://"}, "memory:// is not shared between processes"),
        ({"RATELIMIT_ENABLED": False}, "RATELIMIT_ENABLED is off"),
        ({"SEAT_TIME_SCALE": 0.01}, "SEAT_TIME_SCALE=0.01 shortens the study time"),
        ({"SEAT_TIME_SCALE": 0.0}, "production always measures it at 1"),
        ({"SEAT_TIME_LESSON_SHARE": 0}, "SEAT_TIME_LESSON_SHARE must be above 0"),
    ],
)
def test_production_refuses_a_weak_setting(overrides, problem, _database):
    with pytest.raises(ConfigurationError) as refused:
        production_app(**overrides)
    assert [found for found in refused.value.problems if problem in found]


@pytest.mark.parametrize("backend", ["SMTP", "smtp ", "ses", ""])
def test_production_refuses_a_mail_backend_it_does_not_know(backend, _database):
    """A mistyped backend would write every email, reset links too, to a folder on disk."""
    with pytest.raises(ConfigurationError) as refused:
        production_app(MAIL_BACKEND=backend)
    assert refused.value.problems == [f"MAIL_BACKEND={backend!r} must be smtp or outbox"]


@pytest.mark.parametrize("half", ["public", "x25519"])
def test_production_refuses_a_signing_key_that_cannot_sign(half, _database):
    from joserfc.jwk import OKPKey

    if half == "public":
        key = OKPKey.generate_key("Ed25519").as_dict(private=False)
    else:
        key = OKPKey.generate_key("X25519").as_dict(private=True)
    with pytest.raises(ConfigurationError, match="not a private Ed25519 JWK"):
        production_app(CERTIFICATE_SIGNING_KEY=json.dumps(key))


def test_production_lists_every_problem_in_one_message(_database):
    with pytest.raises(ConfigurationError) as refused:
        production_app(
            SECRET_KEY="short",
            STRIPE_PRICE_ID=None,
            CERTIFICATE_SIGNING_KEY="{}",
            PUBLIC_BASE_URL="http://campus.example",
            RATELIMIT_STORAGE_URI="memory://",
        )
    message = str(refused.value)
    assert "5 setting(s) to fix" in message
    for name in ("SECRET_KEY", "STRIPE_PRICE_ID", "CERTIFICATE_SIGNING_KEY", "PUBLIC_BASE_URL"):
        assert f"  - {name}" in message
    assert "RATELIMIT_STORAGE_URI=memory://" in message


def test_the_command_line_tells_an_operator_what_to_fix(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(
            ("CAMPUS_", "SECRET_", "STRIPE_", "CERTIFICATE_", "PUBLIC_", "RATELIMIT_")
        )
    }
    env.update(INSTANCE_PATH=str(tmp_path), PYTHONPATH=str(root))
    result = subprocess.run(
        [sys.executable, "-c", "import wsgi"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "Campus will not start in production" in result.stderr
    assert "CAMPUS_ENV is unset, which means production" in result.stderr
    assert "SECRET_KEY is not set" in result.stderr
    # Production has no development defaults to fall back on.
    assert "PUBLIC_BASE_URL is not set" in result.stderr
    assert "RATELIMIT_STORAGE_URI is not set" in result.stderr


def test_production_without_a_database_or_broker_refuses_to_start_on_sqlite_files(tmp_path):
    """A missing DATABASE_URL must not mean members' data in a file the next deploy throws away."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "CELERY_BROKER_URL") and not key.startswith("CAMPUS_")
    }
    env.update(production_settings(), CAMPUS_ENV="production", INSTANCE_PATH=str(tmp_path))
    env.update(PYTHONPATH=str(root))
    result = subprocess.run(
        [sys.executable, "-c", "import wsgi"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0, "production started on SQLite files in its instance folder"
    assert "2 setting(s) to fix" in result.stderr
    assert "DATABASE_URL is not set" in result.stderr
    assert "CELERY_BROKER_URL is not set" in result.stderr
    assert not list(tmp_path.glob("*.sqlite"))


@pytest.mark.parametrize(
    ("name", "complaint"),
    [
        ("SMTP_PORT", "must be a whole number"),
        ("SESSION_IDLE_TIMEOUT", "must be a whole number"),
        ("CERTIFICATE_RETRY_DELAY", "must be a whole number"),
        ("CONTACT_MIN_FILL_SECONDS", "must be a number"),
        # A typo in a switch read as "off" would turn TLS off for the SMTP password.
        ("SMTP_USE_TLS", "must be true or false (1/0, yes/no, on/off)"),
        ("RATELIMIT_ENABLED", "must be true or false (1/0, yes/no, on/off)"),
    ],
)
def test_a_malformed_number_or_switch_setting_is_named_when_the_settings_are_read(name, complaint):
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, name: "five", "PYTHONPATH": str(root)}
    result = subprocess.run(
        [sys.executable, "-c", "import config"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert f"{name} {complaint}, not 'five'" in result.stderr


def test_production_on_more_than_one_host_refuses_local_storage(_database):
    with pytest.raises(ConfigurationError) as refused:
        production_app(CAMPUS_HOSTS=3)
    assert "STORAGE_BACKEND=local keeps files on one machine, but CAMPUS_HOSTS=3" in str(
        refused.value
    )
    with pytest.raises(ConfigurationError, match="STORAGE_BACKEND=s3 needs STORAGE_S3_BUCKET"):
        production_app(CAMPUS_HOSTS=3, STORAGE_BACKEND="s3")
    with pytest.raises(ConfigurationError, match="'ftp' is not one of local, s3"):
        production_app(STORAGE_BACKEND="ftp")
    app = production_app(CAMPUS_HOSTS=3, STORAGE_BACKEND="s3", STORAGE_S3_BUCKET="campus-files")
    support.clean_database(app)


@pytest.mark.parametrize("bucket", ["s3://campus-files", "campus-files/certificates", "a b"])
def test_production_refuses_a_bucket_name_no_s3_call_would_accept(bucket, _database):
    """Else every certificate, download and export would fail, long after the start."""
    with pytest.raises(ConfigurationError) as refused:
        production_app(STORAGE_BACKEND="s3", STORAGE_S3_BUCKET=bucket)
    assert refused.value.problems == [
        f"STORAGE_S3_BUCKET={bucket!r} is not a bucket name: give the name alone "
        "(campus-files), and any folder in it as STORAGE_S3_PREFIX"
    ]


@pytest.mark.parametrize(
    ("setting", "value", "complaint"),
    [
        ("STORAGE_S3_ENDPOINT_URL", "minio:9000", "STORAGE_S3_ENDPOINT_URL='minio:9000' is not"),
        ("STORAGE_S3_REGION", "us east 1", "STORAGE_S3_REGION='us east 1' is not"),
        ("STORAGE_S3_MAX_ATTEMPTS", 0, "STORAGE_S3_MAX_ATTEMPTS=0 must be"),
        ("STORAGE_S3_PRESIGN_SECONDS", 8 * 24 * 3600, "STORAGE_S3_PRESIGN_SECONDS=691200 is"),
    ],
)
def test_production_refuses_s3_settings_the_first_file_would_fail_on(
    setting, value, complaint, _database
):
    """Else the site starts, and every certificate, download and upload fails at its first use."""
    with pytest.raises(ConfigurationError) as refused:
        production_app(STORAGE_BACKEND="s3", STORAGE_S3_BUCKET="campus-files", **{setting: value})
    assert len(refused.value.problems) == 1
    assert refused.value.problems[0].startswith(complaint)


@pytest.mark.parametrize("kind", ["missing", "not a png", "a folder"])
def test_production_refuses_a_signature_image_no_certificate_could_print(kind, tmp_path, _database):
    """Else the site starts, and every certificate fails to issue (or a reissue answers 500)."""
    path = tmp_path / "signature.png"
    if kind == "not a png":
        path.write_text("Dana Whitfield")
    elif kind == "a folder":
        path.mkdir()
    with pytest.raises(ConfigurationError) as refused:
        production_app(CERTIFICATE_SIGNATURE_IMAGE=str(path))
    assert len(refused.value.problems) == 1
    assert refused.value.problems[0].startswith(f"CERTIFICATE_SIGNATURE_IMAGE={str(path)!r} ")


def test_production_refuses_a_bucket_named_while_files_would_stay_on_local_disk(_database):
    """STORAGE_BACKEND forgotten: the operator believes every host shares the bucket."""
    with pytest.raises(ConfigurationError) as refused:
        production_app(STORAGE_S3_BUCKET="campus-files")
    assert len(refused.value.problems) == 1
    assert refused.value.problems[0].startswith(
        "STORAGE_S3_BUCKET is set, but STORAGE_BACKEND is local"
    )


def test_production_on_local_storage_says_at_start_that_files_need_a_shared_mount(
    _database, caplog
):
    app = production_app()
    try:
        warning = [r.getMessage() for r in caplog.records if r.name == "campus.storage"]
        assert len(warning) == 1 and "shared mount" in warning[0]
        assert str(app.config["INSTANCE_PATH"]) in warning[0]
    finally:
        support.clean_database(app)
    caplog.clear()
    app = production_app(STORAGE_BACKEND="s3", STORAGE_S3_BUCKET="campus-files")
    support.clean_database(app)
    assert not [r for r in caplog.records if r.name == "campus.storage"]


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        # Each was taken, and the first request (or the first payment) failed instead.
        ({"CELERY_BROKER_URL": "redis-host:6379/0"}, "CELERY_BROKER_URL"),
        ({"CELERY_BROKER_URL": "rediss//campus-redis:6379/0"}, "CELERY_BROKER_URL"),
        ({"CELERY_BROKER_URL": "reddis://campus-redis:6379/0"}, "CELERY_BROKER_URL"),
        ({"CELERY_BROKER_URL": "redis://campus-redis:port/0"}, "CELERY_BROKER_URL"),
        ({"RATELIMIT_STORAGE_URI": "campus-redis:6379"}, "RATELIMIT_STORAGE_URI"),
        ({"RATELIMIT_STORAGE_URI": "redis://campus-redis:63790000"}, "RATELIMIT_STORAGE_URI"),
        ({"STRIPE_PRICE_ID": "prod_NjpI7DbZx6AlWQ"}, "STRIPE_PRICE_ID"),
        ({"STRIPE_PRICE_ID": "19.95"}, "STRIPE_PRICE_ID"),
        ({"STRIPE_WEBHOOK_SECRET": "we_1NkjV2"}, "STRIPE_WEBHOOK_SECRET"),
        ({"STRIPE_SECRET_KEY": "pk_live_51Hx"}, "STRIPE_SECRET_KEY"),
        ({"STRIPE_SECRET_KEY": "whsec_abc"}, "STRIPE_SECRET_KEY"),
        ({"STRIPE_SECRET_KEY": " sk_live_abc"}, "STRIPE_SECRET_KEY"),
        ({"TRUSTED_HOSTS_EXTRA": ["https://www.campus.example"]}, "TRUSTED_HOSTS"),
        ({"TRUSTED_HOSTS_EXTRA": ["*.campus.example"]}, "TRUSTED_HOSTS"),
        ({"TRUSTED_HOSTS_EXTRA": ["www.campus.example/"]}, "TRUSTED_HOSTS"),
        ({"TRUSTED_HOSTS_EXTRA": ["www.campus.example:https"]}, "TRUSTED_HOSTS"),
    ],
)
def test_production_refuses_a_setting_of_the_wrong_shape_and_names_it(
    overrides, problem, _database
):
    with pytest.raises(ConfigurationError) as refused:
        production_app(**overrides)
    assert [found for found in refused.value.problems if found.startswith(problem)]


@pytest.mark.parametrize(
    "overrides",
    [
        {"STRIPE_SECRET_KEY": "sk_test_campus"},
        {"STRIPE_SECRET_KEY": "rk_live_restricted"},
        {"CELERY_BROKER_URL": "amqp://guest@rabbit:5672//"},
        {"CELERY_BROKER_URL": "sentinel://s1:26379;sentinel://s2:26379"},
        {"RATELIMIT_STORAGE_URI": "rediss://:secret@campus-redis:6380/2"},
        {"TRUSTED_HOSTS_EXTRA": ["www.campus.example:443", ".campus.example", "[::1]:8443"]},
    ],
)
def test_production_takes_each_well_formed_shape(overrides, _database):
    app = production_app(**overrides)
    support.clean_database(app)

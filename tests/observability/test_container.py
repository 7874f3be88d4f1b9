"""The Dockerfile and compose.yaml, checked without a container runtime: parsed and compared.

They must agree with each other, with the settings config.py reads, with what production
requires, and with the README's description of them.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

import config as settings
from tests.support import ROOT

COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = ("migrate", "web", "worker", "beat")
DOCKERFILE = (ROOT / "Dockerfile").read_text()
README = (ROOT / "README.md").read_text()
# Read by libraries rather than by config.py.
EXTERNAL_SETTINGS = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "PROMETHEUS_MULTIPROC_DIR"}


def _environment(service: str) -> dict[str, str]:
    """A service's settings, with each ${VAR...} from .env standing as a placeholder value."""
    return {
        key: re.sub(r"\$\{[^}]*\}", "from-env", str(value))
        for key, value in SERVICES[service]["environment"].items()
    }


def _settings_config_reads() -> set[str]:
    source = (ROOT / "config.py").read_text()
    return set(re.findall(r'_(?:env|flag|int|float|list)\("([A-Z0-9_]+)"', source))


def _interpolated(text: str) -> set[str]:
    return set(re.findall(r"\$\{([A-Z0-9_]+)(?::?[-?][^}]*)?\}", text))


def test_compose_runs_web_worker_beat_and_the_services_they_share():
    assert set(SERVICES) == {
        "postgres",
        "redis",
        "objects",
        "buckets",
        "migrate",
        "web",
        "worker",
        "beat",
    }
    for name in APP_SERVICES:
        assert SERVICES[name]["build"] == "."
        assert SERVICES[name]["image"] == "campus:latest"  # one image for every role
    assert "celery" in SERVICES["worker"]["command"] and "worker" in SERVICES["worker"]["command"]
    assert "--beat" not in SERVICES["worker"]["command"]
    assert "beat" in SERVICES["beat"]["command"]
    assert SERVICES["beat"]["deploy"]["replicas"] == 1
    assert SERVICES["migrate"]["command"] == ["flask", "db", "upgrade"]


@pytest.mark.parametrize("service", APP_SERVICES)
def test_every_app_service_has_what_production_requires(service):
    env = _environment(service)
    assert env["CAMPUS_ENV"] == "production"
    for name in settings.ProductionConfig.REQUIRED:
        assert env.get(name), f"{service} lacks {name}"
    assert env["LOG_FORMAT"] == "json"
    assert env["METRICS_ENABLED"] == "1" and env["METRICS_TOKEN"]
    assert env["RATELIMIT_STORAGE_URI"].startswith("redis://")


@pytest.mark.parametrize("service", APP_SERVICES)
def test_every_setting_an_app_service_sets_is_one_campus_reads(service):
    unknown = set(_environment(service)) - _settings_config_reads() - EXTERNAL_SETTINGS
    assert not unknown, f"{service} sets settings nothing reads: {sorted(unknown)}"


def test_a_service_that_believes_forwarded_headers_is_published_only_to_this_machine():
    # Trusting one proxy's X-Forwarded-For, a port open to the network let any client reach
    # gunicorn directly and name a new address on every request: every per-address rate limit
    # (sign-in, reset, sign-up, verify) was bypassed. Only a proxy on this machine may reach it.
    for name in APP_SERVICES:
        settings_ = _environment(name)
        if not any(
            int(settings_.get(key, "0") or 0) for key in settings_ if key.startswith("PROXY_FIX_")
        ):
            continue
        for port in SERVICES[name].get("ports", []):
            text = str(port.get("host_ip", "") if isinstance(port, dict) else port)
            assert text.startswith(("127.0.0.1:", "[::1]:")) or text in ("127.0.0.1", "::1"), (
                f"{name} publishes {port} to every interface"
            )


def test_the_app_reaches_the_shared_services_by_their_compose_names():
    env = _environment("web")
    assert urlsplit(env["DATABASE_URL"]).hostname == "postgres"
    assert urlsplit(env["CELERY_BROKER_URL"]).hostname == "redis"
    assert urlsplit(env["RATELIMIT_STORAGE_URI"]).hostname == "redis"
    assert env["CELERY_BROKER_URL"] != env["RATELIMIT_STORAGE_URI"]
    assert env["STORAGE_BACKEND"] == "s3"
    assert urlsplit(env["STORAGE_S3_ENDPOINT_URL"]).hostname == "objects"
    # The bucket the app writes to is the one the set-up job creates.
    bucket_job = " ".join(SERVICES["buckets"]["command"])
    assert f"store/{env['STORAGE_S3_BUCKET']}" in bucket_job
    assert env["AWS_ACCESS_KEY_ID"] == SERVICES["objects"]["environment"]["MINIO_ROOT_USER"]
    postgres = SERVICES["postgres"]["environment"]
    database = urlsplit(env["DATABASE_URL"])
    assert database.username == postgres["POSTGRES_USER"]
    assert database.path == "/" + postgres["POSTGRES_DB"]


def test_app_services_start_only_after_migrations_and_the_bucket():
    for name in ("web", "worker", "beat"):
        after = SERVICES[name]["depends_on"]
        assert after["migrate"]["condition"] == "service_completed_successfully"
        assert after["buckets"]["condition"] == "service_completed_successfully"
    for name in ("postgres", "redis", "objects"):
        assert SERVICES[name]["healthcheck"]["test"]


def test_every_secret_compose_asks_for_is_in_the_example_env_file():
    asked = _interpolated((ROOT / "compose.yaml").read_text())
    example = {
        line.split("=", 1)[0]
        for line in (ROOT / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    }
    assert asked == example
    assert ".env" in (ROOT / ".gitignore").read_text().split()


def test_images_are_pinned_to_a_release():
    for name, service in SERVICES.items():
        if "image" in service and name not in APP_SERVICES:
            image = service["image"]
            assert ":" in image and not image.endswith(":latest"), f"{name}: {image}"


def test_the_dockerfile_is_small_pinned_and_runs_as_a_user():
    lines = [line.strip() for line in DOCKERFILE.splitlines() if line.strip()]
    base = next(line for line in lines if line.startswith("FROM "))
    assert re.fullmatch(r"FROM python:3\.\d+\.\d+-slim-\w+", base)
    assert "COPY requirements.txt" in DOCKERFILE
    assert "pip install -r requirements.txt" in DOCKERFILE
    user = next(i for i, line in enumerate(lines) if line.startswith("USER "))
    cmd = next(i for i, line in enumerate(lines) if line.startswith("CMD "))
    assert lines[user] != "USER root" and user < cmd
    assert "EXPOSE 8000" in lines
    assert SERVICES["web"]["ports"] == ["127.0.0.1:8000:8000"]
    assert "wsgi:app" in DOCKERFILE and "--graceful-timeout" in DOCKERFILE
    # Forwarded headers count only as the PROXY_FIX_* settings say, not by gunicorn's own trust.
    assert '"--forwarded-allow-ips", ""' in DOCKERFILE
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", "instance", ".env"} <= set(ignored)
    for copied in re.findall(r"^COPY (\S+)", DOCKERFILE, re.M):
        assert (ROOT / copied.rstrip("/")).exists(), copied


def test_the_readme_describes_the_compose_services_and_commands():
    section = README.split("## Containers", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `([a-z]+)` \|", section, re.M))
    assert documented == set(SERVICES)
    assert "docker compose up" in section
    assert "cp .env.example .env" in section
    for topic in ("pg_dump", "mc mirror", "expand", "contract"):
        assert topic in section, topic


def test_the_readme_names_only_settings_that_exist():
    section = README.split("## Containers", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"`([A-Z][A-Z0-9_]{3,})`", section))
    assert named, "the section names its settings"
    unknown = (
        named
        - _settings_config_reads()
        - EXTERNAL_SETTINGS
        - _interpolated((ROOT / "compose.yaml").read_text())
    )
    assert not unknown, sorted(unknown)


def test_a_path_in_the_compose_file_exists():
    assert Path(ROOT / SERVICES["web"]["build"]).joinpath("Dockerfile").exists()

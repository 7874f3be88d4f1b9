"""Periodic tasks run by celery beat (exactly one beat process per deployment)."""

from celery.schedules import crontab  # noqa: F401 - used by the entries features add

BEAT_SCHEDULE: dict[str, dict] = {}

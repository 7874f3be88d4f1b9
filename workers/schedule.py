"""Periodic tasks run by celery beat (exactly one beat process per deployment)."""

from campus import FEATURES, feature_module


def beat_schedule() -> dict[str, dict]:
    """Collect every feature's tasks.BEAT_SCHEDULE entries."""
    schedule: dict[str, dict] = {}
    for feature in FEATURES:
        module = feature_module(feature, "tasks")
        schedule.update(getattr(module, "BEAT_SCHEDULE", {}))
    return schedule

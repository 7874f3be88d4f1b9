"""Periodic tasks run by celery beat (exactly one beat process per deployment)."""

from campus.features import all_features


def beat_schedule() -> dict[str, dict]:
    """Collect every feature's beat schedule entries."""
    schedule: dict[str, dict] = {}
    for feature in all_features():
        schedule.update(feature.beat_schedule())
    return schedule

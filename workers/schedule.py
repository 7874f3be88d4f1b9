"""Periodic tasks run by celery beat (exactly one beat process per deployment)."""

from datetime import timedelta

from campus.features import all_features


def beat_schedule() -> dict[str, dict]:
    """Collect every feature's beat schedule entries; a repeating run expires at its next."""
    schedule: dict[str, dict] = {}
    for feature in all_features():
        schedule.update(feature.beat_schedule())
    for entry in schedule.values():
        every = entry["schedule"]
        if isinstance(every, timedelta):
            every = every.total_seconds()
        if isinstance(every, int | float):
            # Beat keeps sending while the workers are away; a sweep still queued when the
            # next one is sent only repeats it, and an outage of an hour would leave sixty of
            # each to run back to back on return. Clock-timed jobs (daily, hourly) keep theirs:
            # a missed one would not come round again for a day.
            entry.setdefault("options", {}).setdefault("expires", every)
    return schedule

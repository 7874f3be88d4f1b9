"""Periodic tasks run by celery beat (exactly one beat process per deployment)."""

from datetime import timedelta

from campus.features import all_features

# How many of its periods a repeating run may wait in the queue before it is dropped.
EXPIRES_AFTER_PERIODS = 10


def beat_schedule() -> dict[str, dict]:
    """Collect every feature's beat schedule entries; a repeating run expires after ten periods."""
    schedule: dict[str, dict] = {}
    for feature in all_features():
        schedule.update(feature.beat_schedule())
    for entry in schedule.values():
        every = entry["schedule"]
        if isinstance(every, timedelta):
            every = every.total_seconds()
        if isinstance(every, int | float):
            # Beat keeps sending while the workers are away, and an outage of an hour left
            # sixty copies of a minutely sweep to run back to back on return. A run expires
            # after ten of its periods: one waiting behind a long queue of other work still
            # runs (late), and at most ten of each are left after an outage. Clock-timed jobs
            # (daily, hourly) keep theirs: a missed one would not come round again for a day.
            entry.setdefault("options", {}).setdefault("expires", every * EXPIRES_AFTER_PERIODS)
    return schedule

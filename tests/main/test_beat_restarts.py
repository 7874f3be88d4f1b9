"""Beat loses its schedule file when its container is recreated: every job must still run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from celery.beat import ScheduleEntry

# Not on any job's minute: a restart must not land exactly where a crontab entry fires.
START = datetime(2026, 3, 2, 0, 7, 13, tzinfo=UTC)
RESTART_EVERY = timedelta(hours=4)  # a deploy or two a day, and a few machine moves
DAYS = 3


def _sends_across_restarts(
    app, name: str, entry: dict, restart_every: timedelta = RESTART_EVERY
) -> int:
    """How often a beat that restarts without its schedule file sends this entry in DAYS days."""
    celery_app = app.extensions["celery"]
    sent = 0
    end = START + timedelta(days=DAYS)
    with time_machine.travel(START, tick=False) as traveller:
        restart = START
        while restart < end:
            traveller.move_to(restart)
            # A fresh beat: no last run is known, so the entry counts from now.
            scheduled = ScheduleEntry(
                name, entry["task"], schedule=entry["schedule"], app=celery_app
            )
            moment = restart
            while moment < min(restart + restart_every, end):
                traveller.move_to(moment)
                due, _next = scheduled.is_due()
                if due:
                    sent += 1
                    scheduled = next(scheduled)
                moment += timedelta(minutes=5)
            restart += restart_every
    return sent


def test_a_beat_restarted_every_few_hours_still_runs_every_job_each_day(app):
    from workers.schedule import beat_schedule

    with app.app_context():
        schedule = beat_schedule()
    never_daily = {
        name: sends
        for name, entry in sorted(schedule.items())
        if (sends := _sends_across_restarts(app, name, entry)) < DAYS
    }
    assert never_daily == {}


def test_a_beat_redeployed_more_often_than_hourly_still_runs_every_job(app):
    from workers.schedule import beat_schedule

    with app.app_context():
        schedule = beat_schedule()
    # A busy day of deploys: an interval as long as the time between them would never come due.
    never_run = {
        name
        for name, entry in sorted(schedule.items())
        if _sends_across_restarts(app, name, entry, timedelta(minutes=50)) == 0
    }
    assert never_run == set()


def test_a_sweep_queued_while_the_workers_were_away_expires_after_ten_of_its_periods(app):
    from celery.schedules import crontab

    from workers.schedule import beat_schedule

    with app.app_context():
        schedule = beat_schedule()
    repeating = {name: e for name, e in schedule.items() if not isinstance(e["schedule"], crontab)}
    assert repeating, "some sweeps repeat every few minutes"
    for name, entry in repeating.items():
        assert entry["options"]["expires"] == 10 * float(entry["schedule"]), name
    for name, entry in schedule.items():
        if isinstance(entry["schedule"], crontab):
            assert "expires" not in entry.get("options", {}), name

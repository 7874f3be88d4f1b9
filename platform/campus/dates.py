"""The provider's calendar: which day a moment falls on, in the TIME_ZONE setting's zone.

Moments are stored in UTC. A date that people and boards read (a course's completion date, a
credential's first day, "today" for whether a license, credential or approval has expired) is
the provider's local date: in UTC, a course finished on a Californian afternoon of December 31
would be dated the next year, after the member's renewal deadline.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app, has_app_context

DEFAULT_TIME_ZONE = "America/New_York"


def zone_problem(name: object) -> str | None:
    """Say what is wrong with a TIME_ZONE value, or None when it names a known zone."""
    if not isinstance(name, str) or not name.strip():
        return "TIME_ZONE is empty; set an IANA time zone such as America/New_York"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return f"TIME_ZONE={name!r} is not an IANA time zone (such as America/New_York)"
    return None


def zone() -> ZoneInfo:
    """The provider's time zone (ZoneInfo keeps one instance per name, so this is cheap)."""
    name = current_app.config.get("TIME_ZONE") if has_app_context() else None
    return ZoneInfo(name or DEFAULT_TIME_ZONE)


def local(moment: datetime) -> datetime:
    """The same moment on the provider's clock (a naive moment is read as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone())


def local_date(moment: datetime) -> date:
    """The provider's calendar date of a moment."""
    return local(moment).date()


def today() -> date:
    """Today's date on the provider's calendar."""
    return local_date(datetime.now(UTC))


def day_start(day: date) -> datetime:
    """The first moment of a date on the provider's calendar, in UTC (as times are stored)."""
    return datetime.combine(day, time.min, tzinfo=zone()).astimezone(UTC)


def days_between(first: date, last: date) -> tuple[datetime, datetime]:
    """The UTC moments from the start of `first` up to (not including) the day after `last`."""
    return day_start(first), day_start(last + timedelta(days=1))


def add_months(day: date, months: int) -> date:
    """The same day `months` later or earlier (the month's last day when it has no such day)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))

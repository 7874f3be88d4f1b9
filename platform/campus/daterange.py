"""Reporting date ranges typed by a person: one parser, one rule, for every report."""

from __future__ import annotations

from datetime import date

EARLIEST_YEAR = 2000


class DateRangeError(ValueError):
    """A date range that cannot be used, with a code and a message for the person who typed it."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def parse_range(start_text: str | None, end_text: str | None, today: date) -> tuple[date, date]:
    """Read a YYYY-MM-DD range (default: this calendar year to today) and check it.

    The rule: both days are real dates, the start is on or before the end, and the range lies
    between the year 2000 and the end of next year.
    """
    try:
        start = date.fromisoformat(start_text) if start_text else date(today.year, 1, 1)
        end = date.fromisoformat(end_text) if end_text else today
    except (ValueError, TypeError):
        raise DateRangeError(
            "bad_date", "Enter dates as YYYY-MM-DD, for example 2026-01-31."
        ) from None
    if start > end:
        raise DateRangeError("bad_range", "The start date must be on or before the end date.")
    if start.year < EARLIEST_YEAR or end.year > today.year + 1:
        raise DateRangeError("bad_range", "Choose dates between the year 2000 and next year.")
    return start, end

"""Exam attempts numbered within the period they count in.

A sitting's stored `number` runs on across periods (it keeps two starts at once from both
winning); the candidate is shown its place among the attempts of its own period, which is how
the attempts left are counted after a credential lapses.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from campus import dates
from campus.extensions import db
from campus.programs.models import Credential, ExamSitting


def period_starts(user_id: int, program_id: int) -> list[datetime]:
    """When each of the holder's issued credentials lapsed or will (the day after its expiry)."""
    return sorted(
        dates.day_start(valid_until + timedelta(days=1))
        for valid_until in db.session.scalars(
            select(Credential.valid_until).where(
                Credential.user_id == user_id,
                Credential.program_id == program_id,
                # As for the lapse itself: a revoked credential is not earned again by the exam.
                Credential.status == "issued",
            )
        )
    )


def attempt_numbers(sittings: list[ExamSitting], starts: list[datetime]) -> dict[int, int]:
    """Number each sitting (by id) within its period: 1 for the first after the latest lapse."""
    numbers: dict[int, int] = {}
    counted: dict[datetime | None, int] = {}
    for sitting in sorted(sittings, key=lambda s: s.number):
        period = max((s for s in starts if s <= sitting.started_at), default=None)
        counted[period] = counted.get(period, 0) + 1
        numbers[sitting.id] = counted[period]
    return numbers


def attempt_number(sitting: ExamSitting) -> int:
    """The sitting's number within its period, as the candidate is shown it."""
    every = db.session.scalars(
        select(ExamSitting).where(
            ExamSitting.user_id == sitting.user_id,
            ExamSitting.program_id == sitting.program_id,
            ExamSitting.number <= sitting.number,
        )
    )
    starts = period_starts(sitting.user_id, sitting.program_id)
    return attempt_numbers(list(every), starts)[sitting.id]

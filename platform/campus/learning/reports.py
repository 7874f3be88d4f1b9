"""The student's dashboard: enrollments with progress and CE hours over a date range."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from campus import dates
from campus.accounts.models import User
from campus.extensions import db
from campus.learning import credit
from campus.learning.models import (
    Course,
    Enrollment,
    Lesson,
    LessonProgress,
)


@dataclass
class EnrollmentRow:
    """An enrollment with its course and progress counts, for lists."""

    enrollment: Enrollment
    course: Course
    done: int
    total: int
    # The hours this enrollment counts for: None until completed, or once its certificate is
    # revoked (credit.counted_hours).
    hours: Decimal | None = None
    # The completion's day as its certificate prints it (and the totals count it), if completed.
    completed_on: date | None = None

    @property
    def percent(self) -> int:
        return 100 if not self.total else math.floor(100 * self.done / self.total)


def enrollment_rows(user: User) -> list[EnrollmentRow]:
    """The user's enrollments with courses and progress, in a fixed number of queries."""
    enrollments = db.session.scalars(
        select(Enrollment)
        .where(Enrollment.user_id == user.id)
        .options(selectinload(Enrollment.course).selectinload(Course.approvals))
        # The id last: rows tied on both times come back in one order on every database.
        .order_by(
            Enrollment.last_activity_at.desc().nulls_last(),
            Enrollment.enrolled_at.desc(),
            Enrollment.id.desc(),
        )
    ).all()
    if not enrollments:
        return []
    course_ids = [e.course_id for e in enrollments]
    totals = dict(
        db.session.execute(
            select(Lesson.course_id, func.count(Lesson.id))
            .where(Lesson.course_id.in_(course_ids))
            .group_by(Lesson.course_id)
        ).all()
    )
    done = dict(
        db.session.execute(
            select(LessonProgress.enrollment_id, func.count(LessonProgress.id))
            .join(Lesson, Lesson.id == LessonProgress.lesson_id)
            .join(Enrollment, Enrollment.id == LessonProgress.enrollment_id)
            .where(Enrollment.user_id == user.id, Lesson.course_id == Enrollment.course_id)
            .group_by(LessonProgress.enrollment_id)
        ).all()
    )
    revoked = credit.revoked_course_ids(user.id)
    printed = credit.printed_days(user.id)
    return [
        EnrollmentRow(
            e,
            e.course,
            done.get(e.id, 0),
            totals.get(e.course_id, 0),
            credit.counted_hours(e, revoked),
            _completed_on(e, printed),
        )
        for e in enrollments
    ]


def _completed_on(enrollment: Enrollment, printed: dict[int, date]) -> date | None:
    """The completion's day: as its certificate prints it, else the moment's on today's calendar."""
    if enrollment.completed_at is None:
        return None
    return printed.get(enrollment.course_id) or dates.local_date(enrollment.completed_at)


def ce_hours_between(user: User, start: date, end: date) -> Decimal:
    """CE hours the user earned from `start` to `end`, both days included."""
    return credit.earned_hours(user.id, start, end)


def completions_between(user: User, start: date, end: date) -> int:
    """How many courses the user completed in a date range (as their certificates print it)."""
    return len(credit.earned_between(user.id, start, end))

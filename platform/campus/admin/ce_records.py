"""CE records for boards and auditors: evaluation summaries, study time and quiz attempts."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from flask import abort
from flask_admin import Admin, expose
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from campus.accounts.models import User
from campus.admin.base import AdminPage
from campus.audit import record
from campus.exports import csv_attachment, csv_text
from campus.extensions import db
from campus.learning import evaluation, seattime
from campus.learning.models import Course, Enrollment, QuizAttempt
from campus.learning.records import SeatTime


@dataclass(frozen=True)
class TimeLog:
    """One enrollment's study time (per lesson, against what the course requires) and quiz."""

    enrollment: Enrollment
    course: Course
    rows: list[SeatTime]
    required: int
    attempts: list[QuizAttempt]  # oldest first, with their scores and pass marks

    @property
    def total(self) -> int:
        return sum(row.seconds for row in self.rows)

    @staticmethod
    def say(seconds: int) -> str:
        """A number of seconds as a person would say it."""
        return seattime.duration(seconds)


def time_logs(user: User) -> list[TimeLog]:
    """A member's time log for every course they are enrolled in."""
    enrollments = db.session.scalars(
        select(Enrollment).where(Enrollment.user_id == user.id).order_by(Enrollment.enrolled_at)
    ).all()
    attempts = _attempts_by_enrollment([enrollment.id for enrollment in enrollments])
    return [
        TimeLog(
            enrollment,
            enrollment.course,
            seattime.time_log(enrollment.id),
            # A completion is held to the hours it earned, whatever the course says since.
            seattime.required_course_seconds(enrollment.course, enrollment.ce_hours_earned),
            attempts.get(enrollment.id, []),
        )
        for enrollment in enrollments
    ]


def _attempts_by_enrollment(enrollment_ids: list[int]) -> dict[int, list[QuizAttempt]]:
    """The quiz attempts of these enrollments, oldest first, with their papers (their starts).

    One read for them all: a learner may fail a quiz many times in each of many courses.
    """
    found: dict[int, list[QuizAttempt]] = {}
    rows = db.session.scalars(
        select(QuizAttempt)
        .where(QuizAttempt.enrollment_id.in_(enrollment_ids))
        .options(selectinload(QuizAttempt.paper))
        .order_by(QuizAttempt.submitted_at, QuizAttempt.id)
    )
    for attempt in rows:
        found.setdefault(attempt.enrollment_id, []).append(attempt)
    return found


class CERecordsView(AdminPage):
    """Evaluation summaries per course, and the exports a board can ask for."""

    # Bulk reads of learners' records need a fresh password, like every export.
    fresh_views = ("evaluations_csv", "time_log_csv")

    @expose("/")
    def index(self):
        """Show each course's evaluation counts, averages and recent comments."""
        return self.render(
            "admin/campus/ce_evaluations.html",
            summaries=evaluation.summaries(),
            ratings=evaluation.RATINGS,
        )

    @expose("/evaluations.csv")
    def evaluations_csv(self):
        """Download every evaluation as CSV (learners by enrollment id only)."""
        text = evaluation.csv_export()
        # Counted as CSV records: a comment's own line breaks are not evaluations.
        rows = max(0, sum(1 for _row in csv.reader(io.StringIO(text))) - 1)
        record("export", object_type="CourseEvaluation", summary=f"exported {rows} evaluations")
        db.session.commit()
        return csv_attachment(text, "course-evaluations.csv")

    @expose("/members/<int:user_id>/time-log.csv")
    def time_log_csv(self, user_id: int):
        """Download a member's study-time log, lesson by lesson, for every enrollment."""
        user = db.session.get(User, user_id)
        if user is None:
            abort(404)
        rows: list[list] = [
            [
                "course",
                "enrollment_id",
                "lesson",
                "seconds",
                "heartbeats",
                "first_activity_utc",
                "last_activity_utc",
                "course_required_seconds",
                "completed_at_utc",
                "evaluated_at_utc",
            ]
        ]
        for log in time_logs(user):
            for row in log.rows:
                rows.append(
                    [
                        log.course.slug,
                        log.enrollment.id,
                        row.lesson.title,
                        row.seconds,
                        row.beats,
                        row.first_at.isoformat(timespec="seconds"),
                        row.last_at.isoformat(timespec="seconds"),
                        log.required,
                        _iso(log.enrollment.completed_at),
                        _iso(log.enrollment.evaluated_at),
                    ]
                )
        record("export", user, summary=f"exported the study-time log of {user.email}")
        db.session.commit()
        return csv_attachment(csv_text(rows), f"time-log-{user.id}.csv")


def _iso(value) -> str:
    return value.isoformat(timespec="seconds") if value else ""


def add_views(admin: Admin, session) -> None:
    """Install the CE records page."""
    admin.add_view(CERecordsView(name="CE records", endpoint="admin_ce", url="/admin/ce"))

"""What a board can ask for about one enrollment: time on each lesson and the evaluation."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campus.extensions import Model
from campus.learning.models import Enrollment, Lesson
from campus.models.base import utcnow


class SeatTime(Model):
    """Seconds credited on the server to one lesson of one enrollment, from its heartbeats."""

    __tablename__ = "lesson_seat_time"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollments.id", ondelete="CASCADE"))
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"), index=True)
    seconds: Mapped[int] = mapped_column(default=0)
    beats: Mapped[int] = mapped_column(default=0)
    first_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_at: Mapped[datetime] = mapped_column(default=utcnow)

    lesson: Mapped[Lesson] = relationship()

    __table_args__ = (
        UniqueConstraint("enrollment_id", "lesson_id"),
        CheckConstraint("seconds >= 0", name="seconds_not_negative"),
    )


class CourseEvaluation(Model):
    """A learner's evaluation of a course and their attestation, one per enrollment."""

    __tablename__ = "course_evaluations"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(
        ForeignKey("enrollments.id", ondelete="CASCADE"), unique=True
    )
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    # Ratings 1 (strongly disagree / poor) to 5 (strongly agree / excellent).
    objectives_met: Mapped[int]
    relevance: Mapped[int]
    presenter: Mapped[int]
    content_quality: Mapped[int]
    # How long the course took, in the learner's own estimate (minutes).
    minutes_taken: Mapped[int]
    comments: Mapped[str] = mapped_column(Text, default="")
    # The exact statement attested to, kept with the answer in case its wording changes later.
    attestation: Mapped[str] = mapped_column(String(500))
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)

    enrollment: Mapped[Enrollment] = relationship()

    __table_args__ = (
        CheckConstraint(
            "objectives_met BETWEEN 1 AND 5 AND relevance BETWEEN 1 AND 5 "
            "AND presenter BETWEEN 1 AND 5 AND content_quality BETWEEN 1 AND 5",
            name="ratings_range",
        ),
        CheckConstraint("minutes_taken BETWEEN 1 AND 100000", name="minutes_taken_range"),
    )

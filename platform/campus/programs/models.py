"""Certification programs: requirements, exam bank and sittings, practicals and credentials."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask import current_app
from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campus.accounts.models import User
from campus.extensions import Model
from campus.learning.models import Course
from campus.models.base import IDS_KEPT, TimestampMixin, utcnow

# The first part of addresses under /programs/ that are not a program's.
RESERVED_SLUGS = frozenset({"verify"})


class Program(TimestampMixin, Model):
    """A certification program: courses, an exam, an optional practical, validity and renewal."""

    __tablename__ = "programs"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    # Unset: every page says this is a certificate program of the provider, not accredited.
    accrediting_body: Mapped[str | None] = mapped_column(String(200))
    # Profession keys (accounts.models.PROFESSIONS) allowed to enroll; empty means anyone.
    professions: Mapped[list] = mapped_column(JSON, default=list)
    license_required: Mapped[bool] = mapped_column(default=True)
    elective_hours: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("0"))
    validity_months: Mapped[int] = mapped_column(default=24)
    renewal_hours: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("0"))
    # The exam: {"domain": weight} (weights are relative), and its rules.
    exam_domain_weights: Mapped[dict] = mapped_column(JSON, default=dict)
    exam_question_count: Mapped[int] = mapped_column(default=20)
    exam_time_limit_minutes: Mapped[int] = mapped_column(default=60)
    exam_pass_mark: Mapped[int] = mapped_column(default=75)  # percent
    exam_attempts_allowed: Mapped[int] = mapped_column(default=3)
    exam_retake_wait_days: Mapped[int] = mapped_column(default=7)
    # The practical: the techniques to film (one per line) and the rubric (one criterion a line).
    practical_required: Mapped[bool] = mapped_column(default=False)
    practical_techniques: Mapped[str] = mapped_column(Text, default="")
    rubric: Mapped[str] = mapped_column(Text, default="")
    published: Mapped[bool] = mapped_column(default=False, index=True)
    # When an admin or an import last changed what a candidate must do (courses, elective
    # hours, eligibility, practical): whoever that completed earned the credential then.
    requirements_changed_at: Mapped[datetime | None]

    # Edited inside the program's form, so logged with it (campus.audit.snapshot).
    audit_children = ("courses",)

    courses: Mapped[list[ProgramCourse]] = relationship(
        back_populates="program", cascade="all, delete-orphan", order_by="ProgramCourse.position"
    )
    questions: Mapped[list[ExamQuestion]] = relationship(
        back_populates="program", cascade="all, delete-orphan", order_by="ExamQuestion.id"
    )

    __table_args__ = (
        CheckConstraint("validity_months > 0", name="validity_positive"),
        CheckConstraint("exam_pass_mark BETWEEN 1 AND 100", name="pass_mark_percent"),
        CheckConstraint("exam_time_limit_minutes > 0", name="time_limit_positive"),
        IDS_KEPT,
    )

    @property
    def required_courses(self) -> list[Course]:
        return [link.course for link in self.courses if link.kind == "required"]

    @property
    def elective_courses(self) -> list[Course]:
        return [link.course for link in self.courses if link.kind == "elective"]

    @property
    def techniques(self) -> list[str]:
        return [line.strip() for line in self.practical_techniques.splitlines() if line.strip()]

    @property
    def criteria(self) -> list[str]:
        return [line.strip() for line in self.rubric.splitlines() if line.strip()]

    def __str__(self) -> str:
        return self.title


class ProgramCourse(Model):
    """A course of a program: required, or one of the electives that count toward its hours."""

    __tablename__ = "program_courses"

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10), default="required")
    position: Mapped[int] = mapped_column(default=0)

    program: Mapped[Program] = relationship(back_populates="courses")
    course: Mapped[Course] = relationship()

    __table_args__ = (
        UniqueConstraint("program_id", "course_id"),
        CheckConstraint("kind IN ('required', 'elective')", name="kind_known"),
    )


class ExamQuestion(TimestampMixin, Model):
    """A question of a program's exam bank; `choices` is [{"id", "text", "correct"}]."""

    __tablename__ = "program_exam_questions"
    __table_args__ = IDS_KEPT

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(
        ForeignKey("programs.id", ondelete="CASCADE"), index=True
    )
    domain: Mapped[str] = mapped_column(String(80))
    prompt: Mapped[str] = mapped_column(Text)
    explanation: Mapped[str] = mapped_column(Text, default="")
    choices: Mapped[list] = mapped_column(JSON, default=list)

    program: Mapped[Program] = relationship(back_populates="questions")


class ExamSitting(Model):
    """One sitting of a program's exam, frozen at start; the deadline is kept on the server."""

    __tablename__ = "program_exam_sittings"

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    number: Mapped[int]  # 1 for the first sitting; unique, so two starts cannot both win
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    deadline_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]  # None while the sitting is open
    # "submitted" by the candidate, or "expired" when the clock ran out first.
    closed_reason: Mapped[str | None] = mapped_column(String(10))
    layout: Mapped[list] = mapped_column(JSON)
    # {"<question id>": <choice id>} as saved so far; only what arrived before the deadline.
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    pass_mark: Mapped[int]
    score_percent: Mapped[int | None]
    passed: Mapped[bool | None]

    program: Mapped[Program] = relationship()
    user: Mapped[User] = relationship()

    __table_args__ = (
        UniqueConstraint("user_id", "program_id", "number"),
        Index("ix_program_exam_sittings_open", "closed_at", "deadline_at"),
        IDS_KEPT,
    )

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class PracticalSubmission(TimestampMixin, Model):
    """A candidate's video of the listed techniques and the assessor's review of it."""

    __tablename__ = "program_practicals"

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    storage_key: Mapped[str] = mapped_column(String(200))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(40))
    size_bytes: Mapped[int]
    # submitted (waiting for review), passed, or returned (with comments; resubmit allowed).
    status: Mapped[str] = mapped_column(String(10), default="submitted", index=True)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The assessor's name as it was at the review: the verdict is the candidate's record and
    # must name who decided it after the assessor's account (and reviewer_id) is gone.
    reviewer_name: Mapped[str | None] = mapped_column(String(120))
    reviewed_at: Mapped[datetime | None]
    comments: Mapped[str] = mapped_column(Text, default="")
    # {"<criterion>": true/false} as the assessor marked the rubric.
    rubric_marks: Mapped[dict] = mapped_column(JSON, default=dict)
    # When the video left the storage, PRACTICAL_VIDEO_RETENTION_DAYS after the final review;
    # the review (status, marks, comments) stays.
    video_removed_at: Mapped[datetime | None]

    program: Mapped[Program] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    reviewer: Mapped[User | None] = relationship(foreign_keys=[reviewer_id])

    __table_args__ = (
        CheckConstraint("status IN ('submitted', 'passed', 'returned')", name="status_known"),
        Index("ix_program_practicals_user_program", "user_id", "program_id"),
        IDS_KEPT,
    )

    @property
    def status_text(self) -> str:
        """The status in the words the program page uses: "waiting for review" for submitted."""
        return "waiting for review" if self.status == "submitted" else self.status


class Credential(TimestampMixin, Model):
    """A program's credential for one holder and one period, issued once by the worker."""

    __tablename__ = "program_credentials"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"))
    period: Mapped[int] = mapped_column(default=1)
    # pending until the worker has written the PDF and the signed badge; then issued.
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    earned_at: Mapped[datetime]
    valid_from: Mapped[date]
    valid_until: Mapped[date]
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    storage_key: Mapped[str | None] = mapped_column(String(200))
    badge_key: Mapped[str | None] = mapped_column(String(200))
    issued_at: Mapped[datetime | None]
    renewed_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)

    program: Mapped[Program] = relationship()
    user: Mapped[User] = relationship()
    events: Mapped[list[CredentialEvent]] = relationship(
        back_populates="credential", cascade="all, delete-orphan", order_by="CredentialEvent.id"
    )

    __table_args__ = (
        # THE rule: however often the task runs, one credential per holder, program and period.
        UniqueConstraint("user_id", "program_id", "period"),
        CheckConstraint(
            "status IN ('pending', 'issued', 'failed', 'revoked')", name="status_known"
        ),
        IDS_KEPT,
    )

    def status_on(self, day: date) -> str:
        """valid, expired, revoked or pending on a given day."""
        if self.status == "revoked":
            return "revoked"
        if self.status != "issued":
            return "pending"
        return "valid" if day <= self.valid_until else "expired"

    @property
    def renewal_counts_from(self) -> date:
        """The first day whose CE hours count toward the next renewal.

        The day after the credential was earned, so the courses that earned it never also renew
        it. A renewal starts the next period the day after the current one ends, so after an
        early renewal the hours for the one after that count from that first day: the renewal
        counted none after the old period's last day.
        """
        if self.renewed_at is not None:
            return self.valid_from
        return date.fromordinal(self.valid_from.toordinal() + 1)

    @property
    def given_up(self) -> bool:
        """Failed and out of the sweep's tries: not issued until an admin issues it again."""
        limit = current_app.config["CREDENTIAL_SWEEP_MAX_ATTEMPTS"]
        return self.status == "failed" and self.attempts >= limit

    @property
    def queued_again(self) -> bool:
        """Whether an admin issued it again and no worker has tried it since."""
        # Every failure counts a try, and issuing again sets the count back to none.
        return self.status == "failed" and self.attempts == 0


class CredentialEvent(Model):
    """One line of a credential's history: issued, renewed, revoked."""

    __tablename__ = "program_credential_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    credential_id: Mapped[int] = mapped_column(
        ForeignKey("program_credentials.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str] = mapped_column(Text, default="")
    # "admin <email>": an address may be 320 characters (users.email).
    actor: Mapped[str] = mapped_column(String(330), default="system")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    credential: Mapped[Credential] = relationship(back_populates="events")

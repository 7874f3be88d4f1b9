"""CE courses: the catalog (course, approvals, modules, lessons, quiz) and each student's record."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

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

# Approvals have a module of their own; they are imported from here with the rest of the catalog.
from campus.learning.approvals import BoardApproval as BoardApproval
from campus.learning.approvals import in_force as in_force
from campus.learning.approvals import share_a_day as share_a_day
from campus.learning.rendering import render_on_set
from campus.learning.vocabulary import DELIVERY_TYPES, LEVELS, SUBJECTS
from campus.models.base import IDS_KEPT, TimestampMixin, utcnow

COURSE_STATUSES = ("draft", "published")
QUESTION_KINDS = {"single": "Choose one answer", "multiple": "Choose every correct answer"}
ENROLLMENT_STATUSES = ("active", "completed")


class Course(TimestampMixin, Model):
    """A CE course as approved by the boards; only published courses are listed."""

    __tablename__ = "courses"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    # The title exactly as the CE boards approved it: certificates print it verbatim.
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")  # Markdown
    description_html: Mapped[str] = mapped_column(Text, default="")  # sanitized, rendered on save
    objectives: Mapped[str] = mapped_column(Text, default="")  # one learning objective per line
    presenters: Mapped[str] = mapped_column(Text, default="")  # one "Name, credentials" per line
    presenter_bio: Mapped[str] = mapped_column(Text, default="")
    ce_hours: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    delivery_type: Mapped[str] = mapped_column(String(30), default="home_study")
    level: Mapped[str] = mapped_column(String(20), default="introductory")
    topic: Mapped[str] = mapped_column(String(80), index=True)
    # Keys of SUBJECTS the course covers, which renewal rules may require (e.g. "ethics").
    subjects: Mapped[list] = mapped_column(JSON, default=list)
    cover_image_url: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    published_at: Mapped[datetime | None]

    # Edited inside the course's form, so logged with it (campus.audit.snapshot).
    audit_children = ("approvals", "audience")

    approvals: Mapped[list[BoardApproval]] = relationship(
        back_populates="course", cascade="all, delete-orphan", order_by="BoardApproval.id"
    )
    audience: Mapped[list[CourseProfession]] = relationship(
        back_populates="course",
        cascade="all, delete-orphan",
        order_by="CourseProfession.profession",
    )
    modules: Mapped[list[Module]] = relationship(
        back_populates="course", cascade="all, delete-orphan", order_by="Module.position"
    )
    lessons: Mapped[list[Lesson]] = relationship(
        back_populates="course",
        cascade="all, delete-orphan",
        order_by=lambda: (Lesson.module_position, Lesson.position),
    )
    quiz: Mapped[Quiz | None] = relationship(
        back_populates="course", cascade="all, delete-orphan", uselist=False
    )

    __table_args__ = (
        CheckConstraint("status IN ('draft', 'published')", name="status"),
        CheckConstraint("ce_hours > 0", name="ce_hours_positive"),
        IDS_KEPT,
    )

    @property
    def is_published(self) -> bool:
        return self.status == "published"

    @property
    def objective_list(self) -> list[str]:
        return [line.strip() for line in self.objectives.splitlines() if line.strip()]

    @property
    def presenter_list(self) -> list[str]:
        return [line.strip() for line in self.presenters.splitlines() if line.strip()]

    @property
    def subject_labels(self) -> list[str]:
        return [SUBJECTS.get(key, key) for key in self.subjects or []]

    @property
    def delivery_label(self) -> str:
        return DELIVERY_TYPES.get(self.delivery_type, self.delivery_type)

    @property
    def level_label(self) -> str:
        return LEVELS.get(self.level, self.level)

    @property
    def professions(self) -> list[str]:
        return [row.profession for row in self.audience]

    def __repr__(self) -> str:
        return f"<Course {self.slug}>"

    def __str__(self) -> str:
        return self.title


class CourseProfession(Model):
    """One profession a course is written for (the catalog filters on these)."""

    __tablename__ = "course_professions"

    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True
    )
    profession: Mapped[str] = mapped_column(String(40), primary_key=True, index=True)

    course: Mapped[Course] = relationship(back_populates="audience")


class Module(TimestampMixin, Model):
    """A numbered part of a course holding lessons in order."""

    __tablename__ = "course_modules"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")

    course: Mapped[Course] = relationship(back_populates="modules")
    lessons: Mapped[list[Lesson]] = relationship(
        back_populates="module", order_by="Lesson.position", viewonly=True
    )

    __table_args__ = (UniqueConstraint("course_id", "position"), IDS_KEPT)


class Lesson(TimestampMixin, Model):
    """A lesson: Markdown rendered to sanitized HTML on save, a video with its transcript, files."""

    __tablename__ = "lessons"

    id: Mapped[int] = mapped_column(primary_key=True)
    # course_id is kept beside module_id so "is this lesson part of that course" is one column.
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    module_id: Mapped[int] = mapped_column(
        ForeignKey("course_modules.id", ondelete="CASCADE"), index=True
    )
    # Copy of the module's position so the course order is one ORDER BY without a join.
    module_position: Mapped[int]
    position: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    body_markdown: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    # A normalized embed URL on an allowed host (youtube-nocookie.com, player.vimeo.com) or None.
    video_embed_url: Mapped[str | None] = mapped_column(String(500))
    # What the video shows and says, for those who cannot watch or hear it (WCAG 1.2.x); a
    # course cannot be published while a lesson with a video has none.
    transcript: Mapped[str] = mapped_column(Text, default="")
    transcript_html: Mapped[str] = mapped_column(Text, default="")
    estimated_minutes: Mapped[int] = mapped_column(default=10)

    course: Mapped[Course] = relationship(back_populates="lessons")
    module: Mapped[Module] = relationship()
    resources: Mapped[list[LessonResource]] = relationship(
        back_populates="lesson", cascade="all, delete-orphan", order_by="LessonResource.id"
    )

    __table_args__ = (
        UniqueConstraint("module_id", "position"),
        CheckConstraint("estimated_minutes > 0", name="estimated_minutes_positive"),
        IDS_KEPT,
    )


class LessonResource(TimestampMixin, Model):
    """A downloadable file attached to a lesson, served only to those who may open the lesson."""

    __tablename__ = "lesson_resources"

    id: Mapped[int] = mapped_column(primary_key=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100), default="application/octet-stream")
    # Its key in the file storage (campus.storage): learning-resources/<lesson id>/<...>.
    storage_key: Mapped[str] = mapped_column(String(300), unique=True)
    size_bytes: Mapped[int] = mapped_column(default=0)

    lesson: Mapped[Lesson] = relationship(back_populates="resources")


class Quiz(TimestampMixin, Model):
    """The final quiz of a course: a pass mark in percent and a daily attempt limit."""

    __tablename__ = "quizzes"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), unique=True
    )
    title: Mapped[str] = mapped_column(String(200), default="Final quiz")
    instructions: Mapped[str] = mapped_column(Text, default="")
    pass_mark_percent: Mapped[int] = mapped_column(default=70)
    attempts_per_day: Mapped[int] = mapped_column(default=3)
    # How many questions each attempt draws from the bank; None means every question.
    questions_per_attempt: Mapped[int | None]

    course: Mapped[Course] = relationship(back_populates="quiz")
    questions: Mapped[list[Question]] = relationship(
        back_populates="quiz", cascade="all, delete-orphan", order_by="Question.position"
    )

    __table_args__ = (
        CheckConstraint("pass_mark_percent BETWEEN 1 AND 100", name="pass_mark_range"),
        CheckConstraint("attempts_per_day >= 1", name="attempts_per_day_positive"),
        CheckConstraint(
            "questions_per_attempt IS NULL OR questions_per_attempt >= 1",
            name="questions_per_attempt_positive",
        ),
        IDS_KEPT,
    )

    def drawn_count(self) -> int:
        """Tell how many questions an attempt holds: the author's N, at most the whole bank."""
        bank = len(self.questions)
        return min(self.questions_per_attempt or bank, bank)


class Question(TimestampMixin, Model):
    """A question in a quiz's bank: single or multiple answers, explained after a pass."""

    __tablename__ = "quiz_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    kind: Mapped[str] = mapped_column(String(20), default="single")
    prompt: Mapped[str] = mapped_column(Text)
    explanation: Mapped[str] = mapped_column(Text, default="")
    # The learning objective (or module) it tests: draws spread over these, and a failed
    # attempt names the ones to revisit instead of the right answers.
    objective: Mapped[str] = mapped_column(String(200), default="")

    # Edited inside the question's form, so logged with it: which answer is right is the key
    # every attempt is marked by (campus.audit.snapshot).
    audit_children = ("choices",)

    quiz: Mapped[Quiz] = relationship(back_populates="questions")
    choices: Mapped[list[Choice]] = relationship(
        back_populates="question", cascade="all, delete-orphan", order_by="Choice.position"
    )

    __table_args__ = (
        UniqueConstraint("quiz_id", "position"),
        CheckConstraint("kind IN ('single', 'multiple')", name="kind"),
        IDS_KEPT,
    )


class Choice(Model):
    """One answer option of a question; `is_correct` never leaves the server before a pass."""

    __tablename__ = "quiz_choices"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(
        ForeignKey("quiz_questions.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    text: Mapped[str] = mapped_column(Text)
    is_correct: Mapped[bool] = mapped_column(default=False)

    question: Mapped[Question] = relationship(back_populates="choices")

    __table_args__ = (UniqueConstraint("question_id", "position"),)


class Enrollment(TimestampMixin, Model):
    """A student's place in a course; kept (with progress) when their membership lapses."""

    __tablename__ = "enrollments"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    enrolled_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_lesson_id: Mapped[int | None] = mapped_column(
        ForeignKey("lessons.id", ondelete="SET NULL")
    )
    last_activity_at: Mapped[datetime | None]
    # Set once, when every lesson is complete and the quiz is passed.
    completed_at: Mapped[datetime | None]
    # CE hours of the course at completion, frozen so later catalog edits do not rewrite history.
    ce_hours_earned: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    # The course as completed (title, delivery, approvals in force, instructors): what its
    # certificate prints, though the evaluation that lets it issue may come after edits.
    completed_course: Mapped[dict | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default="active")
    # The last accepted heartbeat of any lesson page: one clock per enrollment, so two tabs
    # or a burst of forged beats can never earn more than the time that really passed.
    seat_beat_at: Mapped[datetime | None]
    # Set once the evaluation is submitted and the learner attests; the certificate waits for it.
    evaluated_at: Mapped[datetime | None]
    # The license the learner earns this course for (chosen before the certificate; see
    # campus.licenses.choice); the certificate freezes its number and jurisdiction.
    license_id: Mapped[int | None] = mapped_column(ForeignKey("licenses.id", ondelete="SET NULL"))

    user: Mapped[User] = relationship()
    course: Mapped[Course] = relationship()
    last_lesson: Mapped[Lesson | None] = relationship()
    progress: Mapped[list[LessonProgress]] = relationship(
        back_populates="enrollment", cascade="all, delete-orphan"
    )

    __table_args__ = (
        UniqueConstraint("user_id", "course_id"),
        CheckConstraint("status IN ('active', 'completed')", name="status"),
        Index("ix_enrollments_user_completed", "user_id", "completed_at"),
        IDS_KEPT,
    )

    @property
    def is_complete(self) -> bool:
        return self.completed_at is not None

    @property
    def course_title(self) -> str:
        """The title the course was completed (and its certificate printed) under, else its own."""
        title = (self.completed_course or {}).get("course_title")
        return str(title) if title else self.course.title


class LessonProgress(Model):
    """A lesson completed within an enrollment; the unique pair makes completion idempotent."""

    __tablename__ = "lesson_progress"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollments.id", ondelete="CASCADE"))
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"), index=True)
    completed_at: Mapped[datetime] = mapped_column(default=utcnow)

    enrollment: Mapped[Enrollment] = relationship(back_populates="progress")

    __table_args__ = (UniqueConstraint("enrollment_id", "lesson_id"),)


class QuizPaper(Model):
    """An attempt frozen when it starts: which questions, in which order, with which answers.

    `layout` is a copy of each drawn question as the student saw it (prompt, kind, objective,
    explanation, and choices in their shuffled order with their key), so the attempt is scored,
    reviewed and replayed from it even if the bank is edited afterwards.
    """

    __tablename__ = "quiz_papers"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(
        ForeignKey("enrollments.id", ondelete="CASCADE"), index=True
    )
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id", ondelete="CASCADE"), index=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None]  # None while the attempt is open
    layout: Mapped[list] = mapped_column(JSON)
    pass_mark_percent: Mapped[int | None]  # as shown at the start (None: papers from before)

    @property
    def question_ids(self) -> list[int]:
        return [item["id"] for item in self.layout]


class QuizAttempt(Model):
    """One submitted quiz attempt, scored on the server and kept whatever the result."""

    __tablename__ = "quiz_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollments.id", ondelete="CASCADE"))
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id", ondelete="CASCADE"), index=True)
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    # {"<question id>": [choice ids]} exactly as submitted (validated before it is stored).
    answers: Mapped[dict] = mapped_column(JSON)
    correct_count: Mapped[int]
    question_count: Mapped[int]
    score_percent: Mapped[int]
    pass_mark_percent: Mapped[int]  # the pass mark the attempt was scored at (its paper's)
    passed: Mapped[bool]
    # The frozen paper this attempt answered (None only for attempts made before papers existed).
    paper_id: Mapped[int | None] = mapped_column(
        ForeignKey("quiz_papers.id", ondelete="SET NULL"), unique=True
    )

    enrollment: Mapped[Enrollment] = relationship()
    paper: Mapped[QuizPaper | None] = relationship()

    __table_args__ = (
        Index("ix_quiz_attempts_enrollment_submitted", "enrollment_id", "submitted_at"),
    )


# --- rendering on save -------------------------------------------------------------------------
# The listeners live with the models so that no write path (admin, importer, CLI, a test) can
# store Markdown without its sanitized HTML, whichever modules it happened to import.


render_on_set(Lesson.body_markdown, "body_html")
render_on_set(Lesson.transcript, "transcript_html")
render_on_set(Course.description, "description_html")

"""The write paths of CE courses (enroll, complete a lesson, submit the quiz) and their reads.

Services flush and never commit: the view or task around them commits once.
"""

from __future__ import annotations

import math
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import cast

from flask import current_app
from sqlalchemy import CursorResult, Insert, event, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import selectinload

from campus.accounts.models import PROFESSIONS, User
from campus.extensions import db
from campus.learning import snapshots
from campus.learning.access import (
    EnrollmentFacts,
    LearningError,
    check_can_enroll,
    check_can_study,
    require_signed_in,
)
from campus.learning.models import (
    Choice,
    Course,
    CourseProfession,
    Enrollment,
    Lesson,
    LessonProgress,
    LessonResource,
    Module,
    Question,
    Quiz,
    QuizAttempt,
)
from campus.learning.rendering import render_markdown, video_embed_url
from campus.learning.signals import enrollment_completed
from campus.models.base import utcnow

# The scoring rule, shown on the quiz page and in the API: say it once, use it everywhere.
PARTIAL_CREDIT_RULE = (
    "Each question is worth one point. A multiple-answer question earns its point only when "
    "you select exactly the correct answers, no more and no fewer; there is no partial credit."
)
ATTEMPT_WINDOW = timedelta(hours=24)
CATALOG_PAGE_SIZE = 24
HOURS_FILTERS = {
    "short": ("Up to 2 CE hours", None, Decimal("2")),
    "medium": ("2 to 4 CE hours", Decimal("2"), Decimal("4")),
    "long": ("More than 4 CE hours", Decimal("4"), None),
}


# --- rendering on save -------------------------------------------------------------------------


@event.listens_for(Lesson.body_markdown, "set")
def _render_lesson_body(target: Lesson, value: str, _old, _initiator) -> None:
    # Render once when the source changes, never per request.
    target.body_html = render_markdown(value)


@event.listens_for(Course.description, "set")
def _render_course_description(target: Course, value: str, _old, _initiator) -> None:
    target.description_html = render_markdown(value)


# --- building courses (demo seed, admin tools, tests) ------------------------------------------


def create_course(*, professions: Iterable[str] = (), **fields) -> Course:
    """Create a draft course; professions name who it is written for."""
    course = Course(**fields)
    for profession in professions:
        if profession not in PROFESSIONS:
            raise ValueError(f"unknown profession {profession!r}")
        course.audience.append(CourseProfession(profession=profession))
    db.session.add(course)
    db.session.flush()
    return course


def add_module(course: Course, title: str, summary: str = "") -> Module:
    """Append a module to a course."""
    position = len(course.modules) + 1
    module = Module(course=course, position=position, title=title, summary=summary)
    db.session.add(module)
    db.session.flush()
    return module


def add_lesson(
    module: Module,
    title: str,
    body_markdown: str,
    *,
    estimated_minutes: int = 10,
    video_url: str | None = None,
) -> Lesson:
    """Append a lesson to a module; the video link must be on an allowed host."""
    position = (
        db.session.scalar(
            select(func.coalesce(func.max(Lesson.position), 0)).where(Lesson.module_id == module.id)
        )
        or 0
    ) + 1
    lesson = Lesson(
        course_id=module.course_id,
        module=module,
        module_position=module.position,
        position=position,
        title=title,
        body_markdown=body_markdown,
        video_embed_url=video_embed_url(video_url),
        estimated_minutes=estimated_minutes,
    )
    db.session.add(lesson)
    db.session.flush()
    return lesson


_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def resources_folder() -> Path:
    """The folder holding lesson resource files."""
    return Path(current_app.config["INSTANCE_PATH"]) / "learning-resources"


def add_resource(
    lesson: Lesson, title: str, filename: str, data: bytes, content_type: str
) -> LessonResource:
    """Store a downloadable file for a lesson."""
    safe = _SAFE_NAME.sub("-", filename).strip("-.") or "file"
    key = f"{lesson.id}/{secrets.token_hex(8)}-{safe}"
    path = resources_folder() / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    resource = LessonResource(
        lesson=lesson,
        title=title,
        filename=safe,
        content_type=content_type,
        storage_key=key,
        size_bytes=len(data),
    )
    db.session.add(resource)
    db.session.flush()
    return resource


def resource_path(resource: LessonResource) -> Path:
    """Where a resource's file lives."""
    return resources_folder() / resource.storage_key


def set_quiz(
    course: Course,
    questions: list[dict],
    *,
    pass_mark_percent: int = 70,
    attempts_per_day: int = 3,
    title: str = "Final quiz",
    instructions: str = "",
) -> Quiz:
    """Give a course its final quiz. Each question: prompt, choices [(text, correct)], explanation.

    A question with more than one correct choice is a multiple-answer question.
    """
    quiz = Quiz(
        course=course,
        title=title,
        instructions=instructions,
        pass_mark_percent=pass_mark_percent,
        attempts_per_day=attempts_per_day,
    )
    for number, spec in enumerate(questions, start=1):
        correct = sum(1 for _text, ok in spec["choices"] if ok)
        if correct < 1:
            raise ValueError(f"question {number} has no correct choice")
        question = Question(
            position=number,
            kind="multiple" if correct > 1 or spec.get("multiple") else "single",
            prompt=spec["prompt"],
            explanation=spec.get("explanation", ""),
        )
        for position, (text, ok) in enumerate(spec["choices"], start=1):
            question.choices.append(Choice(position=position, text=text, is_correct=ok))
        quiz.questions.append(question)
    db.session.add(quiz)
    db.session.flush()
    return quiz


def publish(course: Course) -> None:
    """Publish a course so it is listed and open to enrollment."""
    course.status = "published"
    course.published_at = course.published_at or utcnow()
    db.session.flush()


# --- catalog -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CatalogFilters:
    """The catalog's search and filters, already validated."""

    q: str = ""
    profession: str = ""
    topic: str = ""
    hours: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> CatalogFilters:
        """Read filters from query arguments, dropping values that are not offered."""
        q = " ".join((args.get("q") or "").split())[:100]
        profession = args.get("profession") or ""
        hours = args.get("hours") or ""
        return cls(
            q=q,
            profession=profession if profession in PROFESSIONS else "",
            topic=(args.get("topic") or "").strip()[:80],
            hours=hours if hours in HOURS_FILTERS else "",
        )

    @property
    def active(self) -> bool:
        return bool(self.q or self.profession or self.topic or self.hours)


def _catalog_query(filters: CatalogFilters, include_drafts: bool):
    stmt = select(Course)
    if not include_drafts:
        stmt = stmt.where(Course.status == "published")
    if filters.q:
        needle = filters.q.lower()
        stmt = stmt.where(
            or_(
                func.lower(Course.title).contains(needle, autoescape=True),
                func.lower(Course.summary).contains(needle, autoescape=True),
                func.lower(Course.topic).contains(needle, autoescape=True),
                func.lower(Course.presenters).contains(needle, autoescape=True),
            )
        )
    if filters.profession:
        stmt = stmt.where(
            Course.id.in_(
                select(CourseProfession.course_id).where(
                    CourseProfession.profession == filters.profession
                )
            )
        )
    if filters.topic:
        stmt = stmt.where(Course.topic == filters.topic)
    if filters.hours:
        _label, low, high = HOURS_FILTERS[filters.hours]
        if low is not None:
            stmt = stmt.where(Course.ce_hours > low)
        if high is not None:
            stmt = stmt.where(Course.ce_hours <= high)
    return stmt


def catalog(
    filters: CatalogFilters, page: int = 1, include_drafts: bool = False, stamp: tuple | None = None
) -> tuple[list[snapshots.CourseCard], int]:
    """Return one page of matching course cards and the match count (cached by catalog stamp)."""
    page = max(page, 1)

    def build() -> tuple[list[snapshots.CourseCard], int]:
        stmt = _catalog_query(filters, include_drafts)
        total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        courses = db.session.scalars(
            stmt.options(selectinload(Course.approvals), selectinload(Course.audience))
            .order_by(Course.published_at.desc().nulls_last(), Course.title, Course.id)
            .limit(CATALOG_PAGE_SIZE)
            .offset((page - 1) * CATALOG_PAGE_SIZE)
        ).all()
        return [snapshots.card(c) for c in courses], total

    stamp = stamp or snapshots.catalog_stamp(include_drafts)
    return snapshots.cached_catalog(("page", filters, page, include_drafts), stamp, build)


def catalog_topics(stamp: tuple | None = None) -> list[str]:
    """Topics of published courses, for the catalog filter (cached by catalog stamp)."""

    def build() -> list[str]:
        return list(
            db.session.scalars(
                select(Course.topic)
                .where(Course.status == "published")
                .distinct()
                .order_by(Course.topic)
            )
        )

    return snapshots.cached_catalog(("topics",), stamp or snapshots.catalog_stamp(False), build)


def enrollments_by_course(user: User | None, course_ids: list[int]) -> dict[int, Enrollment]:
    """The user's enrollments among some courses, by course id (one query)."""
    if user is None or not user.is_authenticated or not course_ids:
        return {}
    rows = db.session.scalars(
        select(Enrollment).where(
            Enrollment.user_id == user.id, Enrollment.course_id.in_(course_ids)
        )
    )
    return {e.course_id: e for e in rows}


# --- course outline and progress ---------------------------------------------------------------


@dataclass(frozen=True)
class OutlineEntry:
    """One lesson row of a course outline."""

    lesson: snapshots.LessonView
    module: snapshots.ModuleView | None  # set on the first lesson of each module
    done: bool
    current: bool


@dataclass
class Outline:
    """A course's lessons in order and which of them an enrollment has completed."""

    course: Course | snapshots.CourseCard
    lessons: list[snapshots.LessonView]
    completed_ids: set[int] = field(default_factory=set)

    @property
    def total(self) -> int:
        return len(self.lessons)

    @property
    def done(self) -> int:
        return len(self.completed_ids)

    @property
    def percent(self) -> int:
        return 100 if not self.lessons else math.floor(100 * self.done / self.total)

    @property
    def all_done(self) -> bool:
        return self.done >= self.total

    @property
    def minutes(self) -> int:
        return sum(lesson.estimated_minutes for lesson in self.lessons)

    def entries(self, current_id: int | None = None) -> list[OutlineEntry]:
        """The outline's rows: each lesson, whether it is done or current, and module starts."""
        rows, module_id = [], None
        for lesson in self.lessons:
            starts = lesson.module_id != module_id
            module_id = lesson.module_id
            rows.append(
                OutlineEntry(
                    lesson,
                    lesson.module if starts else None,
                    lesson.id in self.completed_ids,
                    lesson.id == current_id,
                )
            )
        return rows

    def neighbours(
        self, lesson: Lesson | snapshots.LessonView
    ) -> tuple[snapshots.LessonView | None, snapshots.LessonView | None]:
        """The lessons before and after one lesson."""
        index = next(i for i, item in enumerate(self.lessons) if item.id == lesson.id)
        before = self.lessons[index - 1] if index > 0 else None
        after = self.lessons[index + 1] if index + 1 < len(self.lessons) else None
        return before, after

    def number_of(self, lesson: Lesson | snapshots.LessonView) -> int:
        return next(i for i, item in enumerate(self.lessons, start=1) if item.id == lesson.id)


def completed_lesson_ids(enrollment: Enrollment | EnrollmentFacts | None) -> set[int]:
    """Ids of the lessons an enrollment has completed."""
    if enrollment is None:
        return set()
    return set(
        db.session.scalars(
            select(LessonProgress.lesson_id).where(LessonProgress.enrollment_id == enrollment.id)
        )
    )


def outline(
    course: Course | snapshots.CourseCard,
    enrollment: Enrollment | EnrollmentFacts | None,
    completed_ids: Iterable[int] | None = None,
) -> Outline:
    """A course's lessons in order (from the content snapshot) with the enrollment's progress.

    `completed_ids`, when the caller has read them already, saves the query.
    """
    lessons = snapshots.course_lessons(course)
    ids = {lesson.id for lesson in lessons}
    done = completed_lesson_ids(enrollment) if completed_ids is None else set(completed_ids)
    return Outline(course, lessons, done & ids)


def resume_lesson(
    enrollment: Enrollment | EnrollmentFacts, plan: Outline
) -> snapshots.LessonView | None:
    """Pick where a student continues: the last lesson opened unless done, then the next undone.

    None means every lesson is complete (the quiz is next).
    """
    undone = [lesson for lesson in plan.lessons if lesson.id not in plan.completed_ids]
    if not undone:
        return None
    last = next((x for x in plan.lessons if x.id == enrollment.last_lesson_id), None)
    if last is None:
        return undone[0]
    if last.id not in plan.completed_ids:
        return last
    after = plan.lessons[plan.lessons.index(last) + 1 :]
    return next((x for x in after if x.id not in plan.completed_ids), undone[0])


def lesson_in_course(course: Course | snapshots.CourseCard, lesson_id: int) -> snapshots.LessonView:
    """Find a lesson of this course, or raise 404 (a lesson of another course is not here)."""
    for lesson in snapshots.course_lessons(course):
        if lesson.id == lesson_id:
            return lesson
    raise LearningError(404, "not_found", "That lesson is not part of this course.")


# --- write paths -------------------------------------------------------------------------------


def _insert_if_absent(model, values: dict, keys: list[str]) -> bool:
    """Insert a row unless one with the same unique keys exists; tell whether it inserted.

    ON CONFLICT DO NOTHING makes concurrent duplicates (two tabs, a retried request) a no-op
    in the database itself rather than a race between a SELECT and an INSERT.
    """
    dialect = db.session.get_bind().dialect.name
    stmt: Insert
    if dialect == "postgresql":
        stmt = pg_insert(model).values(**values).on_conflict_do_nothing(index_elements=keys)
    elif dialect == "sqlite":
        stmt = sqlite_insert(model).values(**values).on_conflict_do_nothing(index_elements=keys)
    else:  # pragma: no cover - other databases fall back to a savepoint
        try:
            with db.session.begin_nested():
                db.session.execute(insert(model).values(**values))
            return True
        except Exception:
            return False
    # RETURNING tells reliably (rowcount is not, for ORM-enabled inserts on every driver).
    return db.session.execute(stmt.returning(model.id)).first() is not None


def enroll(user: User, course: Course) -> Enrollment:
    """Enroll a user with paid access in a published course; enrolling twice is a conflict."""
    check_can_enroll(user, course)
    now = utcnow()
    inserted = _insert_if_absent(
        Enrollment,
        {
            "user_id": user.id,
            "course_id": course.id,
            "enrolled_at": now,
            "status": "active",
            "created_at": now,
            "updated_at": now,
        },
        ["user_id", "course_id"],
    )
    if not inserted:
        raise LearningError(409, "already_enrolled", "You are already enrolled in this course.")
    enrollment = db.session.scalar(
        select(Enrollment).where(Enrollment.user_id == user.id, Enrollment.course_id == course.id)
    )
    assert enrollment is not None
    return enrollment


def note_lesson_opened(
    enrollment: Enrollment | EnrollmentFacts, lesson: Lesson | snapshots.LessonView
) -> bool:
    """Remember the lesson a student opened so they resume there; tell whether it changed."""
    if enrollment.last_lesson_id == lesson.id:
        return False
    db.session.execute(
        update(Enrollment)
        .where(Enrollment.id == enrollment.id)
        .values(last_lesson_id=lesson.id, last_activity_at=utcnow())
    )
    return True


@dataclass(frozen=True)
class LessonCompletion:
    """The outcome of marking a lesson complete."""

    enrollment: Enrollment
    lesson: Lesson
    newly_completed: bool  # False when it was already complete (another tab, a retry)
    course_completed: bool


def complete_lesson(user: User, lesson_id: int, course: Course | None = None) -> LessonCompletion:
    """Mark a lesson complete for the user's enrollment; doing it again changes nothing."""
    require_signed_in(user)
    lesson = db.session.get(Lesson, lesson_id)
    if lesson is None or (course is not None and lesson.course_id != course.id):
        raise LearningError(404, "not_found", "That lesson is not part of this course.")
    course = course or lesson.course
    if not course.is_published:
        raise LearningError(404, "not_found", "That lesson is not part of this course.")
    study = check_can_study(user, course)
    if study.enrollment is None:
        raise LearningError(403, "not_enrolled", "Enroll in this course to record your progress.")
    enrollment = study.enrollment
    # Loaded by check_can_study, not the lesson page's read-only facts: it is written below.
    assert isinstance(enrollment, Enrollment)
    now = utcnow()
    inserted = _insert_if_absent(
        LessonProgress,
        {"enrollment_id": enrollment.id, "lesson_id": lesson.id, "completed_at": now},
        ["enrollment_id", "lesson_id"],
    )
    enrollment.last_lesson_id = lesson.id
    enrollment.last_activity_at = now
    db.session.flush()
    completed = maybe_complete(enrollment) if inserted else False
    return LessonCompletion(enrollment, lesson, inserted, completed)


def maybe_complete(enrollment: Enrollment) -> bool:
    """Complete the enrollment if every lesson is done and the quiz passed; signal it once."""
    if enrollment.completed_at is not None:
        return False
    course = enrollment.course
    total = db.session.scalars(
        select(func.count(Lesson.id)).where(Lesson.course_id == course.id)
    ).one()
    done = db.session.scalars(
        select(func.count(LessonProgress.id))
        .join(Lesson, Lesson.id == LessonProgress.lesson_id)
        .where(LessonProgress.enrollment_id == enrollment.id, Lesson.course_id == course.id)
    ).one()
    if done < total:
        return False
    passed = db.session.scalar(
        select(QuizAttempt.id)
        .where(QuizAttempt.enrollment_id == enrollment.id, QuizAttempt.passed.is_(True))
        .limit(1)
    )
    if passed is None:
        return False
    now = utcnow()
    # Conditional update: two racing requests cannot both complete (and signal) the enrollment.
    result = cast(
        CursorResult,
        db.session.execute(
            update(Enrollment)
            .where(Enrollment.id == enrollment.id, Enrollment.completed_at.is_(None))
            .values(
                completed_at=now,
                status="completed",
                ce_hours_earned=course.ce_hours,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        ),
    )
    if result.rowcount != 1:
        db.session.refresh(enrollment)
        return False
    db.session.refresh(enrollment)
    enrollment_completed.send(None, enrollment_id=enrollment.id)
    return True


# --- the quiz ----------------------------------------------------------------------------------


def quiz_of(course: Course) -> Quiz:
    """Load a course's quiz with questions and choices, or raise 404."""
    quiz = db.session.scalar(
        select(Quiz)
        .where(Quiz.course_id == course.id)
        .options(selectinload(Quiz.questions).selectinload(Question.choices))
    )
    if quiz is None or not quiz.questions:
        raise LearningError(404, "no_quiz", "This course has no quiz yet.")
    return quiz


@dataclass(frozen=True)
class AttemptAllowance:
    """How many attempts remain in the current 24-hour window and when the next one opens."""

    limit: int
    used: int
    next_at: datetime | None

    @property
    def remaining(self) -> int:
        return max(self.limit - self.used, 0)


def attempt_allowance(
    enrollment: Enrollment | EnrollmentFacts, quiz: Quiz, now: datetime | None = None
):
    """Count the attempts made in the last 24 hours against the quiz's daily limit."""
    now = now or utcnow()
    times = db.session.scalars(
        select(QuizAttempt.submitted_at)
        .where(
            QuizAttempt.enrollment_id == enrollment.id,
            QuizAttempt.quiz_id == quiz.id,
            QuizAttempt.submitted_at > now - ATTEMPT_WINDOW,
        )
        .order_by(QuizAttempt.submitted_at)
    ).all()
    next_at = None
    if len(times) >= quiz.attempts_per_day:
        next_at = times[len(times) - quiz.attempts_per_day] + ATTEMPT_WINDOW
    return AttemptAllowance(quiz.attempts_per_day, len(times), next_at)


def validate_answers(quiz: Quiz, raw: Mapping[int, Iterable[int]]) -> dict[int, frozenset[int]]:
    """Check a submission covers every question of this quiz with valid choices, nothing else.

    Raises 422 naming each problem: a question from elsewhere, a missing answer, a choice
    that does not belong to its question, or more than one choice on a single-answer question.
    """
    by_id = {q.id: q for q in quiz.questions}
    problems: list[str] = []
    answers: dict[int, frozenset[int]] = {}
    for question_id, choice_ids in raw.items():
        question = by_id.get(question_id)
        if question is None:
            problems.append(f"Question {question_id} is not part of this quiz.")
            continue
        chosen = list(choice_ids)
        valid = {c.id for c in question.choices}
        if len(set(chosen)) != len(chosen):
            problems.append(f"Question {question.position}: a choice was sent twice.")
        if any(c not in valid for c in chosen):
            problems.append(f"Question {question.position}: a choice does not belong to it.")
        if not chosen:
            problems.append(f"Question {question.position} has no answer.")
        elif question.kind == "single" and len(set(chosen)) > 1:
            problems.append(f"Question {question.position} takes exactly one answer.")
        answers[question_id] = frozenset(chosen)
    for question in quiz.questions:
        if question.id not in raw:
            problems.append(f"Question {question.position} has no answer.")
    if problems:
        raise LearningError(
            422, "invalid_answers", "Answer every question of this quiz.", problems=problems
        )
    return answers


@dataclass(frozen=True)
class Score:
    """A scored submission."""

    correct: int
    total: int
    pass_mark_percent: int
    question_correct: dict[int, bool]

    @property
    def percent(self) -> int:
        return math.floor(100 * self.correct / self.total) if self.total else 0

    @property
    def passed(self) -> bool:
        # Compare exact fractions, not the rounded-down percent shown to the student.
        return self.correct * 100 >= self.pass_mark_percent * self.total


def score(quiz: Quiz, answers: Mapping[int, frozenset[int]]) -> Score:
    """Score validated answers by PARTIAL_CREDIT_RULE: a point only for exactly the right set."""
    verdicts = {}
    for question in quiz.questions:
        key = frozenset(c.id for c in question.choices if c.is_correct)
        verdicts[question.id] = answers.get(question.id) == key
    return Score(sum(verdicts.values()), len(quiz.questions), quiz.pass_mark_percent, verdicts)


def passed_attempt(enrollment: Enrollment | EnrollmentFacts | None) -> QuizAttempt | None:
    """The enrollment's first passing attempt, if any."""
    if enrollment is None:
        return None
    return db.session.scalar(
        select(QuizAttempt)
        .where(QuizAttempt.enrollment_id == enrollment.id, QuizAttempt.passed.is_(True))
        .order_by(QuizAttempt.submitted_at)
        .limit(1)
    )


def _lock(enrollment: Enrollment | EnrollmentFacts) -> Enrollment:
    # Serialize a student's concurrent submissions so the daily limit cannot be raced past.
    return db.session.scalars(
        select(Enrollment)
        .where(Enrollment.id == enrollment.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


@dataclass(frozen=True)
class AttemptResult:
    """A recorded attempt with its score and whether it completed the course."""

    attempt: QuizAttempt
    score: Score
    course_completed: bool


def submit_attempt(
    user: User,
    course: Course,
    raw_answers: Mapping[int, Iterable[int]],
    now: datetime | None = None,
) -> AttemptResult:
    """Validate, limit, score and record a quiz attempt; a pass may complete the enrollment."""
    require_signed_in(user)
    if not course.is_published:
        raise LearningError(404, "not_found", "There is no course at that address.")
    study = check_can_study(user, course)
    if study.enrollment is None:
        raise LearningError(403, "not_enrolled", "Enroll in this course to take its quiz.")
    enrollment = _lock(study.enrollment)
    quiz = quiz_of(course)
    if passed_attempt(enrollment) is not None:
        raise LearningError(409, "already_passed", "You have already passed this quiz.")
    plan = outline(course, enrollment)
    if not plan.all_done:
        raise LearningError(
            409,
            "lessons_incomplete",
            f"Complete every lesson before the quiz ({plan.done} of {plan.total} done).",
        )
    answers = validate_answers(quiz, raw_answers)
    now = now or utcnow()
    allowance = attempt_allowance(enrollment, quiz, now)
    if allowance.remaining == 0:
        raise LearningError(
            429,
            "attempt_limit",
            f"You have used all {quiz.attempts_per_day} attempts for the last 24 hours. "
            f"You can try again after {allowance.next_at:%B %-d, %H:%M} UTC.",
            retry_at=allowance.next_at.isoformat(),
        )
    result = score(quiz, answers)
    attempt = QuizAttempt(
        enrollment_id=enrollment.id,
        quiz_id=quiz.id,
        submitted_at=now,
        answers={str(q): sorted(c) for q, c in sorted(answers.items())},
        correct_count=result.correct,
        question_count=result.total,
        score_percent=result.percent,
        pass_mark_percent=quiz.pass_mark_percent,
        passed=result.passed,
    )
    db.session.add(attempt)
    enrollment.last_activity_at = now
    db.session.flush()
    completed = maybe_complete(enrollment) if result.passed else False
    return AttemptResult(attempt, result, completed)


def attempts_of(enrollment: Enrollment | EnrollmentFacts) -> list[QuizAttempt]:
    """Every attempt of an enrollment, newest first."""
    return list(
        db.session.scalars(
            select(QuizAttempt)
            .where(QuizAttempt.enrollment_id == enrollment.id)
            .order_by(QuizAttempt.submitted_at.desc(), QuizAttempt.id.desc())
        )
    )


# --- the dashboard -----------------------------------------------------------------------------


@dataclass
class EnrollmentRow:
    """An enrollment with its course and progress counts, for lists."""

    enrollment: Enrollment
    course: Course
    done: int
    total: int

    @property
    def percent(self) -> int:
        return 100 if not self.total else math.floor(100 * self.done / self.total)


def enrollment_rows(user: User) -> list[EnrollmentRow]:
    """The user's enrollments with courses and progress, in a fixed number of queries."""
    enrollments = db.session.scalars(
        select(Enrollment)
        .where(Enrollment.user_id == user.id)
        .options(selectinload(Enrollment.course).selectinload(Course.approvals))
        .order_by(Enrollment.last_activity_at.desc().nulls_last(), Enrollment.enrolled_at.desc())
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
    return [
        EnrollmentRow(e, e.course, done.get(e.id, 0), totals.get(e.course_id, 0))
        for e in enrollments
    ]


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def ce_hours_between(user: User, start: date, end: date) -> Decimal:
    """CE hours the user earned from `start` to `end`, both days included (UTC)."""
    total = db.session.scalar(
        select(func.coalesce(func.sum(Enrollment.ce_hours_earned), 0)).where(
            Enrollment.user_id == user.id,
            Enrollment.completed_at >= _day_start(start),
            Enrollment.completed_at < _day_start(end + timedelta(days=1)),
        )
    )
    return Decimal(str(total or 0)).quantize(Decimal("0.01"))


def completions_between(user: User, start: date, end: date) -> int:
    """How many courses the user completed in a date range."""
    return (
        db.session.scalar(
            select(func.count(Enrollment.id)).where(
                Enrollment.user_id == user.id,
                Enrollment.completed_at >= _day_start(start),
                Enrollment.completed_at < _day_start(end + timedelta(days=1)),
            )
        )
        or 0
    )


def parse_range(start_text: str | None, end_text: str | None, today: date) -> tuple[date, date]:
    """Validate a reporting range given as YYYY-MM-DD dates; raise 400 with a clear message."""
    try:
        start = date.fromisoformat(start_text) if start_text else date(today.year, 1, 1)
        end = date.fromisoformat(end_text) if end_text else today
    except ValueError:
        raise LearningError(
            400, "bad_date", "Enter dates as YYYY-MM-DD, for example 2026-01-31."
        ) from None
    if start > end:
        raise LearningError(400, "bad_range", "The start date must be on or before the end date.")
    if start.year < 2000 or end.year > today.year + 1:
        raise LearningError(400, "bad_range", "Choose dates between the year 2000 and next year.")
    return start, end


def require_user(user: User | None) -> User:
    """Return the signed-in user or refuse with 401."""
    require_signed_in(user)
    return user  # type: ignore[return-value]

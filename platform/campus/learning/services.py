"""Building courses: the course, its modules, lessons, resources and quiz, and publishing.

These are the building blocks that the demo seed, importers and `actions` use; the changes an
admin makes go through `campus.learning.actions`, which audits them. Services flush and never
commit: the view, command or task around them commits once.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, inspect, select

from campus import dates
from campus.accounts.models import PROFESSIONS
from campus.extensions import db
from campus.learning import seattime
from campus.learning.access import (
    LearningError,
)
from campus.learning.models import (
    Choice,
    Course,
    CourseProfession,
    Lesson,
    LessonResource,
    Module,
    Question,
    Quiz,
)
from campus.learning.rendering import video_embed_url
from campus.models.base import utcnow
from campus.models.reads import slugs_and_changes
from campus.storage import get_storage


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
    estimated_minutes: int | None = None,
    video_url: str | None = None,
    transcript: str = "",
) -> Lesson:
    """Append a lesson to a module; the video link must be on an allowed host.

    Without the author's expected minutes, the lesson's words at the reading rate stand in.
    """
    last = db.session.scalar(
        select(func.coalesce(func.max(Lesson.position), 0)).where(Lesson.module_id == module.id)
    )
    position = (last or 0) + 1
    lesson = Lesson(
        course_id=module.course_id,
        module=module,
        module_position=module.position,
        position=position,
        title=title,
        body_markdown=body_markdown,
        video_embed_url=video_embed_url(video_url),
        transcript=transcript,
        estimated_minutes=estimated_minutes or seattime.reading_minutes(body_markdown),
    )
    db.session.add(lesson)
    db.session.flush()
    return lesson


_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


RESOURCES = "learning-resources"  # the storage keys' first part for lesson resources


def add_resource(
    lesson: Lesson, title: str, filename: str, data: bytes, content_type: str
) -> LessonResource:
    """Store a downloadable file for a lesson."""
    safe = _SAFE_NAME.sub("-", filename).strip("-.") or "file"
    key = f"{RESOURCES}/{lesson.id}/{secrets.token_hex(8)}-{safe}"
    get_storage().save(key, data, content_type)
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


def resource_bytes(resource: LessonResource) -> bytes | None:
    """A resource's stored file, or None if it is missing."""
    try:
        return get_storage().read(resource.storage_key)
    except FileNotFoundError:
        return None


def new_question(number: int, spec: dict[str, Any]) -> Question:
    """Build question `number` of a bank from its spec (prompt, choices as (text, correct), ...)."""
    correct = sum(1 for _text, ok in spec["choices"] if ok)
    if correct < 1:
        raise ValueError(f"question {number} has no correct choice")
    question = Question(
        position=number,
        kind="multiple" if correct > 1 or spec.get("multiple") else "single",
        prompt=spec["prompt"],
        explanation=spec.get("explanation", ""),
        objective=spec.get("objective", ""),
    )
    for position, (text, ok) in enumerate(spec["choices"], start=1):
        question.choices.append(Choice(position=position, text=text, is_correct=ok))
    return question


def set_quiz(
    course: Course,
    questions: list[dict],
    *,
    pass_mark_percent: int = 70,
    attempts_per_day: int = 3,
    title: str = "Final quiz",
    instructions: str = "",
    questions_per_attempt: int | None = None,
) -> Quiz:
    """Give a course its final quiz: a bank of questions, N of them drawn for each attempt.

    Each question: prompt, choices [(text, correct)], explanation, objective. A question with
    more than one correct choice is a multiple-answer question; `questions_per_attempt=None`
    draws every question.
    """
    if questions_per_attempt is not None and not 1 <= questions_per_attempt <= len(questions):
        raise ValueError("questions_per_attempt must be between 1 and the size of the bank")
    quiz = Quiz(
        course=course,
        title=title,
        instructions=instructions,
        pass_mark_percent=pass_mark_percent,
        attempts_per_day=attempts_per_day,
        questions_per_attempt=questions_per_attempt,
    )
    for number, spec in enumerate(questions, start=1):
        quiz.questions.append(new_question(number, spec))
    db.session.add(quiz)
    db.session.flush()
    return quiz


def approval_problem(course: Course, today: date | None = None) -> str | None:
    """Name what is missing when no board approval of the course is in force today.

    A certificate must print an approval the boards will accept, so a course without one in
    force (none at all, or every one lapsed or not started yet) cannot be published.
    """
    today = today or dates.today()
    with db.session.no_autoflush:
        # An approval the course's own form deletes stays in the list after its flush.
        approvals = [
            a for a in course.approvals if a not in db.session.deleted and not inspect(a).deleted
        ]
    if not approvals:
        return "a board approval"
    if not any(a.is_valid_on(today) for a in approvals):
        return "a board approval in force today (every approval has lapsed or not started)"
    return None


def untranscribed_videos(course: Course) -> list[str]:
    """The titles of the course's lessons that embed a video but have no transcript, in order."""
    if not course.id:
        return []
    with db.session.no_autoflush:
        rows = db.session.execute(
            select(Lesson.title, Lesson.transcript)
            .where(Lesson.course_id == course.id, Lesson.video_embed_url.is_not(None))
            .order_by(Lesson.module_position, Lesson.position)
        )
        # Blank in Python: SQL's trim() leaves newlines, and a transcript of newlines is none.
        return [title for title, transcript in rows if not transcript.strip()]


def transcript_problem(course: Course) -> str | None:
    """Name the lessons whose video has no transcript (WCAG 2.1 AA 1.2.x), or None."""
    titles = untranscribed_videos(course)
    if not titles:
        return None
    named = ", ".join(f"“{title}”" for title in titles)
    return f"a transcript for every lesson with a video (missing for {named})"


def check_publishable(course: Course) -> None:
    """Refuse to publish a course that students could not complete or earn credit for."""
    problems = []
    with db.session.no_autoflush:
        lesson_count = (
            db.session.scalar(select(func.count()).where(Lesson.course_id == course.id))
            if course.id
            else 0
        )
        quiz = course.quiz
        questions = list(quiz.questions) if quiz is not None else []
    if not lesson_count:
        problems.append("at least one lesson")
    if not questions:
        problems.append("a final quiz with questions")
    elif any(not any(c.is_correct for c in q.choices) for q in questions):
        problems.append("a correct answer for every quiz question")
    transcripts = transcript_problem(course)
    if transcripts is not None:
        problems.append(transcripts)
    approval = approval_problem(course)
    if approval is not None:
        problems.append(approval)
    if problems:
        raise LearningError(
            409,
            "not_publishable",
            "A course needs " + " and ".join(problems) + " before it can be published. "
            "Save it as a draft until then.",
        )


def publish(course: Course) -> None:
    """Publish a course so it is listed and open to enrollment, if students can complete it."""
    check_publishable(course)
    seattime.check_hours_supported(course)
    course.status = "published"
    course.published_at = course.published_at or utcnow()
    db.session.flush()


def unpublish(course: Course) -> None:
    """Take a course out of the catalog: a draft again (enrolled students keep studying)."""
    course.status = "draft"
    db.session.flush()


def sitemap_entries() -> list[tuple[str, datetime]]:
    """Every published course's slug and last change, for the sitemap."""
    return slugs_and_changes(Course, Course.status == "published")

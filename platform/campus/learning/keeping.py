"""What a published course keeps through the catalog's edits, and what learners' work keeps.

Publishing checks a course whole (`services.check_publishable`, `seattime.check_hours_supported`);
an edit to a published course must not take back what those checks asked for: its quiz with
questions, a board approval in force, lessons that support its CE hours, transcripts of its
videos. And a part that learners studied or answered is the evidence behind their CE hours.
`campus.learning.actions` calls these around each change; each raises the refusal it explains.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select

from campus import dates
from campus.extensions import db
from campus.learning import seattime, services
from campus.learning.access import LearningError
from campus.learning.models import (
    BoardApproval,
    Course,
    Lesson,
    LessonProgress,
    Module,
    Question,
    Quiz,
    QuizAttempt,
    QuizPaper,
    in_force,
)
from campus.learning.records import SeatTime


def refusal(message: str) -> LearningError:
    """The error an admin's refused catalog change raises, with the sentence they are shown."""
    return LearningError(422, "invalid", message)


def keep_videos_transcribed(course: Course, lesson: Lesson, before: dict[str, Any] | None) -> None:
    """Refuse a video without its transcript in a published course."""
    # In a published course a new or changed video needs its transcript, and a transcript cannot
    # be taken away from a video; lessons published before transcripts existed stay editable.
    if course.status != "published" or not lesson.video_embed_url or lesson.transcript.strip():
        return
    before = before or {}
    if (
        lesson.video_embed_url != before.get("video_embed_url")
        or (before.get("transcript") or "").strip()
    ):
        raise refusal(
            f"Lesson “{lesson.title}” has a video: give it a transcript (what the video shows "
            "and says) before it goes into a published course."
        )


def keep_hours_supported(course: Course | None) -> None:
    """Refuse an edit that leaves a published course's lessons short of its CE hours."""
    # A published course's lessons must go on supporting its CE hours after any edit.
    if course is not None and course.status == "published":
        db.session.flush()
        seattime.check_hours_supported(course)


def keep_quiz(course: Course | None) -> None:
    """Refuse an edit that leaves a published course without a quiz with questions."""
    # Publishing asks for a final quiz with questions; a published course keeps one through
    # any edit (a quiz deleted or moved away, its last question moved to another quiz).
    if course is None or course.status != "published":
        return
    db.session.flush()
    questions = db.session.scalar(
        select(func.count(Question.id))
        .join(Quiz, Quiz.id == Question.quiz_id)
        .where(Quiz.course_id == course.id)
    )
    if not questions:
        raise refusal(
            f"“{course.title}” is published: it needs its final quiz with questions. Keep them "
            "there, or unpublish the course first."
        )


def keep_approval_in_force(approval: BoardApproval, before: dict[str, Any] | None) -> None:
    """Refuse an approval's edit that takes it out of force today, if its course then has none."""
    # Only an end moved into the past (refused anyway) or a first day moved later can do so;
    # an approval already out of force (lapsed, or a renewal starting later) stays editable.
    today = dates.today()
    if before is None or approval.is_valid_on(today):
        return
    if was_in_force(before, today):
        keep_approved(approval.course)


def was_in_force(state: dict[str, Any], day: date) -> bool:
    """Tell whether an approval, as its audit snapshot holds it (ISO dates), was in force."""
    first, last = (
        date.fromisoformat(state[k]) if state.get(k) else None
        for k in ("valid_from", "valid_until")
    )
    return in_force(first, last, day)


def keep_approved(course: Course | None) -> None:
    """Refuse an edit that leaves a published course without a board approval in force."""
    # Publishing asks for a board approval in force, which its certificates print.
    if course is None or course.status != "published":
        return
    db.session.flush()
    db.session.expire(course, ["approvals"])
    problem = services.approval_problem(course)
    if problem is not None:
        raise refusal(
            f"“{course.title}” is published: it needs {problem}. Add another approval first, "
            "or unpublish the course."
        )


def earlier(model: Any, before: dict[str, Any] | None, key: str) -> Any:
    """The row a saved object pointed to before this edit (by the snapshot's `key`), if other."""
    earlier_id = (before or {}).get(key)
    return db.session.get(model, earlier_id) if earlier_id is not None else None


def learners_with_records(obj: Any) -> int:
    """How many enrollments hold progress, seat time or quiz work on a module, lesson or quiz."""
    tables: tuple[tuple[Any, Any], ...]
    if isinstance(obj, Quiz):
        tables = ((QuizPaper, QuizPaper.quiz_id), (QuizAttempt, QuizAttempt.quiz_id))
        owners: Any = [obj.id]
    elif isinstance(obj, Lesson | Module):
        tables = ((LessonProgress, LessonProgress.lesson_id), (SeatTime, SeatTime.lesson_id))
        owners = [obj.id] if isinstance(obj, Lesson) else [lesson.id for lesson in obj.lessons]
    else:
        return 0
    if not owners:
        return 0
    enrollments: set[int] = set()
    for model, key in tables:
        enrollments.update(
            db.session.scalars(select(model.enrollment_id).where(key.in_(owners)).distinct())
        )
    return len(enrollments)


def keep_records(obj: Any, change: str) -> None:
    """Refuse to delete, or move to another course, a part that holds learners' study records."""
    learners = learners_with_records(obj)
    if learners:
        kind = type(obj).__name__.lower()
        raise refusal(
            f"This {kind} holds the study records of {learners} learner"
            f"{'s' if learners != 1 else ''} (progress, seat time or quiz attempts), the "
            f"evidence behind their CE hours, so it cannot be {change}. Edit it instead, or "
            "unpublish the course."
        )

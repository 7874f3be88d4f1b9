"""Catalog actions: the one write path for each change to a course, and where it is audited.

Each action takes the acting user (None for an operator's command), applies the catalog's rules
(publishing, positions, quiz answers; the approvals' are in `approval_rules`, and what a
published course keeps through an edit is in `keeping`), keeps derived columns in step (a
lesson's copy of its module's position), and
writes the audit entry in the same transaction. The admin calls these; so does any command that
changes the catalog. Saves take the object with the new values
already set (as a form fills it) and the snapshot taken before, None for a new object.

A student's own changes (enrolling, completing a lesson, a quiz attempt, the evaluation) have
their one write paths in `progress`, `quiz` and `evaluation`, which log each step through
`study_log`. Actions flush; callers commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select, update

from campus.accounts.models import PROFESSIONS, User
from campus.audit import changed_fields, object_label, record, snapshot
from campus.extensions import db
from campus.learning import keeping, services
from campus.learning.approval_rules import check_approvals, check_boards
from campus.learning.keeping import refusal
from campus.learning.models import (
    SUBJECTS,
    BoardApproval,
    Course,
    CourseProfession,
    Enrollment,
    Lesson,
    Module,
    Question,
    Quiz,
)
from campus.learning.rendering import VideoURLError, video_embed_url
from campus.models.writes import lock_row

# Far past any course's modules, lessons or quiz questions.
MAX_POSITION = 10_000


def _log(
    action: str,
    obj: Any,
    *,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    actor: User | None,
) -> None:
    summary = object_label(obj)
    fields = changed_fields(before, after) if before is not None and after is not None else []
    if fields:
        summary += f": {', '.join(fields)}"
    if actor is None:
        summary = f"cli: {summary}"  # an operator's command, not a signed-in admin
    record(action, obj, summary=summary, before=before, after=after, actor=actor)


def _saved(obj: Any, before: dict[str, Any] | None, actor: User | None) -> None:
    db.session.flush()
    action = "create" if before is None else "update"
    _log(action, obj, before=before, after=snapshot(obj), actor=actor)


# --- rules -------------------------------------------------------------------------------------


def _next_position(model: Any, **scope: Any) -> int:
    stmt = select(func.coalesce(func.max(model.position), 0))
    for column, value in scope.items():
        stmt = stmt.where(getattr(model, column) == value)
    with db.session.no_autoflush:
        return (db.session.scalar(stmt) or 0) + 1


def _position_taken(model: Any, obj: Any, **scope: Any) -> Any:
    """The sibling at obj's position, if any; a position past MAX_POSITION is refused."""
    if obj.position > MAX_POSITION:
        # Typed up to INTEGER's last value, it left no position at the end (a failed save).
        raise refusal(f"Positions go from 1 to {MAX_POSITION:,}: pick a free one up to it.")
    stmt = select(model).where(model.position == obj.position)
    for column, value in scope.items():
        stmt = stmt.where(getattr(model, column) == value)
    if obj.id is not None:
        stmt = stmt.where(model.id != obj.id)
    with db.session.no_autoflush:
        return db.session.scalar(stmt.limit(1))


# --- courses -----------------------------------------------------------------------------------


def save_course(
    course: Course,
    *,
    before: dict[str, Any] | None,
    actor: User | None,
    professions: Iterable[str] | None = None,
) -> Course:
    """Save a new or changed course: approvals in force, its audience, the publish rule."""
    check_approvals(course.approvals)
    check_boards(course)
    course.subjects = sorted(set(course.subjects or []) & set(SUBJECTS))
    if professions is not None:
        wanted = set(professions)
        unknown = wanted - set(PROFESSIONS)
        if unknown:
            raise refusal(f"Unknown profession: {', '.join(sorted(unknown))}.")
        course.audience = [a for a in course.audience if a.profession in wanted] + [
            CourseProfession(profession=p)
            for p in sorted(wanted - {a.profession for a in course.audience})
        ]
    if course.status == "published":
        db.session.add(course)
        db.session.flush()
        services.publish(course)  # the rule, and the first publication date
    _saved(course, before, actor)
    return course


def _set_status(course: Course, status: str, actor: User | None) -> bool:
    if course.status == status:
        return False
    before = snapshot(course)
    if status == "published":
        services.publish(course)
    else:
        services.unpublish(course)
    action = "publish" if status == "published" else "unpublish"
    _log(action, course, before=before, after=snapshot(course), actor=actor)
    return True


def publish(course: Course, *, actor: User | None) -> bool:
    """Publish a course if students can complete it, and log it; False if it already was."""
    return _set_status(course, "published", actor)


def unpublish(course: Course, *, actor: User | None) -> bool:
    """Take a course out of the catalog (a draft again), and log it; False if it was a draft."""
    return _set_status(course, "draft", actor)


def delete_course(course: Course, *, actor: User | None) -> None:
    """Delete a course nobody is enrolled in, and log it."""
    enrolled = db.session.scalar(
        select(func.count()).select_from(Enrollment).where(Enrollment.course_id == course.id)
    )
    if enrolled:
        raise refusal(
            f"{course.title} has {enrolled} enrollment{'s' if enrolled != 1 else ''}, so it "
            "cannot be deleted (students keep their progress and certificates). Unpublish "
            "it instead: set its status to Draft."
        )
    _log("delete", course, before=snapshot(course), after=None, actor=actor)
    db.session.delete(course)
    db.session.flush()


def save_approval(
    approval: BoardApproval, *, before: dict[str, Any] | None, actor: User | None
) -> BoardApproval:
    """Save a board approval, refusing one that has already ended."""
    check_approvals([approval])
    check_boards(approval.course)
    _saved(approval, before, actor)
    keeping.keep_approval_in_force(approval, before)
    if (before or {}).get("course_id") not in (None, approval.course_id):
        # Moved to another course: the one it left keeps an approval in force.
        keeping.keep_approved(keeping.earlier(Course, before, "course_id"))
    return approval


# --- modules and lessons -----------------------------------------------------------------------


def save_module(module: Module, *, before: dict[str, Any] | None, actor: User | None) -> Module:
    """Save a module at a free position (the end if none); its lessons follow it."""
    with db.session.no_autoflush:  # nothing is written until the rules pass
        course_id = module.course.id
    if module.position is None:
        module.position = _next_position(Module, course_id=course_id)
    taken = _position_taken(Module, module, course_id=course_id)
    if taken is not None:
        raise refusal(
            f"Position {module.position} is already taken by module “{taken.title}” in this "
            "course. Pick a free position, or move that module first."
        )
    if (before or {}).get("course_id") not in (None, course_id):
        # Its lessons' progress and seat time are the evidence of the course they were taken in.
        keeping.keep_records(module, "moved to another course")
    if module.id is not None:
        # Lessons keep a copy of their module's place so the course order is one ORDER BY.
        db.session.execute(
            update(Lesson)
            .where(Lesson.module_id == module.id)
            .values(module_position=module.position, course_id=course_id)
        )
    _saved(module, before, actor)
    if (before or {}).get("course_id") not in (None, course_id):
        # Moved to another course: the one it left keeps its hours supported.
        keeping.keep_hours_supported(keeping.earlier(Course, before, "course_id"))
    return module


def save_lesson(
    lesson: Lesson,
    *,
    before: dict[str, Any] | None,
    actor: User | None,
    video_url: str | None = None,
) -> Lesson:
    """Save a lesson at a free position in its module, with an allowed video link or none."""
    try:
        lesson.video_embed_url = video_embed_url(video_url)
    except VideoURLError as exc:
        raise refusal(f"Video link: {exc}") from None
    with db.session.no_autoflush:
        module = lesson.module
    lesson.course_id = module.course_id
    lesson.module_position = module.position
    if lesson.position is None:
        lesson.position = _next_position(Lesson, module_id=module.id)
    taken = _position_taken(Lesson, lesson, module_id=module.id)
    if taken is not None:
        raise refusal(
            f"Position {lesson.position} is already taken by lesson “{taken.title}” in this "
            "module. Pick a free position, or move that lesson first."
        )
    earlier = keeping.earlier(Module, before, "module_id")
    if earlier is not None and earlier.course_id != module.course_id:
        # Its progress and seat time are the evidence of the course they were taken in.
        keeping.keep_records(lesson, "moved to another course")
    keeping.keep_hours_supported(module.course)
    keeping.keep_videos_transcribed(module.course, lesson, before)
    _saved(lesson, before, actor)
    if earlier is not None and earlier.course_id != module.course_id:
        keeping.keep_hours_supported(earlier.course)  # moved to another course's module
    return lesson


def _neighbour(model: Any, obj: Any, direction: int, **scope: Any) -> Any:
    """The sibling just before (direction -1) or after (+1) obj in position order."""
    column = model.position
    stmt = select(model).where(column < obj.position if direction < 0 else column > obj.position)
    for name, value in scope.items():
        stmt = stmt.where(getattr(model, name) == value)
    return db.session.scalar(stmt.order_by(column.desc() if direction < 0 else column).limit(1))


def _swap(obj: Any, other: Any) -> None:
    """Exchange two siblings' positions without ever holding one position twice."""
    mine, theirs = obj.position, other.position
    obj.position = 0  # positions start at 1: 0 is always free
    db.session.flush()
    other.position = mine
    db.session.flush()
    obj.position = theirs
    db.session.flush()


def _lock_order(obj: Module | Lesson) -> None:
    """Hold the course's row to the commit, then read the part's position again."""
    # Two admins moving neighbours at once each swapped through positions the other had just
    # changed: a deadlock or a duplicate position (a 500). One waits for the other instead.
    lock_row(Course, obj.course_id)
    db.session.refresh(obj)


def move_module(module: Module, direction: int, *, actor: User | None) -> bool:
    """Move a module one place up (-1) or down (+1) in its course; False at either end."""
    _lock_order(module)
    other = _neighbour(Module, module, direction, course_id=module.course_id)
    if other is None:
        return False
    before = snapshot(module)
    _swap(module, other)
    for moved in (module, other):
        # Lessons keep a copy of their module's place so the course order is one ORDER BY.
        db.session.execute(
            update(Lesson)
            .where(Lesson.module_id == moved.id)
            .values(module_position=moved.position)
            .execution_options(synchronize_session="fetch")
        )
    _log("move", module, before=before, after=snapshot(module), actor=actor)
    return True


def move_lesson(lesson: Lesson, direction: int, *, actor: User | None) -> bool:
    """Move a lesson one place up (-1) or down (+1) in its module; False at either end."""
    _lock_order(lesson)
    other = _neighbour(Lesson, lesson, direction, module_id=lesson.module_id)
    if other is None:
        return False
    before = snapshot(lesson)
    _swap(lesson, other)
    _log("move", lesson, before=before, after=snapshot(lesson), actor=actor)
    return True


# --- quizzes and questions ---------------------------------------------------------------------


def save_quiz(quiz: Quiz, *, before: dict[str, Any] | None, actor: User | None) -> Quiz:
    """Save a course's quiz (one per course)."""
    with db.session.no_autoflush:
        course_id = quiz.course.id
        other = db.session.scalar(
            select(Quiz).where(Quiz.course_id == course_id, Quiz.id != (quiz.id or 0))
        )
    if other is not None:
        raise refusal("That course already has a quiz: edit it instead.")
    moved = (before or {}).get("course_id") not in (None, course_id)
    if moved:
        # Its attempts are the evidence of the course its learners took it in.
        keeping.keep_records(quiz, "moved to another course")
    _saved(quiz, before, actor)
    if moved:
        keeping.keep_quiz(keeping.earlier(Course, before, "course_id"))  # moved to another course
    return quiz


def save_question(
    question: Question, *, before: dict[str, Any] | None, actor: User | None
) -> Question:
    """Save a question with two or more answers, the right number correct, at a free position."""
    # Papers group questions by objective as typed: "Neck " or "  " would be one of their own.
    question.objective = (question.objective or "").strip()
    # Answers ticked for deletion on the same form stay in the list until the flush.
    kept = [c for c in question.choices if c not in db.session.deleted]
    choices = [c for c in kept if c.text and c.text.strip()]
    if len(choices) < 2:
        raise refusal("A question needs at least two answers.")
    texts = [plain_answer(c.text) for c in choices]
    twice = next((c.text.strip() for c in choices if texts.count(plain_answer(c.text)) > 1), None)
    if twice is not None:
        # A learner reads the answers only: two alike cannot be told apart.
        raise refusal(f"The answer “{twice}” is given twice: make each answer different.")
    correct = sum(1 for c in choices if c.is_correct)
    if correct == 0:
        raise refusal("Mark at least one answer as correct.")
    if question.kind == "single" and correct > 1:
        raise refusal(
            "A “choose one” question can have only one correct answer: mark one, or make it "
            "a “choose every correct answer” question."
        )
    with db.session.no_autoflush:
        quiz = question.quiz
    if question.position is None:
        question.position = _next_position(Question, quiz_id=quiz.id)
    if _position_taken(Question, question, quiz_id=quiz.id) is not None:
        raise refusal(
            f"Position {question.position} is already taken by another question in this quiz."
        )
    # Number the answers in the order shown; park them first so the swap never collides.
    with db.session.no_autoflush:
        for index, choice in enumerate(kept, start=1):
            choice.position = -index
    db.session.flush()
    for index, choice in enumerate(kept, start=1):
        choice.position = index
    _saved(question, before, actor)
    earlier = keeping.earlier(Quiz, before, "quiz_id")
    if earlier is not None and earlier.id != quiz.id:
        keeping.keep_quiz(earlier.course)  # moved to another quiz
    return question


def plain_answer(text: str) -> str:
    """An answer as a learner tells it from another: case and spacing aside."""
    return " ".join(text.split()).casefold()


def delete_question(question: Question, *, actor: User | None) -> None:
    """Delete a question, unless it is the last one of a published course's quiz; log it."""
    course = question.quiz.course
    if course.status == "published" and len(question.quiz.questions) - 1 < 1:
        raise refusal(
            "This is the last question of a published course's quiz. Add another question "
            "or unpublish the course first."
        )
    _log("delete", question, before=snapshot(question), after=None, actor=actor)
    db.session.delete(question)
    db.session.flush()


def delete(obj: Any, *, actor: User | None) -> None:
    """Delete a module, lesson, quiz or approval and log it; published CE hours stay supported.

    A part that learners have studied or answered is kept: their progress, seat time and quiz
    attempts are the evidence behind their CE hours, and deleting it would delete them too.
    """
    keeping.keep_records(obj, "deleted")
    course = obj.course if isinstance(obj, Lesson | Module | Quiz | BoardApproval) else None
    _log("delete", obj, before=snapshot(obj), after=None, actor=actor)
    db.session.delete(obj)
    db.session.flush()
    if isinstance(obj, Quiz):
        keeping.keep_quiz(course)
    elif isinstance(obj, BoardApproval):
        keeping.keep_approved(course)
    else:
        keeping.keep_hours_supported(course)

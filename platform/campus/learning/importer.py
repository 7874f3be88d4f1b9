"""Add or update a course from its files (see course_files), by slug; running it again is a no-op.

Used by `flask --app wsgi learning import DIR` and by `seed-demo`. An existing course is
updated in place (modules, lessons and questions matched by position), so students' progress,
enrollments and quiz attempts keep pointing at the same rows. Once students are enrolled, lessons
and modules can be edited and added but not removed. Attempts are frozen copies of what they
drew, so the question bank may grow or shrink under them; only attempts made before attempts were
frozen pin it (its questions can then be reworded but not added or removed). A refused file
changes nothing. Services flush; the caller commits once per course (the CLI) or once in all
(`seed-demo`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from sqlalchemy import exists, select

from campus import audit
from campus.extensions import db
from campus.learning import keeping, services
from campus.learning.access import LearningError
from campus.learning.course_fields import ApprovalSpec
from campus.learning.course_files import (
    CourseFileError,
    CourseSpec,
    LessonSpec,
    QuizSpec,
)
from campus.learning.models import (
    BoardApproval,
    Course,
    CourseProfession,
    Enrollment,
    Lesson,
    LessonResource,
    Module,
    Question,
    Quiz,
    QuizAttempt,
)
from campus.learning.rendering import video_embed_url

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"


class CourseImportError(CourseFileError):
    """The files are well formed but would change the course in a way that loses records."""


@dataclass
class ImportReport:
    """What an import did, course by course."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)  # (slug, what to know)

    def add(self, slug: str, outcome: str) -> None:
        """Note one course's outcome."""
        {CREATED: self.created, UPDATED: self.updated, UNCHANGED: self.unchanged}[outcome].append(
            slug
        )


def import_course(spec: CourseSpec, *, source: str = "", warnings: list[str] | None = None) -> str:
    """Create the course of `spec`, or bring the course with its slug up to date; flush.

    What the operator must know of a change that went through (as the admin's warnings tell
    it: a program no longer completable) is added to `warnings`.
    """
    course = db.session.scalar(select(Course).where(Course.slug == spec.slug))
    before = None
    if course is None:
        course = _create(spec)
        outcome = CREATED
    else:
        before = _outline(course)
        changed = _update(course, spec, [] if warnings is None else warnings)
        outcome = UPDATED if changed else UNCHANGED
    if outcome != UNCHANGED:
        db.session.flush()
        after = _outline(course)
        summary = f"cli: {outcome} course {spec.slug} from its files {source}".rstrip()
        if before is not None:
            for part in ("modules", "quiz"):
                if before.get(part) == after.get(part):  # unchanged parts would bury the change
                    before.pop(part, None)
                    after.pop(part, None)
            summary += f": {', '.join(audit.changed_fields(before, after))}"
        audit.record(
            f"learning.course_{outcome}",
            course,
            summary=summary,
            before=before,
            after=after,
            actor=None,
        )
    return outcome


def _outline(course: Course) -> dict[str, Any]:
    """The course as its audit entry keeps it: its columns, lessons (study times) and quiz.

    The admin logs each lesson and question it saves; an import changes them all under one
    entry, which must show them too (a lesson's minutes support the CE hours, the quiz's pass
    mark and answers decide who earns them). Read from the database, as flushed.
    """
    state = audit.snapshot(course)
    modules = db.session.scalars(
        select(Module).where(Module.course_id == course.id).order_by(Module.position)
    )
    state["modules"] = [
        {
            **audit.snapshot(module),
            "lessons": [
                {
                    **audit.snapshot(lesson),
                    "resources": [
                        [resource.filename, resource.title]
                        for resource in db.session.scalars(
                            select(LessonResource)
                            .where(LessonResource.lesson_id == lesson.id)
                            .order_by(LessonResource.filename)
                        )
                    ],
                }
                for lesson in db.session.scalars(
                    select(Lesson).where(Lesson.module_id == module.id).order_by(Lesson.position)
                )
            ],
        }
        for module in modules
    ]
    quiz = db.session.scalar(select(Quiz).where(Quiz.course_id == course.id))
    if quiz is not None:
        questions = db.session.scalars(
            select(Question).where(Question.quiz_id == quiz.id).order_by(Question.position)
        )
        state["quiz"] = {
            **audit.snapshot(quiz),
            "questions": [audit.snapshot(q) for q in questions],
        }
    return state


def _check_approvals(course: Course) -> None:
    """Hold a file's approvals to the admin's rules: none already ended, one per board."""
    from campus.learning.approval_rules import check_approvals, check_boards

    check_approvals(course.approvals)
    check_boards(course)


def _create(spec: CourseSpec) -> Course:
    course = services.create_course(slug=spec.slug, professions=spec.professions, **spec.fields)
    for a in spec.approvals:
        course.approvals.append(
            BoardApproval(
                board=a.board,
                approval_number=a.approval_number,
                valid_from=a.valid_from,
                valid_until=a.valid_until,
            )
        )
    _check_approvals(course)
    for module_spec in spec.modules:
        module = services.add_module(course, module_spec.title, module_spec.summary)
        for lesson_spec in module_spec.lessons:
            _add_lesson(module, lesson_spec)
    if spec.quiz is not None:
        _set_quiz(course, spec.quiz)
    if spec.status == "published":
        services.publish(course)
    return course


def _add_lesson(module: Module, spec: LessonSpec) -> Lesson:
    lesson = services.add_lesson(
        module,
        spec.title,
        spec.body,
        estimated_minutes=spec.minutes,
        video_url=spec.video_url,
        transcript=spec.transcript,
    )
    for resource in spec.resources:
        services.add_resource(
            lesson, resource.title, resource.filename, resource.data, resource.content_type
        )
    return lesson


def _set_quiz(course: Course, spec: QuizSpec) -> Quiz:
    return services.set_quiz(
        course,
        [question.as_dict() for question in spec.questions],
        pass_mark_percent=spec.pass_mark_percent,
        attempts_per_day=spec.attempts_per_day,
        title=spec.title,
        instructions=spec.instructions,
        questions_per_attempt=spec.questions_per_attempt,
    )


# --- updating in place ---------------------------------------------------------------------------


def _assign(obj: Any, **values: Any) -> bool:
    """Set the attributes that differ; tell whether any did (equal values stay untouched)."""
    changed = False
    for key, value in values.items():
        if getattr(obj, key) != value:
            setattr(obj, key, value)
            changed = True
    return changed


def _update(course: Course, spec: CourseSpec, warnings: list[str]) -> bool:
    enrolled = bool(db.session.scalar(select(exists().where(Enrollment.course_id == course.id))))
    # A file without a status leaves the admin's choice alone: publishing or unpublishing in
    # the admin must survive the next import of the same files.
    status = spec.status or course.status
    closing = course.status == "published" and status != "published"
    if closing:
        # The admin's Draft comes before any edit of the approvals, and is checked against the
        # ones in force: an approval moved out of force in the same file cannot lift a refusal.
        warning = _check_unpublish(course)
        if warning:
            warnings.append(warning)
    changed = _assign(course, **spec.said_fields())
    if "professions" not in spec.unsaid:  # left out, the admin's audience stays
        changed |= _update_audience(course, spec.professions)
    before = {row.id: audit.snapshot(row) for row in course.approvals}
    if "approvals" not in spec.unsaid and _update_approvals(course, spec.approvals):
        _check_approvals(course)
        if not closing:
            _keep_approved(course, before)
        changed = True
    changed |= _update_modules(course, spec, enrolled)
    changed |= _update_quiz(course, spec.quiz)
    if status == "published":
        # Checked on every change, not only the first publication: new hours, approvals or
        # lessons must still meet the rule a published course meets when edited in the admin.
        if changed or course.status != "published":
            services.publish(course)
            changed = True
    elif course.status != "draft":
        course.status = "draft"
        changed = True
    return changed


def _keep_approved(course: Course, before: dict[int, dict[str, Any]]) -> None:
    """Refuse, as the admin's approval form does, to leave a published course none in force."""
    kept = {row.id: row for row in course.approvals if row.id is not None}
    gone = [state for key, state in before.items() if key not in kept]
    named: Any = None
    try:
        for key, row in kept.items():
            named = {"board": row.board, "approval_number": row.approval_number}
            keeping.keep_approval_in_force(row, before.get(key))
        if gone:  # as the admin's delete of an approval
            named = gone[0]
            keeping.keep_approved(course)
    except LearningError as exc:
        raise CourseImportError(
            f"course.yaml: the {named['board']} approval {named['approval_number']}: {exc.message}"
        ) from None


def _check_unpublish(course: Course) -> str | None:
    """Refuse, as the admin's Draft does, to close a course a published program needs.

    A course whose approvals lapsed may go, as it must; what its programs then lose is the
    warning returned (the admin shows it too).
    """
    # Programs are a feature of their own; without it no program needs a course.
    if "programs" not in current_app.extensions.get("campus_features", ()):
        return None
    from campus.programs.actions import check_unpublish

    return check_unpublish(course)


def _update_audience(course: Course, professions: Iterable[str]) -> bool:
    wanted, have = set(professions), {row.profession for row in course.audience}
    if wanted == have:
        return False
    for row in [row for row in course.audience if row.profession not in wanted]:
        course.audience.remove(row)
    for profession in sorted(wanted - have):
        course.audience.append(CourseProfession(profession=profession))
    return True


def _update_approvals(course: Course, approvals: Iterable[ApprovalSpec]) -> bool:
    wanted = {(a.board, a.approval_number): a for a in approvals}
    changed = False
    for row in list(course.approvals):
        key = (row.board, row.approval_number)
        if key not in wanted:
            course.approvals.remove(row)
            changed = True
            continue
        spec = wanted.pop(key)
        # A file silent on the first day keeps the one entered in the admin.
        days = {"valid_from": spec.valid_from} if spec.from_said else {}
        changed |= _assign(row, valid_until=spec.valid_until, **days)
    for a in wanted.values():
        course.approvals.append(
            BoardApproval(
                board=a.board,
                approval_number=a.approval_number,
                valid_from=a.valid_from,
                valid_until=a.valid_until,
            )
        )
        changed = True
    return changed


def _update_modules(course: Course, spec: CourseSpec, enrolled: bool) -> bool:
    modules = sorted(course.modules, key=lambda m: m.position)
    lessons_of = {m.id: sorted(m.lessons, key=lambda lesson: lesson.position) for m in modules}
    removing = len(modules) > len(spec.modules) or any(
        len(lessons_of[module.id]) > len(module_spec.lessons)
        for module, module_spec in zip(modules, spec.modules, strict=False)
    )
    if removing and enrolled:
        raise CourseImportError(
            f"{spec.slug}: students are enrolled, so its lessons and modules can be edited and "
            "added but not removed; unpublish it and import a new course instead"
        )
    changed = False
    for index, module_spec in enumerate(spec.modules):
        if index >= len(modules):
            module = services.add_module(course, module_spec.title, module_spec.summary)
            for lesson_spec in module_spec.lessons:
                _add_lesson(module, lesson_spec)
            changed = True
            continue
        module = modules[index]
        changed |= _assign(module, title=module_spec.title, summary=module_spec.summary)
        lessons = lessons_of[module.id]
        for position, lesson_spec in enumerate(module_spec.lessons):
            if position >= len(lessons):
                _add_lesson(module, lesson_spec)
                changed = True
            else:
                changed |= _update_lesson(lessons[position], lesson_spec)
        for lesson in lessons[len(module_spec.lessons) :]:
            db.session.delete(lesson)
            changed = True
    for module in modules[len(spec.modules) :]:
        for lesson in lessons_of[module.id]:
            db.session.delete(lesson)
        db.session.delete(module)
        changed = True
    return changed


def _update_lesson(lesson: Lesson, spec: LessonSpec) -> bool:
    changed = _assign(
        lesson,
        title=spec.title,
        body_markdown=spec.body,
        estimated_minutes=spec.minutes,
        video_embed_url=video_embed_url(spec.video_url),
        transcript=spec.transcript,
    )
    have = {resource.filename: resource for resource in lesson.resources}
    for resource_spec in spec.resources:
        resource = have.pop(resource_spec.filename, None)
        if resource is not None:
            changed |= _assign(resource, title=resource_spec.title)
            if services.resource_bytes(resource) == resource_spec.data:
                continue
            db.session.delete(resource)  # a new file under a new key: downloads never see half
        services.add_resource(
            lesson,
            resource_spec.title,
            resource_spec.filename,
            resource_spec.data,
            resource_spec.content_type,
        )
        changed = True
    for resource in have.values():
        lesson.resources.remove(resource)
        changed = True
    return changed


def _update_quiz(course: Course, spec: QuizSpec | None) -> bool:
    quiz: Quiz | None = course.quiz
    if spec is None:
        return False  # a quiz is only ever replaced, never dropped by a missing file
    if quiz is None:
        _set_quiz(course, spec)
        return True
    changed = _assign(quiz, **spec.said_settings())
    questions = sorted(quiz.questions, key=lambda q: q.position)
    same_shape = len(questions) == len(spec.questions) and all(
        len(q.choices) == len(s.choices) for q, s in zip(questions, spec.questions, strict=True)
    )
    if not same_shape:
        # Attempts frozen in a paper keep their own copy of the questions, so the bank may grow
        # or shrink under them; older attempts point at the rows themselves.
        unfrozen = db.session.scalar(
            select(exists().where(QuizAttempt.quiz_id == quiz.id, QuizAttempt.paper_id.is_(None)))
        )
        if unfrozen:
            raise CourseImportError(
                f"{course.slug}: the quiz has attempts, so its questions and choices can be "
                "reworded but not added or removed"
            )
        for question in questions:
            quiz.questions.remove(question)
        db.session.flush()
        for number, question_spec in enumerate(spec.questions, start=1):
            quiz.questions.append(services.new_question(number, question_spec.as_dict()))
        return True
    for question, question_spec in zip(questions, spec.questions, strict=True):
        correct = sum(1 for _text, ok in question_spec.choices if ok)
        changed |= _assign(
            question,
            prompt=question_spec.prompt,
            explanation=question_spec.explanation,
            objective=question_spec.objective,
            kind="multiple" if correct > 1 or question_spec.multiple else "single",
        )
        choices = sorted(question.choices, key=lambda c: c.position)
        for choice, (text, ok) in zip(choices, question_spec.choices, strict=True):
            changed |= _assign(choice, text=text, is_correct=ok)
    return changed

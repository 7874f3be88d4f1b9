"""A student's way through a course: enrollment, the outline, lessons opened and completed.

Enrolling and completing a lesson are the one write path of each (views and the API call
these); each logs its step (`study_log`), as completing the course does. Functions flush and
never commit."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import cast

from sqlalchemy import CursorResult, func, select, update

from campus import dates
from campus.accounts.models import User
from campus.extensions import db
from campus.learning import seattime, snapshots, study_log
from campus.learning.access import (
    EnrollmentFacts,
    LearningError,
    check_can_enroll,
    check_can_study,
    require_signed_in,
)
from campus.learning.models import (
    Course,
    Enrollment,
    Lesson,
    LessonProgress,
    QuizAttempt,
)
from campus.learning.signals import enrollment_completed
from campus.models.base import utcnow
from campus.models.writes import insert_if_absent


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


def enroll(user: User, course: Course) -> Enrollment:
    """Enroll a user with paid access in a published course; enrolling twice is a conflict."""
    check_can_enroll(user, course)
    now = utcnow()
    inserted = insert_if_absent(
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
    if inserted is None:
        raise LearningError(409, "already_enrolled", "You are already enrolled in this course.")
    enrollment = db.session.scalar(
        select(Enrollment).where(Enrollment.user_id == user.id, Enrollment.course_id == course.id)
    )
    assert enrollment is not None
    study_log.enrolled(enrollment, user)
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
    # Loaded by check_can_study itself (no facts passed in): the ORM row, which this changes.
    enrollment = cast(Enrollment, study.enrollment)
    if lesson.id not in completed_lesson_ids(enrollment):
        seattime.check_lesson_time(enrollment, lesson)
    now = utcnow()
    inserted = (
        insert_if_absent(
            LessonProgress,
            {"enrollment_id": enrollment.id, "lesson_id": lesson.id, "completed_at": now},
            ["enrollment_id", "lesson_id"],
        )
        is not None
    )
    enrollment.last_lesson_id = lesson.id
    enrollment.last_activity_at = now
    db.session.flush()
    if inserted:
        study_log.lesson_completed(enrollment, lesson, user)
    completed = maybe_complete(enrollment) if inserted else False
    return LessonCompletion(enrollment, lesson, inserted, completed)


def course_as_completed(course: Course, day: date) -> dict:
    """What a certificate prints of a course completed on `day`, as the course is now."""
    return {
        "course_title": course.title,
        "delivery_type": course.delivery_label,
        # What the course was counted as, for renewal trackers ("N hours live", "in ethics").
        "delivery_key": course.delivery_type,
        "subject_keys": list(course.subjects or []),
        "course_professions": course.professions,
        "approvals": [
            {
                "board": a.board,
                "approval_number": a.approval_number,
                "valid_from": a.valid_from.isoformat() if a.valid_from else None,
                "valid_until": a.valid_until.isoformat() if a.valid_until else None,
            }
            for a in course.approvals
            if a.is_valid_on(day)
        ],
        # Who taught the course signs beside the administrator (NCBTMB asks for both).
        "instructors": course.presenter_list,
    }


def maybe_complete(enrollment: Enrollment) -> bool:
    """Complete the enrollment if every lesson is done and the quiz passed; signal it once."""
    if enrollment.completed_at is not None:
        return False
    course = enrollment.course
    total = db.session.scalar(select(func.count(Lesson.id)).where(Lesson.course_id == course.id))
    done = db.session.scalar(
        select(func.count(LessonProgress.id))
        .join(Lesson, Lesson.id == LessonProgress.lesson_id)
        .where(LessonProgress.enrollment_id == enrollment.id, Lesson.course_id == course.id)
    )
    if (done or 0) < (total or 0):
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
    result = db.session.execute(
        update(Enrollment)
        .where(Enrollment.id == enrollment.id, Enrollment.completed_at.is_(None))
        .values(
            completed_at=now,
            status="completed",
            ce_hours_earned=course.ce_hours,
            completed_course=course_as_completed(course, dates.local_date(now)),
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if cast(CursorResult, result).rowcount != 1:
        db.session.refresh(enrollment)
        return False
    db.session.refresh(enrollment)
    study_log.course_completed(enrollment)
    enrollment_completed.send(None, enrollment_id=enrollment.id)
    return True

"""The audit entries of a learner's study steps: the evidence behind their CE hours.

A board's auditor asks who studied what, for how long and how the quiz went. Each step's own
write path (`progress.enroll`, `progress.complete_lesson`, `quiz.submit_attempt`,
`evaluation.submit`) calls one of these in its transaction, so the step and its entry land
together. Heartbeats are not logged one by one: `SeatTime` is their log, and each lesson's
entry says what it held when the lesson was completed. Entries name the enrollment, and keep
no more of the learner than their account does (the ratings and comments stay in the
evaluation itself).
"""

from __future__ import annotations

from typing import Any

from campus import audit
from campus.accounts.models import User
from campus.learning import seattime
from campus.learning.models import Enrollment, Lesson, QuizAttempt, QuizPaper
from campus.learning.records import CourseEvaluation


def _log(
    action: str,
    enrollment: Enrollment,
    user: User,
    summary: str,
    after: dict[str, Any],
    before: dict[str, Any] | None = None,
) -> None:
    audit.record(
        action,
        object_type="Enrollment",
        object_id=enrollment.id,
        summary=f"{enrollment.course.slug}: {summary}",
        before=before,
        after={key: audit.plain(value) for key, value in after.items()},
        actor=user,
    )


def enrolled(enrollment: Enrollment, user: User) -> None:
    """Log an enrollment."""
    after = {"course_id": enrollment.course_id, "enrolled_at": enrollment.enrolled_at}
    _log("enroll", enrollment, user, "enrolled", after)


def lesson_completed(enrollment: Enrollment, lesson: Lesson, user: User) -> None:
    """Log a lesson completed, with the seat time credited to it then and what it required."""
    spent = seattime.spent_by_lesson(enrollment).get(lesson.id, 0)
    required = seattime.required_lesson_seconds(lesson)
    after = {
        "lesson_id": lesson.id,
        "lesson_title": lesson.title,
        "seat_time_seconds": spent,
        "required_seconds": required,
        "completed_at": enrollment.last_activity_at,
    }
    summary = f"completed lesson “{lesson.title}” after {seattime.duration(spent)}"
    _log("lesson_complete", enrollment, user, summary, after)


def quiz_attempted(
    enrollment: Enrollment, attempt: QuizAttempt, paper: QuizPaper, user: User
) -> None:
    """Log a scored quiz attempt: when it started and ended, its score and the pass mark."""
    after = {
        "attempt_id": attempt.id,
        "quiz_id": attempt.quiz_id,
        "started_at": paper.started_at,
        "submitted_at": attempt.submitted_at,
        "correct_count": attempt.correct_count,
        "question_count": attempt.question_count,
        "score_percent": attempt.score_percent,
        "pass_mark_percent": attempt.pass_mark_percent,
        "passed": attempt.passed,
    }
    verdict = "passed" if attempt.passed else "failed"
    summary = f"quiz attempt {verdict} with {attempt.score_percent}%"
    _log("quiz_attempt", enrollment, user, summary, after)


def course_completed(enrollment: Enrollment) -> None:
    """Log a completed course with the CE hours it earned (the learner's step that did it)."""
    after = {
        "completed_at": enrollment.completed_at,
        "ce_hours_earned": enrollment.ce_hours_earned,
        "course_title": (enrollment.completed_course or {}).get("course_title"),
    }
    before = {"completed_at": None, "ce_hours_earned": None}
    hours = audit.plain(enrollment.ce_hours_earned)
    summary = f"completed the course, {hours} CE hours earned"
    _log("course_complete", enrollment, enrollment.user, summary, after, before)


def evaluated(enrollment: Enrollment, evaluation: CourseEvaluation, user: User) -> None:
    """Log the course evaluation and attestation (their answers stay in the evaluation)."""
    after = {
        "evaluation_id": evaluation.id,
        "submitted_at": evaluation.submitted_at,
        "minutes_taken": evaluation.minutes_taken,
        "attested": bool(evaluation.attestation),
    }
    _log("evaluate", enrollment, user, "evaluated the course and attested", after)

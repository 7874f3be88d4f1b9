"""The course evaluation and attestation a learner gives before the certificate is issued.

Submitting them is the learner's own write path (like a quiz attempt) and needs no audit entry:
the row itself, with the statement attested to and the time, is the record a board can ask
for. Functions flush and never commit.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import Decimal
from typing import cast

from sqlalchemy import CursorResult, func, select, update

from campus.accounts.models import User
from campus.exports import safe_cell
from campus.extensions import db
from campus.learning import study_log
from campus.learning.access import LearningError, enrollment_of, require_signed_in
from campus.learning.models import Course, Enrollment
from campus.learning.records import CourseEvaluation
from campus.learning.signals import enrollment_evaluated
from campus.models.base import utcnow
from campus.models.writes import insert_if_absent

ATTESTATION = (
    "I attest that I completed this course myself: I studied its lessons and took its final "
    "quiz without anyone else's help, and the time recorded is my own study."
)
# The questions boards expect an evaluation to ask (NCBTMB, state massage boards).
RATINGS = {
    "objectives_met": "The course met its stated learning objectives.",
    "relevance": "The content is relevant to my practice.",
    "presenter": "The presenter explained the material clearly and knew the subject.",
    "content_quality": "The content was accurate, current and well organised.",
}
SCALE = {
    1: "Strongly disagree",
    2: "Disagree",
    3: "Neutral",
    4: "Agree",
    5: "Strongly agree",
}
MAX_COMMENTS = 4000
MAX_MINUTES = 100000


@dataclass(frozen=True)
class Answers:
    """A learner's answers, already read from a form or JSON."""

    ratings: dict[str, int]
    minutes_taken: int
    comments: str
    attested: bool


def problems_of(answers: Answers) -> dict[str, str]:
    """Each incomplete or out-of-range answer's message, by the question it belongs to."""
    problems = {}
    for field, question in RATINGS.items():
        if answers.ratings.get(field) not in SCALE:
            # Each question is a statement beginning "The ...": it reads on as a clause, so
            # no capital is left standing mid-sentence as "Rate: The presenter ..." did.
            problems[field] = f"Say how far you agree that {question[:1].lower()}{question[1:]}"
    if not 1 <= answers.minutes_taken <= MAX_MINUTES:
        problems["minutes_taken"] = "Say how many minutes the course took you (a whole number)."
    if len(answers.comments) > MAX_COMMENTS:
        problems["comments"] = f"Keep comments under {MAX_COMMENTS} characters."
    if not answers.attested:
        problems["attest"] = "Confirm the attestation: the certificate needs it."
    return problems


def said_at_question(field: str, problem: str) -> str:
    """A problem as said under its own question, whose text is just above it.

    The list at the top names each unrated question ("Say how far you agree that the
    presenter ..."); repeated under that question it read as the question twice.
    """
    return "Choose one answer." if field in RATINGS else problem


def check_answers(answers: Answers) -> None:
    """Refuse incomplete or out-of-range answers, listing every problem."""
    problems = list(problems_of(answers).values())
    if problems:
        raise LearningError(422, "invalid_evaluation", " ".join(problems), problems=problems)


def evaluation_of(enrollment: Enrollment | None) -> CourseEvaluation | None:
    """An enrollment's evaluation, if given."""
    if enrollment is None:
        return None
    return db.session.scalar(
        select(CourseEvaluation).where(CourseEvaluation.enrollment_id == enrollment.id)
    )


def completed_enrollment(user: User | None, course: Course) -> Enrollment:
    """The user's completed enrollment in a course, or a refusal saying what comes first."""
    require_signed_in(user)
    enrollment = enrollment_of(user, course.id)
    if enrollment is None:
        raise LearningError(403, "not_enrolled", "Enroll in this course first.")
    if enrollment.completed_at is None:
        raise LearningError(
            409,
            "not_completed",
            "The evaluation opens when every lesson is complete and the final quiz is passed.",
        )
    return enrollment


def submit(user: User | None, course: Course, answers: Answers) -> CourseEvaluation:
    """Store the evaluation and attestation of a completed enrollment; once only.

    Sends `enrollment_evaluated` (the certificates feature queues the certificate on it).
    """
    enrollment = completed_enrollment(user, course)
    check_answers(answers)
    now = utcnow()
    inserted = insert_if_absent(
        CourseEvaluation,
        {
            "enrollment_id": enrollment.id,
            "course_id": course.id,
            **{field: answers.ratings[field] for field in RATINGS},
            "minutes_taken": answers.minutes_taken,
            "comments": answers.comments.strip(),
            "attestation": ATTESTATION,
            "submitted_at": now,
        },
        ["enrollment_id"],
    )
    if inserted is None:
        raise LearningError(409, "already_evaluated", "You have already evaluated this course.")
    result = db.session.execute(
        update(Enrollment)
        .where(Enrollment.id == enrollment.id, Enrollment.evaluated_at.is_(None))
        .values(evaluated_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(enrollment)
    if cast(CursorResult, result).rowcount == 1:
        enrollment_evaluated.send(None, enrollment_id=enrollment.id)
    evaluation = db.session.get(CourseEvaluation, inserted)
    assert evaluation is not None
    study_log.evaluated(enrollment, evaluation, enrollment.user)
    return evaluation


# --- summaries for admins -----------------------------------------------------------------------


@dataclass(frozen=True)
class CourseSummary:
    """Counts, averages and comments of one course's evaluations."""

    course: Course
    count: int
    averages: dict[str, Decimal]
    average_minutes: int
    comments: list[CourseEvaluation]


def summaries() -> list[CourseSummary]:
    """Every course with evaluations: how many, the average of each rating, the comments."""
    averages = [func.avg(getattr(CourseEvaluation, field)) for field in RATINGS]
    rows = db.session.execute(
        select(
            CourseEvaluation.course_id,
            func.count(CourseEvaluation.id),
            func.avg(CourseEvaluation.minutes_taken),
            *averages,
        ).group_by(CourseEvaluation.course_id)
    ).all()
    result = []
    for course_id, count, minutes, *means in rows:
        course = db.session.get(Course, course_id)
        if course is None:
            continue
        comments = list(
            db.session.scalars(
                select(CourseEvaluation)
                .where(CourseEvaluation.course_id == course_id, CourseEvaluation.comments != "")
                .order_by(CourseEvaluation.submitted_at.desc())
                .limit(50)
            )
        )
        result.append(
            CourseSummary(
                course,
                count,
                {
                    field: Decimal(str(mean)).quantize(Decimal("0.1"))
                    for field, mean in zip(RATINGS, means, strict=True)
                },
                round(float(minutes or 0)),
                comments,
            )
        )
    return sorted(result, key=lambda s: s.course.title)


def csv_export(course_id: int | None = None) -> str:
    """Every evaluation (or one course's) as CSV, learner named by record id only."""
    query = (
        select(CourseEvaluation, Course.slug)
        .join(Course, Course.id == CourseEvaluation.course_id)
        .order_by(Course.slug, CourseEvaluation.submitted_at)
    )
    if course_id is not None:
        query = query.where(CourseEvaluation.course_id == course_id)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["course", "enrollment_id", "submitted_at", *RATINGS, "minutes_taken", "comments"]
    )
    for evaluation, slug in db.session.execute(query):
        writer.writerow(
            [
                slug,
                evaluation.enrollment_id,
                evaluation.submitted_at.isoformat(timespec="seconds"),
                *(getattr(evaluation, field) for field in RATINGS),
                evaluation.minutes_taken,
                safe_cell(evaluation.comments),
            ]
        )
    return out.getvalue()

"""CE courses in the JSON API: catalog, course detail, enrollments, progress and quiz attempts.

The same rules as the pages (campus.learning.access); refusals are JSON errors with the status
of the rule that refused (401, 403, 404, 409, 422, 429). POSTs with the browser session need
its CSRF token in the X-CSRFToken header (the pages carry it in <meta name="csrf-token">);
POSTs with a read-write API token need none (campus.api.auth).
"""

from __future__ import annotations

import math
from datetime import datetime
from decimal import Decimal

from flask_login import current_user
from flask_smorest import Blueprint
from sqlalchemy.orm import selectinload

from campus import dates
from campus.accounts.models import User
from campus.api.bodies import json_body
from campus.api.spec import SIGNED_IN, ErrorSchema
from campus.errors import json_error
from campus.extensions import db
from campus.learning import access, credit, papers, progress, reports, snapshots
from campus.learning import catalog as course_catalog
from campus.learning import quiz as quizzes
from campus.learning.access import (
    LearningError,
    check_can_study,
    enrollment_of,
    visible_course,
)
from campus.learning.api_schemas import (
    AttemptInSchema,
    AttemptOutSchema,
    CatalogArgsSchema,
    CatalogSchema,
    CourseDetailSchema,
    EnrollmentListSchema,
    EnrollmentSchema,
    LessonCompletionSchema,
)
from campus.learning.models import Course, Enrollment, Module
from campus.models.base import utcnow
from campus.urls import public_url

blp = Blueprint(
    "learning_api",
    __name__,
    description="CE courses: catalog, enrollment, lesson progress and the final quiz",
)


@blp.errorhandler(LearningError)
def _refused(err: LearningError):
    details = None
    if err.code == "invalid_answers":
        # Where the document's error body keeps a validation's per-field messages, as for a
        # malformed body; `problems` stays for the clients that already read it.
        details = {"json": {"answers": err.extra["problems"]}}
    response = json_error(err.code, err.message, err.status, details, **err.extra)
    if err.status == 429 and "retry_at" in err.extra:
        # HTTP clients back off by the header, not by reading the body (RFC 9110 10.2.3).
        wait = datetime.fromisoformat(err.extra["retry_at"]) - utcnow()
        response.headers["Retry-After"] = str(max(1, math.ceil(wait.total_seconds())))
    return response


def _user() -> User | None:
    return current_user._get_current_object() if current_user.is_authenticated else None


# --- helpers -----------------------------------------------------------------------------------


def _course_summary(course: Course | snapshots.CourseCard, *, in_force_only: bool = True) -> dict:
    today = dates.today()
    return {
        "slug": course.slug,
        "title": course.title,
        "summary": course.summary,
        "ce_hours": float(course.ce_hours),
        "delivery_type": course.delivery_type,
        "level": course.level,
        "topic": course.topic,
        "professions": course.professions,
        # As the catalog card: an approval not in force (lapsed, or not started yet) is
        # printed on no certificate earned now.
        "approvals": [a for a in course.approvals if not in_force_only or a.is_valid_on(today)],
        "status": course.status,
        "url": public_url("learning.course", slug=course.slug),
    }


def _enrollment_dict(
    enrollment: Enrollment, done: int, total: int, can_study: bool, hours: Decimal | None
) -> dict:
    return {
        "id": enrollment.id,
        "course": enrollment.course.slug,
        # As completed, for a completed course: the title its certificate prints.
        "course_title": enrollment.course_title,
        "ce_hours": float(enrollment.course.ce_hours),
        "status": enrollment.status,
        "enrolled_at": enrollment.enrolled_at,
        "completed_at": enrollment.completed_at,
        "ce_hours_earned": float(hours) if hours is not None else None,
        "last_lesson_id": enrollment.last_lesson_id,
        "progress": {
            "done": done,
            "total": total,
            "percent": 100 if not total else done * 100 // total,
        },
        "can_study": can_study,
    }


def _may_study(user: User | None, course: Course) -> bool:
    try:
        check_can_study(user, course)
    except LearningError:
        return False
    return True


def _quiz_dict(course: Course, user: User | None, enrollment: Enrollment | None) -> dict | None:
    if course.quiz is None or not course.quiz.questions:
        return None
    quiz = course.quiz
    body = {
        "title": quiz.title,
        "question_count": quiz.drawn_count(),
        "pass_mark_percent": quiz.pass_mark_percent,
        "attempts_per_day": quiz.attempts_per_day,
        "scoring_rule": quizzes.PARTIAL_CREDIT_RULE,
    }
    if _may_study(user, course):
        body["questions"] = papers.questions_shown(quiz, enrollment, preview=enrollment is None)
    return body


NOT_ALLOWED_TO_STUDY = "Not enrolled, membership lapsed, or a read-only token"
QUIZ_NOT_OPEN = (
    "Already passed, lessons incomplete, or too little study time on the course yet "
    "(needs_more_time)"
)
ATTEMPT_LIMITED = (
    "The quiz's attempts allowed in 24 hours are used (attempt_limit, with retry_at), or the "
    "token made too many requests; Retry-After says when"
)

# --- endpoints ---------------------------------------------------------------------------------


@blp.route("/courses")
@blp.arguments(CatalogArgsSchema, location="query")
@blp.response(200, CatalogSchema)
def list_courses(args: dict) -> dict:
    """List published courses, with the catalog's search and filters."""
    filters = course_catalog.CatalogFilters.from_args({k: str(v) for k, v in args.items()})
    courses, total = course_catalog.catalog(filters, args["page"])
    pages = max(1, -(-total // course_catalog.CATALOG_PAGE_SIZE))
    return {
        "courses": [_course_summary(c) for c in courses],
        "total": total,
        "page": args["page"],
        "pages": pages,
    }


@blp.route("/courses/<slug>")
@blp.response(200, CourseDetailSchema)
@blp.alt_response(404, schema=ErrorSchema, description="Unknown course, or a draft")
def get_course(slug: str) -> dict:
    """Describe a course: syllabus, approvals, quiz facts and the reader's own enrollment."""
    user = _user()
    course = visible_course(
        user,
        slug,
        selectinload(Course.approvals),
        selectinload(Course.audience),
        selectinload(Course.modules).selectinload(Module.lessons),
        selectinload(Course.quiz),
    )
    enrollment = enrollment_of(user, course.id)
    plan = progress.outline(course, enrollment)
    # As the course page: every approval with its end date, a lapsed one included.
    body = _course_summary(course, in_force_only=False)
    body.update(
        description_html=course.description_html,
        objectives=course.objective_list,
        presenters=course.presenter_list,
        presenter_bio=course.presenter_bio,
        modules=[
            {
                "position": m.position,
                "title": m.title,
                "lessons": [
                    {
                        "id": lesson.id,
                        "title": lesson.title,
                        "estimated_minutes": lesson.estimated_minutes,
                        "completed": lesson.id in plan.completed_ids,
                        "has_video": lesson.video_embed_url is not None,
                        "has_transcript": bool(lesson.transcript.strip()),
                    }
                    for lesson in m.lessons
                ],
            }
            for m in course.modules
        ],
        quiz=_quiz_dict(course, user, enrollment),
        enrollment=(
            _enrollment_dict(
                enrollment,
                plan.done,
                plan.total,
                _may_study(user, course),
                credit.counted_hours(enrollment, credit.revoked_course_ids(enrollment.user_id)),
            )
            if enrollment is not None
            else None
        ),
    )
    return body


@blp.route("/enrollments")
@blp.doc(security=SIGNED_IN)
@blp.response(200, EnrollmentListSchema)
@blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
def list_enrollments() -> dict:
    """List the signed-in student's enrollments with progress."""
    user = access.require_user(_user())
    from campus.billing.access import has_paid_access

    paid = has_paid_access(user)
    rows = reports.enrollment_rows(user)
    return {
        "enrollments": [
            _enrollment_dict(r.enrollment, r.done, r.total, paid, r.hours) for r in rows
        ],
        "total_ce_hours_earned": float(credit.earned_hours(user.id)),
    }


@blp.route("/courses/<slug>/enroll", methods=["POST"])
@blp.doc(security=SIGNED_IN)
@blp.response(201, EnrollmentSchema)
@blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
@blp.alt_response(403, schema=ErrorSchema, description="No paid membership, or a read-only token")
@blp.alt_response(404, schema=ErrorSchema, description="Unknown course, or a draft")
@blp.alt_response(
    409,
    schema=ErrorSchema,
    description="Already enrolled (already_enrolled), or a draft an admin sees (not_published)",
)
def enroll(slug: str) -> dict:
    """Enroll the signed-in member in a published course."""
    user = access.require_user(_user())
    course = visible_course(user, slug)
    enrollment = progress.enroll(user, course)
    db.session.commit()
    total = len(progress.outline(course, None).lessons)
    return _enrollment_dict(enrollment, 0, total, True, None)


@blp.route("/lessons/<int:lesson_id>/complete", methods=["POST"])
@blp.doc(security=SIGNED_IN)
@blp.response(200, LessonCompletionSchema)
@blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
@blp.alt_response(403, schema=ErrorSchema, description=NOT_ALLOWED_TO_STUDY)
@blp.alt_response(404, schema=ErrorSchema, description="Unknown lesson")
@blp.alt_response(
    409, schema=ErrorSchema, description="Too little study time on the lesson yet (needs_more_time)"
)
def complete_lesson(lesson_id: int) -> dict:
    """Mark a lesson complete; completing it again changes nothing."""
    user = access.require_user(_user())
    result = progress.complete_lesson(user, lesson_id)
    db.session.commit()
    plan = progress.outline(result.enrollment.course, result.enrollment)
    return {
        "lesson_id": lesson_id,
        "newly_completed": result.newly_completed,
        "course_completed": result.course_completed,
        "progress": {"done": plan.done, "total": plan.total, "percent": plan.percent},
    }


@blp.route("/courses/<slug>/quiz/attempts", methods=["POST"])
@blp.doc(security=SIGNED_IN)
@json_body
@blp.arguments(AttemptInSchema)
@blp.response(201, AttemptOutSchema, description="Scored and recorded as a new attempt")
@blp.alt_response(
    200,
    schema=AttemptOutSchema,
    description="The same answers sent again with the attempt_id of an attempt already scored: "
    "its recorded result, not a new attempt",
)
@blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
@blp.alt_response(403, schema=ErrorSchema, description=NOT_ALLOWED_TO_STUDY)
@blp.alt_response(404, schema=ErrorSchema, description="Unknown course, a draft, or no quiz")
@blp.alt_response(
    409,
    schema=ErrorSchema,
    description=f"{QUIZ_NOT_OPEN}; or other answers for an attempt_id already scored "
    "(attempt_submitted)",
)
@blp.alt_response(
    422,
    schema=ErrorSchema,
    description="Missing or extra answers, questions not in the attempt, or an attempt_id "
    "that is not the caller's at this quiz (unknown_attempt)",
)
@blp.alt_response(429, schema=ErrorSchema, description=ATTEMPT_LIMITED)
def submit_attempt(payload: dict, slug: str) -> tuple[dict, int]:
    """Score a quiz attempt on the server and record it; a pass may complete the course."""
    user = access.require_user(_user())
    course = visible_course(user, slug)
    answers = {a["question_id"]: a["choice_ids"] for a in payload["answers"]}
    result = quizzes.submit_attempt(user, course, answers, paper_id=payload.get("attempt_id"))
    db.session.commit()
    quiz = quizzes.quiz_of(course)
    allowance = quizzes.attempt_allowance(result.attempt.enrollment, quiz)
    body = {
        "id": result.attempt.id,
        "attempt_id": result.attempt.paper_id,
        "submitted_at": result.attempt.submitted_at,
        "correct_count": result.score.correct,
        "question_count": result.score.total,
        "score_percent": result.score.percent,
        "pass_mark_percent": result.score.pass_mark_percent,
        "passed": result.score.passed,
        "course_completed": result.course_completed,
        "attempts_remaining_today": allowance.remaining,
        "scoring_rule": quizzes.PARTIAL_CREDIT_RULE,
    }
    paper = result.attempt.paper  # every attempt submitted here is made from its frozen paper
    if result.score.passed and paper is not None:
        body["results"] = [
            {
                "question_id": q.id,
                "correct": result.score.question_correct[q.id],
                "correct_choice_ids": [c.id for c in q.choices if c.is_correct],
                "explanation": q.explanation,
            }
            for q in papers.questions_of(paper)
        ]
    elif not result.score.passed:
        body["revisit"] = papers.objectives_to_revisit(result.attempt)
    return body, 200 if result.replayed else 201

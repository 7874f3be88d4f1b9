"""CE courses in the JSON API: catalog, course detail, enrollments, progress and quiz attempts.

The same rules as the pages (campus.learning.access); refusals are JSON errors with the status
of the rule that refused (401, 403, 404, 409, 422, 429). POSTs with the browser session need
its CSRF token in the X-CSRFToken header (the pages carry it in <meta name="csrf-token">);
POSTs with a read-write API token need none (campus.api.auth).
"""

from __future__ import annotations

from decimal import Decimal

from flask import url_for
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy.orm import selectinload

from campus.accounts.models import User
from campus.api.spec import ErrorSchema
from campus.errors import json_error
from campus.extensions import db
from campus.integers import Id
from campus.learning import access, credit, papers, progress, reports, snapshots
from campus.learning import catalog as course_catalog
from campus.learning import quiz as quizzes
from campus.learning.access import (
    LearningError,
    check_can_study,
    enrollment_of,
    visible_course,
)
from campus.learning.models import Course, Enrollment, Module

blp = Blueprint(
    "learning_api",
    __name__,
    description="CE courses: catalog, enrollment, lesson progress and the final quiz",
)


@blp.errorhandler(LearningError)
def _refused(err: LearningError):
    return json_error(err.code, err.message, err.status, **err.extra)


def _user() -> User | None:
    return current_user._get_current_object() if current_user.is_authenticated else None


# --- schemas -----------------------------------------------------------------------------------


class ApprovalSchema(Schema):
    board = fields.String()
    approval_number = fields.String()
    valid_until = fields.Date(allow_none=True)


class CourseSummarySchema(Schema):
    slug = fields.String()
    title = fields.String(metadata={"description": "The title as approved by the CE boards"})
    summary = fields.String()
    ce_hours = fields.Float()
    delivery_type = fields.String()
    level = fields.String()
    topic = fields.String()
    professions = fields.List(fields.String())
    approvals = fields.List(fields.Nested(ApprovalSchema))
    status = fields.String()
    url = fields.String()


class CatalogSchema(Schema):
    courses = fields.List(fields.Nested(CourseSummarySchema))
    total = fields.Integer()
    page = fields.Integer()
    pages = fields.Integer()


class CatalogArgsSchema(Schema):
    q = fields.String(load_default="", validate=validate.Length(max=100))
    profession = fields.String(load_default="")
    topic = fields.String(load_default="", validate=validate.Length(max=80))
    hours = fields.String(
        load_default="", validate=validate.OneOf(["", *course_catalog.HOURS_FILTERS.keys()])
    )
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=9999))


class LessonSchema(Schema):
    id = fields.Integer()
    title = fields.String()
    estimated_minutes = fields.Integer()
    completed = fields.Boolean()


class ModuleSchema(Schema):
    position = fields.Integer()
    title = fields.String()
    lessons = fields.List(fields.Nested(LessonSchema))


class ProgressSchema(Schema):
    done = fields.Integer()
    total = fields.Integer()
    percent = fields.Integer()


class EnrollmentSchema(Schema):
    id = fields.Integer()
    course = fields.String(metadata={"description": "The course slug"})
    course_title = fields.String()
    ce_hours = fields.Float()
    status = fields.String()
    enrolled_at = fields.DateTime()
    completed_at = fields.DateTime(allow_none=True)
    ce_hours_earned = fields.Float(
        allow_none=True, metadata={"description": "None until completed, or once revoked"}
    )
    last_lesson_id = fields.Integer(allow_none=True)
    progress = fields.Nested(ProgressSchema)
    can_study = fields.Boolean(
        metadata={"description": "False when the membership has lapsed: progress is kept"}
    )


class ChoiceSchema(Schema):
    id = fields.Integer()
    text = fields.String()


class QuestionSchema(Schema):
    id = fields.Integer()
    position = fields.Integer()
    kind = fields.String(metadata={"description": "single or multiple"})
    prompt = fields.String()
    choices = fields.List(fields.Nested(ChoiceSchema))
    # Only after the student has passed:
    correct_choice_ids = fields.List(fields.Integer())
    explanation = fields.String()


class QuizSchema(Schema):
    title = fields.String()
    question_count = fields.Integer()
    pass_mark_percent = fields.Integer()
    attempts_per_day = fields.Integer()
    scoring_rule = fields.String()
    questions = fields.List(
        fields.Nested(QuestionSchema),
        metadata={
            "description": "The reader's open attempt as drawn (or, after a pass, the passed "
            "attempt with its key); the whole bank only for an admin's preview"
        },
    )


class CourseDetailSchema(CourseSummarySchema):
    description_html = fields.String()
    objectives = fields.List(fields.String())
    presenters = fields.List(fields.String())
    presenter_bio = fields.String()
    modules = fields.List(fields.Nested(ModuleSchema))
    quiz = fields.Nested(QuizSchema, allow_none=True)
    enrollment = fields.Nested(EnrollmentSchema, allow_none=True)


class EnrollmentListSchema(Schema):
    enrollments = fields.List(fields.Nested(EnrollmentSchema))
    total_ce_hours_earned = fields.Float(
        metadata={
            "description": "Hours of completed courses; a revoked certificate's count nowhere"
        }
    )


class LessonCompletionSchema(Schema):
    lesson_id = fields.Integer()
    newly_completed = fields.Boolean(
        metadata={"description": "False when the lesson was already complete"}
    )
    course_completed = fields.Boolean()
    progress = fields.Nested(ProgressSchema)


class AnswerSchema(Schema):
    question_id = Id(required=True)
    choice_ids = fields.List(Id(), required=True, validate=validate.Length(min=1, max=50))


class AttemptInSchema(Schema):
    answers = fields.List(
        fields.Nested(AnswerSchema), required=True, validate=validate.Length(min=1, max=500)
    )

    @validates_schema
    def _one_answer_per_question(self, data: dict, **_kwargs) -> None:
        ids = [a["question_id"] for a in data.get("answers", [])]
        if len(ids) != len(set(ids)):
            raise ValidationError("Each question may be answered once.", "answers")


class QuestionResultSchema(Schema):
    question_id = fields.Integer()
    correct = fields.Boolean()
    correct_choice_ids = fields.List(fields.Integer())
    explanation = fields.String()


class AttemptOutSchema(Schema):
    id = fields.Integer()
    submitted_at = fields.DateTime()
    correct_count = fields.Integer()
    question_count = fields.Integer()
    score_percent = fields.Integer()
    pass_mark_percent = fields.Integer()
    passed = fields.Boolean()
    course_completed = fields.Boolean()
    attempts_remaining_today = fields.Integer()
    scoring_rule = fields.String()
    results = fields.List(
        fields.Nested(QuestionResultSchema),
        metadata={"description": "Per-question verdicts and explanations, only on a pass"},
    )
    revisit = fields.List(
        fields.String(),
        metadata={"description": "After a fail: the objectives to revisit (never the key)"},
    )


# --- helpers -----------------------------------------------------------------------------------


def _course_summary(course: Course | snapshots.CourseCard) -> dict:
    return {
        "slug": course.slug,
        "title": course.title,
        "summary": course.summary,
        "ce_hours": float(course.ce_hours),
        "delivery_type": course.delivery_type,
        "level": course.level,
        "topic": course.topic,
        "professions": course.professions,
        "approvals": course.approvals,
        "status": course.status,
        "url": url_for("learning.course", slug=course.slug, _external=False),
    }


def _enrollment_dict(
    enrollment: Enrollment, done: int, total: int, can_study: bool, hours: Decimal | None
) -> dict:
    return {
        "id": enrollment.id,
        "course": enrollment.course.slug,
        "course_title": enrollment.course.title,
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
    body = _course_summary(course)
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
@blp.response(201, EnrollmentSchema)
@blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
@blp.alt_response(403, schema=ErrorSchema, description="No paid membership, or a read-only token")
@blp.alt_response(404, schema=ErrorSchema, description="Unknown course, or a draft")
@blp.alt_response(409, schema=ErrorSchema, description="Already enrolled")
def enroll(slug: str) -> dict:
    """Enroll the signed-in member in a published course."""
    user = access.require_user(_user())
    course = visible_course(user, slug)
    enrollment = progress.enroll(user, course)
    db.session.commit()
    total = len(progress.outline(course, None).lessons)
    return _enrollment_dict(enrollment, 0, total, True, None)


@blp.route("/lessons/<int:lesson_id>/complete", methods=["POST"])
@blp.response(200, LessonCompletionSchema)
@blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
@blp.alt_response(403, schema=ErrorSchema, description=NOT_ALLOWED_TO_STUDY)
@blp.alt_response(404, schema=ErrorSchema, description="Unknown lesson")
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
@blp.arguments(AttemptInSchema)
@blp.response(201, AttemptOutSchema)
@blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
@blp.alt_response(403, schema=ErrorSchema, description=NOT_ALLOWED_TO_STUDY)
@blp.alt_response(404, schema=ErrorSchema, description="Unknown course, a draft, or no quiz")
@blp.alt_response(409, schema=ErrorSchema, description="Already passed, or lessons incomplete")
@blp.alt_response(
    422, schema=ErrorSchema, description="Missing or extra answers, or foreign questions"
)
@blp.alt_response(
    422,
    schema=ErrorSchema,
    description="Missing or extra answers, or questions not in the open attempt",
)
@blp.alt_response(429, schema=ErrorSchema, description="Daily attempt limit reached")
def submit_attempt(payload: dict, slug: str) -> dict:
    """Score a quiz attempt on the server and record it; a pass may complete the course."""
    user = access.require_user(_user())
    course = visible_course(user, slug)
    answers = {a["question_id"]: a["choice_ids"] for a in payload["answers"]}
    result = quizzes.submit_attempt(user, course, answers)
    db.session.commit()
    quiz = quizzes.quiz_of(course)
    allowance = quizzes.attempt_allowance(result.attempt.enrollment, quiz)
    body = {
        "id": result.attempt.id,
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
    return body

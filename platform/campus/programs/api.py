"""Programs in the JSON API: what each published program requires, and the caller's progress."""

from __future__ import annotations

from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import fields
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from campus.api.spec import ResponseSchema
from campus.extensions import db
from campus.programs import issuing
from campus.programs.models import Program, ProgramCourse
from campus.programs.progress import Progress, progress
from campus.programs.standing import standing
from campus.urls import public_url

blp = Blueprint(
    "programs_api",
    __name__,
    description="Certification programs: requirements, and the signed-in member's progress",
)


class ProgramCourseSchema(ResponseSchema):
    slug = fields.String()
    title = fields.String()
    ce_hours = fields.Float()
    offered = fields.Boolean(
        metadata={
            "description": "Whether the course is open now; one closed since (its approval "
            "lapsed) stays listed, and hours completed in it still count"
        }
    )


class ProgramExamRulesSchema(ResponseSchema):
    questions = fields.Integer()
    time_limit_minutes = fields.Integer()
    pass_mark_percent = fields.Integer()
    attempts_allowed = fields.Integer()
    retake_wait_days = fields.Integer()
    domain_weights = fields.Dict(keys=fields.String(), values=fields.Integer())


class ProgramProgressSchema(ResponseSchema):
    status = fields.String(
        metadata={
            "description": "not eligible | in progress | complete | pending | valid | "
            "expired | revoked"
        }
    )
    eligible = fields.Boolean()
    eligibility_reasons = fields.List(fields.String())
    courses_done = fields.List(fields.String(), metadata={"description": "Slugs completed"})
    elective_hours = fields.Float()
    exam_passed = fields.Boolean()
    exam_attempts_used = fields.Integer()
    exam_attempts_left = fields.Integer(
        metadata={"description": "Attempts left (counted afresh once a credential lapsed)"}
    )
    exam_next_attempt_at = fields.DateTime(
        allow_none=True,
        metadata={"description": "When the retake wait ends; null when none is running"},
    )
    exam_open_sitting = fields.Boolean()
    renewal_pending = fields.Boolean(
        metadata={
            "description": "The credential has expired, but the next nightly renewal check "
            "renews it on the CE hours earned within its period, so no exam is needed: a new "
            "sitting is refused, though with one open already a start returns that sitting. "
            "False once no renewal check remains within the grace days"
        }
    )
    practical = fields.String(
        allow_none=True, metadata={"description": "submitted | passed | returned, or null"}
    )
    credential_code = fields.String(allow_none=True)
    credential_valid_until = fields.Date(allow_none=True)
    credential_given_up = fields.Boolean(
        metadata={
            "description": "true when the credential (status pending) failed to issue on every "
            "try and will not be tried again until the provider issues it again (contact the "
            "provider); false otherwise"
        }
    )


class ProgramSchema(ResponseSchema):
    slug = fields.String()
    title = fields.String()
    description = fields.String()
    standing = fields.String(
        metadata={"description": "Accredited by a named body, or the provider's own program"}
    )
    accrediting_body = fields.String(allow_none=True)
    professions = fields.List(fields.String())
    license_required = fields.Boolean()
    required_courses = fields.List(fields.Nested(ProgramCourseSchema))
    elective_courses = fields.List(fields.Nested(ProgramCourseSchema))
    elective_hours = fields.Float()
    exam = fields.Nested(ProgramExamRulesSchema)
    practical_required = fields.Boolean()
    practical_techniques = fields.List(fields.String())
    validity_months = fields.Integer()
    renewal_hours = fields.Float()
    url = fields.String()
    progress = fields.Nested(
        ProgramProgressSchema, allow_none=True, metadata={"description": "Null when not signed in"}
    )


class ProgramListSchema(ResponseSchema):
    programs = fields.List(fields.Nested(ProgramSchema))


def _course(course) -> dict:
    return {
        "slug": course.slug,
        "title": course.title,
        "ce_hours": float(course.ce_hours),
        "offered": course.is_published,
    }


def _progress(state: Progress) -> dict:
    credential = state.credential
    issued = credential is not None and credential.status in ("issued", "revoked")
    return {
        "status": state.status,
        "eligible": state.eligibility.ok,
        "eligibility_reasons": list(state.eligibility.reasons),
        "courses_done": [s.course.slug for s in state.required + state.electives if s.done],
        "elective_hours": float(state.elective_hours),
        "exam_passed": state.exam_passed,
        "exam_attempts_used": state.exam.used,
        "exam_attempts_left": state.exam.attempts_left,
        # A wait running after the last attempt opens nothing.
        "exam_next_attempt_at": state.exam.next_start_at if state.exam.attempts_left else None,
        "exam_open_sitting": state.exam.open_sitting is not None,
        "renewal_pending": issuing.awaiting_renewal(state),
        "practical": state.practical.status if state.practical else None,
        "credential_code": credential.code if issued and credential else None,
        "credential_valid_until": credential.valid_until if issued and credential else None,
        "credential_given_up": credential is not None and credential.given_up,
    }


def _as_dict(program: Program, state: Progress | None) -> dict:
    return {
        "slug": program.slug,
        "title": program.title,
        "description": program.description,
        "standing": standing(program),
        "accrediting_body": program.accrediting_body,
        "professions": list(program.professions or []),
        "license_required": program.license_required,
        "required_courses": [_course(c) for c in program.required_courses],
        "elective_courses": [_course(c) for c in program.elective_courses],
        "elective_hours": float(program.elective_hours or 0),
        "exam": {
            "questions": program.exam_question_count,
            "time_limit_minutes": program.exam_time_limit_minutes,
            "pass_mark_percent": program.exam_pass_mark,
            "attempts_allowed": program.exam_attempts_allowed,
            "retake_wait_days": program.exam_retake_wait_days,
            "domain_weights": dict(program.exam_domain_weights or {}),
        },
        "practical_required": program.practical_required,
        "practical_techniques": program.techniques,
        "validity_months": program.validity_months,
        "renewal_hours": float(program.renewal_hours or 0),
        "url": public_url("programs.detail", slug=program.slug),
        "progress": _progress(state) if state is not None else None,
    }


@blp.get("/programs")
@blp.response(200, ProgramListSchema)
def list_programs():
    """List the published programs with their requirements; with progress when signed in."""
    programs = db.session.scalars(
        select(Program)
        .where(Program.published.is_(True))
        .order_by(Program.title)
        .options(selectinload(Program.courses).selectinload(ProgramCourse.course))
    ).all()
    user = current_user._get_current_object() if current_user.is_authenticated else None
    body = {"programs": [_as_dict(p, progress(user, p) if user else None) for p in programs]}
    db.session.commit()  # an expired sitting may have been closed on the way
    return body

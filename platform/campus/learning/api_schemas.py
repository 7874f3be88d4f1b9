"""The JSON shapes of the course API: what it reads and what it answers."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from campus.accounts.models import PROFESSIONS
from campus.api.spec import ResponseSchema
from campus.integers import Id, QueryInteger
from campus.learning import catalog as course_catalog


class ApprovalSchema(ResponseSchema):
    board = fields.String()
    approval_number = fields.String()
    valid_from = fields.Date(
        allow_none=True,
        metadata={
            "description": "The board's first day (null: not recorded); a course completed "
            "before it was not approved"
        },
    )
    valid_until = fields.Date(
        allow_none=True, metadata={"description": "The last day in force (null: no end)"}
    )


class CourseSummarySchema(ResponseSchema):
    slug = fields.String()
    title = fields.String(metadata={"description": "The title as approved by the CE boards"})
    summary = fields.String()
    ce_hours = fields.Float()
    delivery_type = fields.String()
    level = fields.String()
    topic = fields.String()
    professions = fields.List(fields.String())
    approvals = fields.List(
        fields.Nested(ApprovalSchema),
        metadata={
            "description": "Board approvals in force today (as the catalog card): one lapsed "
            "or not started yet is printed on no certificate earned now"
        },
    )
    status = fields.String()
    url = fields.String()


class CatalogSchema(ResponseSchema):
    courses = fields.List(fields.Nested(CourseSummarySchema))
    total = fields.Integer()
    page = fields.Integer()
    pages = fields.Integer()


class CatalogArgsSchema(Schema):
    q = fields.String(load_default="", validate=validate.Length(max=100))
    profession = fields.String(
        load_default="",
        validate=validate.OneOf(["", *PROFESSIONS]),
        metadata={"description": "A profession key"},
    )
    topic = fields.String(load_default="", validate=validate.Length(max=80))
    hours = fields.String(
        load_default="", validate=validate.OneOf(["", *course_catalog.HOURS_FILTERS.keys()])
    )
    page = QueryInteger(load_default=1, validate=validate.Range(min=1, max=9999))


class LessonSchema(ResponseSchema):
    id = fields.Integer()
    title = fields.String()
    estimated_minutes = fields.Integer()
    completed = fields.Boolean()
    has_video = fields.Boolean(metadata={"description": "The lesson embeds a video"})
    has_transcript = fields.Boolean(
        metadata={"description": "The lesson's video has a text transcript (WCAG 1.2.x)"}
    )


class ModuleSchema(ResponseSchema):
    position = fields.Integer()
    title = fields.String()
    lessons = fields.List(fields.Nested(LessonSchema))


class ProgressSchema(ResponseSchema):
    done = fields.Integer()
    total = fields.Integer()
    percent = fields.Integer()


class EnrollmentSchema(ResponseSchema):
    id = fields.Integer()
    course = fields.String(metadata={"description": "The course slug"})
    course_title = fields.String(
        metadata={"description": "Once completed, the title completed (as its certificate prints)"}
    )
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


class ChoiceSchema(ResponseSchema):
    id = fields.Integer(
        metadata={
            "description": "Send it in choice_ids; the answers of a question added together "
            "get their ids in a random order, not the order written"
        }
    )
    text = fields.String()


class QuestionSchema(ResponseSchema):
    SOMETIMES = frozenset({"correct_choice_ids", "explanation"})

    id = fields.Integer()
    position = fields.Integer()
    kind = fields.String(metadata={"description": "single or multiple"})
    prompt = fields.String()
    choices = fields.List(fields.Nested(ChoiceSchema))
    # Only after the student has passed:
    correct_choice_ids = fields.List(fields.Integer())
    explanation = fields.String()


class QuizSchema(ResponseSchema):
    SOMETIMES = frozenset({"questions"})

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
    approvals = fields.List(
        fields.Nested(ApprovalSchema),
        metadata={
            "description": "Every board approval (as the course page), one not in force today "
            "included: its valid_until is before today, or its valid_from after"
        },
    )
    description_html = fields.String()
    objectives = fields.List(fields.String())
    presenters = fields.List(fields.String())
    presenter_bio = fields.String()
    modules = fields.List(fields.Nested(ModuleSchema))
    quiz = fields.Nested(QuizSchema, allow_none=True)
    enrollment = fields.Nested(EnrollmentSchema, allow_none=True)


class EnrollmentListSchema(ResponseSchema):
    enrollments = fields.List(fields.Nested(EnrollmentSchema))
    total_ce_hours_earned = fields.Float(
        metadata={
            "description": "Hours of completed courses; a revoked certificate's count nowhere"
        }
    )


class LessonCompletionSchema(ResponseSchema):
    lesson_id = fields.Integer()
    newly_completed = fields.Boolean(
        metadata={"description": "False when the lesson was already complete"}
    )
    course_completed = fields.Boolean(
        metadata={
            "description": "True when this lesson completed the course (every lesson done, the "
            "quiz passed); false when the course was complete already or is not yet"
        }
    )
    progress = fields.Nested(ProgressSchema)


class AnswerSchema(Schema):
    question_id = Id(required=True)
    choice_ids = fields.List(
        Id(),
        required=True,
        validate=validate.Length(min=1, max=50),
        metadata={"description": "The ids of the answers chosen, as the questions list them"},
    )


class AttemptInSchema(Schema):
    answers = fields.List(
        fields.Nested(AnswerSchema), required=True, validate=validate.Length(min=1, max=500)
    )
    attempt_id = Id(
        metadata={
            "description": "The `id` of the attempt answered, as POST or GET .../quiz/attempt "
            "gave it. With it the submission is safe to send again: once the attempt is scored, "
            "the same answers get its recorded result (200) and other answers a 409 "
            "(attempt_submitted); neither is a new attempt. Without it the answers go to the "
            "open attempt, or to one drawn now if none is open, so a submission sent again "
            "after its attempt was scored is taken as a new attempt."
        }
    )

    @validates_schema
    def _one_answer_per_question(self, data: dict, **_kwargs) -> None:
        ids = [a["question_id"] for a in data.get("answers", [])]
        if len(ids) != len(set(ids)):
            raise ValidationError("Each question may be answered once.", "answers")


class QuestionResultSchema(ResponseSchema):
    question_id = fields.Integer()
    correct = fields.Boolean()
    correct_choice_ids = fields.List(fields.Integer())
    explanation = fields.String()


class AttemptOutSchema(ResponseSchema):
    SOMETIMES = frozenset({"results", "revisit"})

    id = fields.Integer()
    attempt_id = fields.Integer(
        metadata={"description": "The attempt (as .../quiz/attempt named it) these answers scored"}
    )
    submitted_at = fields.DateTime()
    correct_count = fields.Integer()
    question_count = fields.Integer()
    score_percent = fields.Integer()
    pass_mark_percent = fields.Integer()
    passed = fields.Boolean()
    course_completed = fields.Boolean(
        metadata={
            "description": "True when this attempt's pass completed the course (every lesson "
            "done). The same submission sent again (200) answers as it was first answered: "
            "true for the pass that completed the course, though the request sent again "
            "completes nothing itself"
        }
    )
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

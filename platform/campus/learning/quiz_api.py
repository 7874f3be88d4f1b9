"""The frozen quiz attempt in the JSON API: start it, and read it back as it was drawn."""

from __future__ import annotations

from marshmallow import fields

from campus.api.spec import SIGNED_IN, ErrorSchema, ResponseSchema
from campus.extensions import db
from campus.learning import access, papers
from campus.learning import quiz as quizzes
from campus.learning.access import LearningError, visible_course
from campus.learning.api import (
    ATTEMPT_LIMITED,
    NOT_ALLOWED_TO_STUDY,
    QUIZ_NOT_OPEN,
    _user,
    blp,
)
from campus.learning.api_schemas import QuestionSchema
from campus.learning.models import Quiz, QuizPaper


class OpenAttemptSchema(ResponseSchema):
    id = fields.Integer(
        metadata={
            "description": "Send it as attempt_id with the answers: the submission is then "
            "safe to send again"
        }
    )
    started_at = fields.DateTime()
    question_count = fields.Integer()
    pass_mark_percent = fields.Integer()
    questions = fields.List(
        fields.Nested(QuestionSchema),
        metadata={"description": "The drawn questions and answers in their shuffled order"},
    )


def _attempt_dict(paper: QuizPaper, quiz: Quiz) -> dict:
    shown = papers.questions_of(paper)
    return {
        "id": paper.id,
        "started_at": paper.started_at,
        "question_count": len(shown),
        "pass_mark_percent": papers.pass_mark_of(paper, quiz),
        "questions": [papers.as_json(q, reveal=False) for q in shown],
    }


@blp.route("/courses/<slug>/quiz/attempt", methods=["POST"])
@blp.doc(security=SIGNED_IN)
@blp.response(200, OpenAttemptSchema)
@blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
@blp.alt_response(403, schema=ErrorSchema, description=NOT_ALLOWED_TO_STUDY)
@blp.alt_response(404, schema=ErrorSchema, description="Unknown course, a draft, or no quiz")
@blp.alt_response(409, schema=ErrorSchema, description=QUIZ_NOT_OPEN)
@blp.alt_response(429, schema=ErrorSchema, description=ATTEMPT_LIMITED)
def start_attempt(slug: str) -> dict:
    """Start a quiz attempt frozen now, or return the one already open."""
    user = access.require_user(_user())
    course = visible_course(user, slug)
    paper = quizzes.begin_attempt(user, course)
    db.session.commit()
    return _attempt_dict(paper, quizzes.quiz_of(course))


@blp.route("/courses/<slug>/quiz/attempt", methods=["GET"])
@blp.doc(security=SIGNED_IN)
@blp.response(200, OpenAttemptSchema)
@blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
@blp.alt_response(403, schema=ErrorSchema, description="Not enrolled, or membership lapsed")
@blp.alt_response(404, schema=ErrorSchema, description="No open attempt")
def open_attempt(slug: str) -> dict:
    """Show the open quiz attempt exactly as it was drawn."""
    user = access.require_user(_user())
    course = visible_course(user, slug)
    quiz = quizzes.quiz_of(course)
    # As the quiz page: a lapsed member's open attempt stays frozen, but unread until renewal.
    enrollment = access.enrollment_of(user, course.id)
    access.check_can_study(user, course, enrollment)
    paper = papers.open_paper(enrollment, quiz) if enrollment is not None else None
    if paper is None:
        raise LearningError(
            404, "no_open_attempt", "Start an attempt first (POST to this address)."
        )
    return _attempt_dict(paper, quiz)

"""Frozen quiz attempts: draw questions from the bank, shuffle them, and keep the draw.

An attempt is frozen the moment it starts: the questions drawn, their order, the order of each
question's answers and the key are copied into a `QuizPaper`. Scoring, the review after a pass,
the objectives to revisit after a fail and any later dispute all read that copy, so editing the
bank afterwards changes nothing about an attempt already started.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from campus.extensions import db
from campus.learning.models import Choice, Enrollment, Question, Quiz, QuizAttempt, QuizPaper
from campus.models.base import utcnow

# Draws and shuffles come from the operating system's generator: nobody can predict them.
_SYSTEM_RANDOM = random.SystemRandom()
NO_OBJECTIVE = "The course as a whole"


@event.listens_for(Session, "before_flush")
def _insert_answers_in_random_order(session: Session, _context, _instances) -> None:
    """Give new answers their ids in a random order, whoever adds them (admin, importer, seed)."""
    # An answer's id is its value on the quiz page and in the API, and ids follow the order
    # rows are inserted: in the order written they would tell which answer the author wrote
    # first (often the right one) however the paper is shuffled. `position` keeps that order.
    fresh = [obj for obj in session.new if isinstance(obj, Choice)]
    if len(fresh) < 2:
        return
    # The session inserts a table's new rows in the order they were added to it.
    for choice in fresh:
        session.expunge(choice)
    _SYSTEM_RANDOM.shuffle(fresh)
    session.add_all(fresh)


@dataclass(frozen=True)
class PaperChoice:
    """An answer as it was shown, in its shuffled place."""

    id: int
    text: str
    is_correct: bool


@dataclass(frozen=True)
class PaperQuestion:
    """A drawn question as it was shown; `position` is its number on this paper."""

    id: int
    position: int
    kind: str
    prompt: str
    objective: str
    explanation: str
    choices: tuple[PaperChoice, ...]


def draw_layout(quiz: Quiz, rng: random.Random | None = None) -> list[dict]:
    """Draw the quiz's questions spread over its objectives; shuffle questions and answers."""
    rng = rng or _SYSTEM_RANDOM
    groups: dict[str, list[Question]] = {}
    for question in quiz.questions:
        groups.setdefault(question.objective, []).append(question)
    pools = list(groups.values())
    for pool in pools:
        rng.shuffle(pool)
    rng.shuffle(pools)
    # Take one question from each objective in turn so a short draw still covers them all.
    picked: list[Question] = []
    wanted = quiz.drawn_count()
    while len(picked) < wanted:
        for pool in pools:
            if pool and len(picked) < wanted:
                picked.append(pool.pop())
    rng.shuffle(picked)
    return [_frozen(question, rng) for question in picked]


def _frozen(question: Question, rng: random.Random) -> dict:
    choices = list(question.choices)
    rng.shuffle(choices)
    return {
        "id": question.id,
        "kind": question.kind,
        "prompt": question.prompt,
        "objective": question.objective,
        "explanation": question.explanation,
        "choices": [{"id": c.id, "text": c.text, "correct": c.is_correct} for c in choices],
    }


def questions_of(paper: QuizPaper) -> list[PaperQuestion]:
    """Read a paper's frozen questions in the order the student saw them."""
    return [
        PaperQuestion(
            id=item["id"],
            position=number,
            kind=item["kind"],
            prompt=item["prompt"],
            objective=item.get("objective", ""),
            explanation=item.get("explanation", ""),
            choices=tuple(
                PaperChoice(c["id"], c["text"], bool(c["correct"])) for c in item["choices"]
            ),
        )
        for number, item in enumerate(paper.layout, start=1)
    ]


def open_paper(enrollment: Enrollment, quiz: Quiz) -> QuizPaper | None:
    """The enrollment's started, unsubmitted attempt at this quiz, if any."""
    return db.session.scalar(
        select(QuizPaper)
        .where(
            QuizPaper.enrollment_id == enrollment.id,
            QuizPaper.quiz_id == quiz.id,
            QuizPaper.submitted_at.is_(None),
        )
        .order_by(QuizPaper.id.desc())
        .limit(1)
    )


def start_paper(
    enrollment: Enrollment, quiz: Quiz, now: datetime | None = None, rng=None
) -> QuizPaper:
    """Return the open attempt, or freeze a new draw; the caller holds the enrollment lock."""
    paper = open_paper(enrollment, quiz)
    if paper is None:
        paper = QuizPaper(
            enrollment_id=enrollment.id,
            quiz_id=quiz.id,
            started_at=now or utcnow(),
            layout=draw_layout(quiz, rng),
            pass_mark_percent=quiz.pass_mark_percent,
        )
        db.session.add(paper)
        db.session.flush()
    return paper


def pass_mark_of(paper: QuizPaper, quiz: Quiz) -> int:
    """The pass mark an attempt is held to: the one it started with."""
    return quiz.pass_mark_percent if paper.pass_mark_percent is None else paper.pass_mark_percent


def objectives_to_revisit(attempt: QuizAttempt) -> list[str]:
    """Name the objectives of the questions a failed attempt missed, never the answers."""
    if attempt.passed or attempt.paper is None:
        return []
    missed: list[str] = []
    for question in questions_of(attempt.paper):
        key = sorted(c.id for c in question.choices if c.is_correct)
        if sorted(attempt.answers.get(str(question.id), [])) != key:
            name = question.objective or NO_OBJECTIVE
            if name not in missed:
                missed.append(name)
    return missed


def as_json(question: PaperQuestion | Question, reveal: bool) -> dict:
    """Describe a question for the API in its shown order; the key and explanation on reveal."""
    item = {
        "id": question.id,
        "position": question.position,
        "kind": question.kind,
        "prompt": question.prompt,
        "choices": [{"id": c.id, "text": c.text} for c in question.choices],
    }
    if reveal:
        item["correct_choice_ids"] = [c.id for c in question.choices if c.is_correct]
        item["explanation"] = question.explanation
    return item


def questions_shown(quiz: Quiz, enrollment: Enrollment | None, preview: bool) -> list[dict]:
    """The questions a reader sees: the passed attempt with its key, the open one, or none.

    An admin previewing without an enrollment sees the whole bank, without the key.
    """
    if preview:
        return [as_json(q, reveal=False) for q in quiz.questions]
    if enrollment is None:
        return []
    passed = db.session.scalar(
        select(QuizAttempt)
        .where(QuizAttempt.enrollment_id == enrollment.id, QuizAttempt.passed.is_(True))
        .order_by(QuizAttempt.submitted_at)
        .limit(1)
    )
    if passed is not None:
        shown = questions_of(passed.paper) if passed.paper else quiz.questions
        return [as_json(q, reveal=True) for q in shown]
    paper = open_paper(enrollment, quiz)
    return [as_json(q, reveal=False) for q in questions_of(paper)] if paper else []

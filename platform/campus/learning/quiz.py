"""The final quiz: allowances, validation, scoring, and the one write path of an attempt."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from campus.accounts.models import User
from campus.extensions import db
from campus.learning import papers, seattime, study_log
from campus.learning.access import (
    EnrollmentFacts,
    LearningError,
    check_can_study,
    require_signed_in,
)
from campus.learning.models import (
    Course,
    Enrollment,
    Question,
    Quiz,
    QuizAttempt,
    QuizPaper,
)
from campus.learning.papers import PaperQuestion
from campus.learning.progress import maybe_complete, outline
from campus.models.base import utcnow
from campus.models.writes import lock_row
from campus.templating import counted, format_date

PARTIAL_CREDIT_RULE = (
    "Each question is worth one point. A multiple-answer question earns its point only when "
    "you select exactly the correct answers, no more and no fewer; there is no partial credit."
)
ATTEMPT_WINDOW = timedelta(hours=24)


def quiz_of(course: Course) -> Quiz:
    """Load a course's quiz with questions and choices, or raise 404."""
    quiz = db.session.scalar(
        select(Quiz)
        .where(Quiz.course_id == course.id)
        .options(selectinload(Quiz.questions).selectinload(Question.choices))
    )
    if quiz is None or not quiz.questions:
        raise LearningError(404, "no_quiz", "This course has no quiz yet.")
    return quiz


@dataclass(frozen=True)
class AttemptAllowance:
    """How many attempts remain in the current 24-hour window and when the next one opens."""

    limit: int
    used: int
    next_at: datetime | None

    @property
    def remaining(self) -> int:
        return max(self.limit - self.used, 0)


def attempt_allowance(
    enrollment: Enrollment | EnrollmentFacts, quiz: Quiz, now: datetime | None = None
):
    """Count the attempts made in the last 24 hours against the quiz's daily limit."""
    now = now or utcnow()
    times = db.session.scalars(
        select(QuizAttempt.submitted_at)
        .where(
            QuizAttempt.enrollment_id == enrollment.id,
            QuizAttempt.quiz_id == quiz.id,
            QuizAttempt.submitted_at > now - ATTEMPT_WINDOW,
        )
        .order_by(QuizAttempt.submitted_at)
    ).all()
    next_at = None
    if len(times) >= quiz.attempts_per_day:
        next_at = times[len(times) - quiz.attempts_per_day] + ATTEMPT_WINDOW
    return AttemptAllowance(quiz.attempts_per_day, len(times), next_at)


AttemptQuestions = Sequence[Question] | Sequence[PaperQuestion]


def validate_answers(
    quiz: Quiz, raw: Mapping[int, Iterable[int]], questions: AttemptQuestions | None = None
) -> dict[int, frozenset[int]]:
    """Check a submission covers every question of the attempt with valid choices, nothing else.

    `questions` are the attempt's frozen questions (the whole quiz when omitted). Raises 422
    naming each problem: a question not in the attempt, a missing answer, a choice that does
    not belong to its question, or more than one choice on a single-answer question.
    """
    questions = quiz.questions if questions is None else questions
    by_id = {q.id: q for q in questions}
    problems: list[str] = []
    answers: dict[int, frozenset[int]] = {}
    for question_id, choice_ids in raw.items():
        question = by_id.get(question_id)
        if question is None:
            problems.append(f"Question {question_id} is not part of this attempt.")
            continue
        chosen = list(choice_ids)
        valid = {c.id for c in question.choices}
        if len(set(chosen)) != len(chosen):
            problems.append(f"Question {question.position}: a choice was sent twice.")
        if any(c not in valid for c in chosen):
            problems.append(f"Question {question.position}: a choice does not belong to it.")
        if not chosen:
            problems.append(f"Question {question.position} has no answer.")
        elif question.kind == "single" and len(set(chosen)) > 1:
            problems.append(f"Question {question.position} takes exactly one answer.")
        answers[question_id] = frozenset(chosen)
    for question in questions:
        if question.id not in raw:
            problems.append(f"Question {question.position} has no answer.")
    if problems:
        raise LearningError(
            422, "invalid_answers", "Answer every question of this attempt.", problems=problems
        )
    return answers


@dataclass(frozen=True)
class Score:
    """A scored submission."""

    correct: int
    total: int
    pass_mark_percent: int
    question_correct: dict[int, bool]

    @property
    def percent(self) -> int:
        return math.floor(100 * self.correct / self.total) if self.total else 0

    @property
    def passed(self) -> bool:
        # Compare exact fractions, not the rounded-down percent shown to the student.
        return self.correct * 100 >= self.pass_mark_percent * self.total


def score(
    quiz: Quiz,
    answers: Mapping[int, frozenset[int]],
    questions: AttemptQuestions | None = None,
    pass_mark: int | None = None,
) -> Score:
    """Score validated answers by PARTIAL_CREDIT_RULE: a point only for exactly the right set.

    `pass_mark` is the attempt's own (the quiz's today when omitted).
    """
    questions = quiz.questions if questions is None else questions
    verdicts = {}
    for question in questions:
        key = frozenset(c.id for c in question.choices if c.is_correct)
        verdicts[question.id] = answers.get(question.id) == key
    mark = quiz.pass_mark_percent if pass_mark is None else pass_mark
    return Score(sum(verdicts.values()), len(questions), mark, verdicts)


def passed_attempt(enrollment: Enrollment | EnrollmentFacts | None) -> QuizAttempt | None:
    """The enrollment's first passing attempt, if any."""
    if enrollment is None:
        return None
    return db.session.scalar(
        select(QuizAttempt)
        .where(QuizAttempt.enrollment_id == enrollment.id, QuizAttempt.passed.is_(True))
        .order_by(QuizAttempt.submitted_at)
        .limit(1)
    )


def _lock(enrollment: Enrollment | EnrollmentFacts) -> Enrollment:
    # Serialize a student's concurrent submissions so the daily limit cannot be raced past.
    # A double click's second post waits, then reads the attempt the first one scored.
    lock_row(Enrollment, enrollment.id)
    return db.session.scalars(
        select(Enrollment)
        .where(Enrollment.id == enrollment.id)
        .execution_options(populate_existing=True)
    ).one()


@dataclass(frozen=True)
class AttemptResult:
    """A recorded attempt with its score and whether it completed the course."""

    attempt: QuizAttempt
    score: Score
    course_completed: bool
    replayed: bool = False  # the attempt was recorded by an earlier sending of this submission


def _locked_enrollment(user: User, course: Course) -> Enrollment:
    # Who may take the quiz at all; locks the enrollment.
    require_signed_in(user)
    if not course.is_published:
        raise LearningError(404, "not_found", "There is no course at that address.")
    study = check_can_study(user, course)
    if study.enrollment is None:
        raise LearningError(403, "not_enrolled", "Enroll in this course to take its quiz.")
    return _lock(study.enrollment)


def _open_to(user: User, course: Course) -> tuple[Enrollment, Quiz]:
    # The checks shared by starting and submitting an attempt; locks the enrollment.
    enrollment = _locked_enrollment(user, course)
    return enrollment, _open_quiz(enrollment, course)


def _open_quiz(enrollment: Enrollment, course: Course) -> Quiz:
    # Whether the locked enrollment may take a new attempt now.
    quiz = quiz_of(course)
    if passed_attempt(enrollment) is not None:
        raise LearningError(409, "already_passed", "You have already passed this quiz.")
    plan = outline(course, enrollment)
    if not plan.all_done:
        raise LearningError(
            409,
            "lessons_incomplete",
            f"Complete every lesson before the quiz ({plan.done} of {plan.total} done).",
        )
    seattime.check_quiz_open(enrollment, course)
    return quiz


def _check_allowance(enrollment: Enrollment, quiz: Quiz, now: datetime) -> None:
    allowance = attempt_allowance(enrollment, quiz, now)
    if allowance.remaining == 0:
        raise LearningError(
            429,
            "attempt_limit",
            f"You have used the {counted(quiz.attempts_per_day, 'attempt')} allowed in 24 hours. "
            f"You can try again after {format_date(allowance.next_at, '%B %-d at %H:%M %Z')}.",
            retry_at=allowance.next_at.isoformat(),
        )


def begin_attempt(user: User, course: Course, now: datetime | None = None) -> QuizPaper:
    """Return the student's open attempt, or freeze a new draw of the bank if they may take one."""
    enrollment, quiz = _open_to(user, course)
    now = now or utcnow()
    existing = papers.open_paper(enrollment, quiz)
    if existing is not None:
        return existing
    _check_allowance(enrollment, quiz, now)
    return papers.start_paper(enrollment, quiz, now)


def submit_attempt(
    user: User,
    course: Course,
    raw_answers: Mapping[int, Iterable[int]],
    now: datetime | None = None,
    paper_id: int | None = None,
) -> AttemptResult:
    """Validate, limit, score and record answers to the open attempt; a pass may complete.

    Answers are checked against the attempt frozen when it started; without an open attempt
    one is drawn now, so the answers must match that draw. A client that names the attempt it
    answers (`paper_id`) may send it again: once scored, the same answers get the recorded
    result back (`replayed`), other answers a 409, and neither counts as a new attempt.
    """
    enrollment = _locked_enrollment(user, course)
    now = now or utcnow()
    if paper_id is None:
        quiz = _open_quiz(enrollment, course)
        paper = papers.start_paper(enrollment, quiz, now)
    else:
        quiz = quiz_of(course)
        paper = _named_paper(enrollment, quiz, paper_id)
        if paper.submitted_at is not None:
            # Read under the enrollment lock: a double click's second post waits for the
            # first, then finds the attempt it recorded.
            return _recorded(enrollment, quiz, paper, raw_answers)
        _open_quiz(enrollment, course)
    questions = papers.questions_of(paper)
    answers = validate_answers(quiz, raw_answers, questions)
    _check_allowance(enrollment, quiz, now)
    result = score(quiz, answers, questions, papers.pass_mark_of(paper, quiz))
    paper.submitted_at = now
    attempt = QuizAttempt(
        enrollment_id=enrollment.id,
        quiz_id=quiz.id,
        submitted_at=now,
        answers=_as_stored(answers),
        correct_count=result.correct,
        question_count=result.total,
        score_percent=result.percent,
        pass_mark_percent=result.pass_mark_percent,
        passed=result.passed,
        paper_id=paper.id,
    )
    db.session.add(attempt)
    enrollment.last_activity_at = now
    db.session.flush()
    study_log.quiz_attempted(enrollment, attempt, paper, user)
    completed = maybe_complete(enrollment) if result.passed else False
    return AttemptResult(attempt, result, completed)


def _as_stored(answers: Mapping[int, Iterable[int]]) -> dict[str, list[int]]:
    return {str(q): sorted(c) for q, c in sorted(answers.items())}


def _named_paper(enrollment: Enrollment, quiz: Quiz, paper_id: int) -> QuizPaper:
    # Only the student's own attempts at this quiz: another's id tells nothing about it.
    paper = db.session.get(QuizPaper, paper_id, populate_existing=True)
    if paper is None or paper.enrollment_id != enrollment.id or paper.quiz_id != quiz.id:
        # Or the quiz was replaced since the page was opened: the student opens it again.
        raise LearningError(
            422,
            "unknown_attempt",
            "That attempt is not one of yours at this quiz, or the quiz has changed since it "
            "was opened: open the quiz again.",
        )
    return paper


def _recorded(
    enrollment: Enrollment, quiz: Quiz, paper: QuizPaper, raw: Mapping[int, Iterable[int]]
) -> AttemptResult:
    # The result of a submitted paper, for a submission sent again with the same answers.
    attempt = db.session.scalar(select(QuizAttempt).where(QuizAttempt.paper_id == paper.id))
    if attempt is None or attempt.answers != _as_stored(raw):
        raise LearningError(
            409, "attempt_submitted", "This attempt was submitted already, with other answers."
        )
    questions = papers.questions_of(paper)
    stored = {int(q): frozenset(c) for q, c in attempt.answers.items()}
    result = score(quiz, stored, questions, attempt.pass_mark_percent)
    # Passing completes the course there and then (every lesson is done before the quiz).
    completed = attempt.passed and enrollment.completed_at is not None
    return AttemptResult(attempt, result, completed, replayed=True)


def attempts_of(enrollment: Enrollment | EnrollmentFacts) -> list[QuizAttempt]:
    """Every attempt of an enrollment, newest first."""
    return list(
        db.session.scalars(
            select(QuizAttempt)
            .where(QuizAttempt.enrollment_id == enrollment.id)
            .order_by(QuizAttempt.submitted_at.desc(), QuizAttempt.id.desc())
        )
    )

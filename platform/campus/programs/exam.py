"""The certification exam: a paper drawn by domain weights, frozen, timed by the server.

A sitting is frozen when it starts: the questions drawn, their order, each question's answer
order and the key are copied into its `layout`. The deadline is `started_at + time limit`,
kept on the server; answers that arrive after it are refused, and a sitting left open past it
(a closed tab, a lost connection) is scored on what was saved by the first request or the beat
task that notices.

A holder whose credential expired earns it again by passing the exam again: from the day after
the expiry the exam counts afresh (its attempts, its retake wait and its pass).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import cast

from flask import current_app
from sqlalchemy import CursorResult, select, update
from sqlalchemy.exc import IntegrityError

from campus import dates
from campus.accounts.models import User
from campus.audit import record
from campus.extensions import db
from campus.jobs import enqueue_after_commit
from campus.models.base import utcnow
from campus.models.writes import lock_row
from campus.programs import attempts
from campus.programs.models import Credential, ExamQuestion, ExamSitting, Program
from campus.templating import format_date

ISSUE_TASK = "campus.programs.issue_credential"
# Draws and shuffles come from the operating system's generator: nobody can predict them.
_SYSTEM_RANDOM = random.SystemRandom()


class ExamError(Exception):
    """The exam cannot be started or answered now; the message says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class AnswerError(ExamError):
    """An answer that is not one of the paper's (or not an answer at all): the request is wrong,
    not the moment."""


def domain_counts(weights: dict[str, float], total: int) -> dict[str, int]:
    """Split `total` questions over domains in proportion to their weights (largest remainder)."""
    positive = {d: float(w) for d, w in weights.items() if float(w) > 0}
    weight_sum = sum(positive.values())
    if not positive or total <= 0:
        return {}
    exact = {d: total * w / weight_sum for d, w in positive.items()}
    counts = {d: math.floor(share) for d, share in exact.items()}
    left = total - sum(counts.values())
    # Ties go to the domain named first, so the split is the same on every draw.
    order = sorted(positive, key=lambda d: (-(exact[d] - counts[d]), list(positive).index(d)))
    for domain in order[:left]:
        counts[domain] += 1
    return counts


def bank_shortfall(
    program: Program, leaving: ExamQuestion | None = None, domain: str | None = None
) -> list[str]:
    """Name the domains (or only `domain`) whose bank holds fewer questions than the paper draws
    from them, and by how many; without `leaving`, a question about to be deleted."""
    have: dict[str, int] = {}
    for question in program.questions:
        # A question an admin's form just moved to another program still sits in this list.
        if question is leaving or question.program is not program:
            continue
        have[question.domain] = have.get(question.domain, 0) + 1
    wanted = domain_counts(program.exam_domain_weights or {}, program.exam_question_count or 0)
    short = []
    for name, count in wanted.items():
        missing = count - have.get(name, 0)
        if missing > 0 and domain in (None, name):
            noun = "question" if missing == 1 else "questions"
            short.append(
                f"{name}: {missing} {noun} short ({count} drawn, {have.get(name, 0)} in the bank)"
            )
    return short


def draw_layout(program: Program, rng: random.Random | None = None) -> list[dict]:
    """Draw the paper by the program's domain weights; shuffle the questions and their answers."""
    rng = rng or _SYSTEM_RANDOM
    short = bank_shortfall(program)
    if short:
        raise ExamError("The exam bank is not complete yet (" + "; ".join(short) + ").")
    pools: dict[str, list[ExamQuestion]] = {}
    for question in program.questions:
        pools.setdefault(question.domain, []).append(question)
    picked: list[ExamQuestion] = []
    for domain, count in domain_counts(
        program.exam_domain_weights, program.exam_question_count
    ).items():
        # A domain whose small weight rounds to no question may have none in the bank yet.
        picked.extend(rng.sample(pools.get(domain, []), count))
    rng.shuffle(picked)
    layout = []
    for question in picked:
        choices = [dict(c) for c in question.choices]
        rng.shuffle(choices)
        # Numbered in the order shown, not by their place in the bank: authors tend to write the
        # right answer first, so a bank number in the form's values would give the key away.
        layout.append(
            {
                "id": question.id,
                "domain": question.domain,
                "prompt": question.prompt,
                "explanation": question.explanation,
                "choices": [
                    {"id": shown, "text": c["text"], "correct": bool(c["correct"])}
                    for shown, c in enumerate(choices, start=1)
                ],
            }
        )
    return layout


# --- the state of a candidate's sittings ------------------------------------------------------


def sittings_of(user: User, program: Program) -> list[ExamSitting]:
    """The candidate's sittings of this program's exam, oldest first."""
    return list(
        db.session.scalars(
            select(ExamSitting)
            .where(ExamSitting.user_id == user.id, ExamSitting.program_id == program.id)
            .order_by(ExamSitting.number)
        )
    )


def latest_credential(user_id: int, program_id: int) -> Credential | None:
    """The holder's credential of the latest period for the program."""
    return db.session.scalar(
        select(Credential)
        .where(Credential.user_id == user_id, Credential.program_id == program_id)
        .order_by(Credential.period.desc())
        .limit(1)
    )


def lapsed_at(credential: Credential | None, now: datetime) -> datetime | None:
    """When a holder's latest credential lapsed (the day after its expiry), or None."""
    # A revoked credential is not earned again by retaking the exam: that is the admin's call.
    if (
        credential is None
        or credential.status != "issued"
        or dates.local_date(now) <= credential.valid_until
    ):
        return None
    return dates.day_start(credential.valid_until + timedelta(days=1))


@dataclass(frozen=True)
class ExamState:
    """Where a candidate stands with the exam (since their credential lapsed, if it did)."""

    sittings: list[ExamSitting]
    open_sitting: ExamSitting | None
    passed: ExamSitting | None
    used: int
    allowed: int
    next_start_at: datetime | None  # the retake wait, when one is running
    last_number: int = 0  # of every sitting, lapsed or not: the next one is numbered after it
    lapsed_at: datetime | None = None
    credential: Credential | None = None  # the latest period's, which decides the lapse
    numbers: dict[int, int] = field(default_factory=dict)  # sitting id: attempt in its period

    @property
    def attempts_left(self) -> int:
        return max(self.allowed - self.used, 0)

    @property
    def used_up(self) -> str:
        """Say how many attempts were used, true also after an admin lowered the limit."""
        if self.used > self.allowed:
            return f"{self.used} attempts at this exam, and it now allows {self.allowed}"
        return (
            "your 1 attempt at this exam"
            if self.allowed == 1
            else (f"all {self.allowed} attempts at this exam")
        )


def _on_the_minute(moment: datetime) -> datetime:
    """Round a moment up to the next whole minute (one already whole stays)."""
    # Pages and refusals give the retake's opening to the minute ("at 13:01"): a wait running
    # to the second would refuse a start made at the minute they gave.
    whole = moment.replace(second=0, microsecond=0)
    return whole if whole == moment else whole + timedelta(minutes=1)


def state(user: User, program: Program, now: datetime | None = None) -> ExamState:
    """Close the candidate's expired sitting, then say where they stand."""
    now = now or utcnow()
    every = sittings_of(user, program)
    for sitting in every:
        if sitting.is_open and sitting.deadline_at <= now:
            expire(sitting)
    credential = latest_credential(user.id, program.id)
    since = lapsed_at(credential, now)
    sittings = [s for s in every if since is None or s.started_at >= since]
    open_sitting = next((s for s in sittings if s.is_open), None)
    passed = next((s for s in sittings if s.passed), None)
    closed = [s for s in sittings if not s.is_open]
    next_start = None
    if closed and passed is None:
        last = max(closed, key=lambda s: s.closed_at or s.started_at)
        wait_until = (last.closed_at or last.started_at) + timedelta(
            days=program.exam_retake_wait_days
        )
        if program.exam_retake_wait_days:  # with none, a retake starts as soon as one ends
            wait_until = _on_the_minute(wait_until)
        if wait_until > now:
            next_start = wait_until
    return ExamState(
        sittings=sittings,
        open_sitting=open_sitting,
        passed=passed,
        used=len(sittings),
        allowed=program.exam_attempts_allowed,
        next_start_at=next_start,
        last_number=max((s.number for s in every), default=0),
        lapsed_at=since,
        credential=credential,
        numbers=attempts.attempt_numbers(every, attempts.period_starts(user.id, program.id)),
    )


def start(
    user: User, program: Program, now: datetime | None = None, rng: random.Random | None = None
) -> tuple[ExamSitting, bool]:
    """Return the open sitting, or freeze a new paper once the rules allow one; and whether
    this call started it.

    The caller checks eligibility and the required courses. Two starts at once compute the same
    sitting number; the unique (user, program, number) lets one win and the other get its paper.
    """
    now = now or utcnow()
    current = state(user, program, now)
    if current.open_sitting is not None:
        return current.open_sitting, False
    if current.passed is not None:
        raise ExamError("You have passed this exam already.")
    if current.attempts_left <= 0:
        # No attempt opens again by itself: the provider, who may allow more, is the next step.
        raise ExamError(
            f"You have used {current.used_up}. To ask for another attempt, write to "
            f"{current_app.config['PROVIDER_EMAIL']}."
        )
    if current.next_start_at is not None:
        opens = format_date(current.next_start_at, "%B %-d, %Y at %H:%M %Z")
        raise ExamError(f"You can retake the exam from {opens}.")
    layout = draw_layout(program, rng)
    # Numbered from what `state` read: a start that raced another one either saw its sitting
    # (and returned it above) or picks the same number and loses the unique insert below.
    number = current.last_number + 1
    sitting = ExamSitting(
        program_id=program.id,
        user_id=user.id,
        number=number,
        started_at=now,
        deadline_at=now + timedelta(minutes=program.exam_time_limit_minutes),
        layout=layout,
        answers={},
        pass_mark=program.exam_pass_mark,
    )
    try:
        with db.session.begin_nested():
            db.session.add(sitting)
    except IntegrityError:
        existing = db.session.scalar(
            select(ExamSitting).where(
                ExamSitting.user_id == user.id,
                ExamSitting.program_id == program.id,
                ExamSitting.number == number,
            )
        )
        if existing is None or not existing.is_open:
            raise ExamError("Another sitting was started at the same moment.") from None
        return existing, False  # the winner's: its start is logged once, by the winner
    return sitting, True


def _checked_answer(sitting: ExamSitting, question_id: int, choice_id: int) -> None:
    for item in sitting.layout:
        if item["id"] == question_id:
            if any(c["id"] == choice_id for c in item["choices"]):
                return
            raise AnswerError("That answer is not one of the question's choices.")
    raise AnswerError("That question is not on your paper.")


def save_answers(
    sitting: ExamSitting, answers: dict[int, int], now: datetime | None = None
) -> None:
    """Keep answers given before the deadline; refuse them (and close the sitting) after it."""
    now = now or utcnow()
    # Read again under the row lock: an autosave that read the sitting open while a submission
    # closed it would otherwise write its answers over those the sitting was scored on.
    lock_row(ExamSitting, sitting.id)
    db.session.refresh(sitting)
    if not sitting.is_open:
        raise ExamError("This sitting is closed.")
    if now >= sitting.deadline_at:
        # Closed as the sweep would close it: audited, and a pass still earns the credential.
        expire(sitting)
        raise ExamError("Time is up: answers after the deadline are not accepted.")
    for question_id, choice_id in answers.items():
        _checked_answer(sitting, question_id, choice_id)
    merged = dict(sitting.answers)
    merged.update({str(q): c for q, c in answers.items()})
    sitting.answers = merged  # a new dict, so the JSON column is written


def submit(sitting: ExamSitting, answers: dict[int, int], now: datetime | None = None) -> bool:
    """Save the last answers (before the deadline only) and score the sitting.

    Return False when the sitting was submitted already with these same answers: a double
    click, or a submission sent again after its answer was lost, is shown the result it got.
    """
    now = now or utcnow()
    try:
        save_answers(sitting, answers, now)
    except ExamError:
        # Read under save_answers' row lock: a second post at once waits for the first.
        # Only the whole same sheet: an empty or partial post is not the submission sent again.
        if sitting.closed_reason == "submitted" and sitting.answers == {
            str(q): c for q, c in answers.items()
        }:
            return False
        raise
    if not close(sitting, "submitted", now):
        raise ExamError("This sitting is closed.")  # closed at its deadline a moment ago
    return True


def score(sitting: ExamSitting) -> tuple[int, int]:
    """Count the right answers on the frozen paper: (right, questions)."""
    right = 0
    for item in sitting.layout:
        chosen = sitting.answers.get(str(item["id"]))
        key = next((c["id"] for c in item["choices"] if c["correct"]), None)
        if chosen is not None and chosen == key:
            right += 1
    return right, len(sitting.layout)


def close(sitting: ExamSitting, reason: str, now: datetime | None = None) -> bool:
    """Close an open sitting and score it on the answers it holds; False if it was closed.

    A late autosave, the page, a submission and the beat task may all find a sitting open at
    its deadline at once: one conditional UPDATE closes it, so only one of them audits the
    close and queues the credential.
    """
    if not sitting.is_open:
        return False
    right, total = score(sitting)
    # Shown rounded down, and passed on the exact fraction, as course quizzes are: 38 of 51
    # (74.5 %) is not a pass at 75 %, and is not shown as 75 % either.
    percent = 100 * right // total if total else 0
    claimed = db.session.execute(
        update(ExamSitting)
        .where(ExamSitting.id == sitting.id, ExamSitting.closed_at.is_(None))
        .values(
            # An expired sitting ended at its deadline, whenever it was noticed.
            closed_at=sitting.deadline_at if reason == "expired" else (now or utcnow()),
            closed_reason=reason,
            score_percent=percent,
            passed=total > 0 and right * 100 >= sitting.pass_mark * total,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(sitting)
    return cast(CursorResult, claimed).rowcount == 1


def expire(sitting: ExamSitting) -> bool:
    """Close a sitting whose deadline passed, audit it, and queue the credential on a pass."""
    # Scored on the answers as they stand under the row lock: one saved just before the
    # deadline, while this sitting was being read, counts.
    lock_row(ExamSitting, sitting.id)
    db.session.refresh(sitting)
    if not close(sitting, "expired"):
        return False
    record(
        "program_exam_expire",
        sitting,
        summary=f"sitting {sitting.number} of {sitting.program.title} closed at its deadline "
        f"with {sitting.score_percent}%",
        system=True,  # the candidate's page may notice it first; the deadline closed it
    )
    if sitting.passed:
        enqueue_after_commit(ISSUE_TASK, sitting.user_id, sitting.program_id)
    return True


def expired_sitting_ids(now: datetime | None = None) -> list[int]:
    """The open sittings whose deadline has passed."""
    return list(
        db.session.scalars(
            select(ExamSitting.id).where(
                ExamSitting.closed_at.is_(None), ExamSitting.deadline_at <= (now or utcnow())
            )
        )
    )


def choices_from(answers: list[str], label: str) -> list[dict]:
    """Read answers (the right one starting with *) into a question's stored choices.

    Raise ValueError saying which answer is wrong, named "`label` N": a candidate reads the
    answers only, so a blank one, or two alike, cannot be told apart.
    """
    choices = [
        {"id": n, "text": text.lstrip("*").strip()[:500], "correct": text.startswith("*")}
        for n, text in enumerate(answers, start=1)
    ]
    seen: set[str] = set()
    for choice in choices:
        text = str(choice["text"])
        if not text:
            raise ValueError(f"{label} {choice['id']}: an answer needs its text.")
        if text.casefold() in seen:
            raise ValueError(f"{label} {choice['id']}: the answer {text!r} is given twice.")
        seen.add(text.casefold())
    if len(choices) < 2:
        raise ValueError("Give at least two answers.")
    if sum(1 for c in choices if c["correct"]) != 1:
        raise ValueError("Mark exactly one answer as right by starting it with *.")
    return choices

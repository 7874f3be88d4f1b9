"""A candidate's progress through a program: courses, elective hours, exam, practical, status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select

from campus import dates
from campus.accounts.models import User
from campus.extensions import db
from campus.learning import credit
from campus.learning.models import Course, Enrollment
from campus.programs import exam
from campus.programs.eligibility import Eligibility, eligibility
from campus.programs.models import Credential, PracticalSubmission, Program


@dataclass(frozen=True)
class CourseStep:
    """A course of the program and whether the candidate has completed it."""

    course: Course
    done: bool
    hours: Decimal | None
    done_at: datetime | None = None  # when the counted completion was made


@dataclass(frozen=True)
class Progress:
    """Everything the program page and the API say about one candidate."""

    eligibility: Eligibility
    required: list[CourseStep]
    electives: list[CourseStep]
    elective_hours: Decimal
    exam: exam.ExamState
    practical: PracticalSubmission | None
    credential: Credential | None

    @property
    def courses_done(self) -> bool:
        return all(step.done for step in self.required)

    @property
    def electives_done(self) -> bool:
        return self.elective_hours >= self.elective_hours_needed

    elective_hours_needed: Decimal = Decimal("0")
    practical_required: bool = False

    @property
    def exam_open(self) -> bool:
        """The exam may be taken: eligible and every required course done."""
        return self.eligibility.ok and self.courses_done

    @property
    def exam_passed(self) -> bool:
        return self.exam.passed is not None

    @property
    def practical_passed(self) -> bool:
        return not self.practical_required or (
            self.practical is not None and self.practical.status == "passed"
        )

    @property
    def complete(self) -> bool:
        """Every requirement is met: the credential is due."""
        return (
            self.eligibility.ok
            and self.courses_done
            and self.electives_done
            and self.exam_passed
            and self.practical_passed
        )

    @property
    def met_at(self) -> datetime | None:
        """When the last requirement was met (when the credential was earned); None if not all.

        The credential is dated by it, not by when a worker got to issuing it: a lost task
        recovered by the sweep days later, or a queue running past midnight, moves nothing.
        """
        if not self.complete or self.exam.passed is None:
            return None
        moments = [step.done_at for step in self.required]
        moments.append(self.exam.passed.closed_at)
        if self.practical_required and self.practical is not None:
            moments.append(self.practical.reviewed_at)
        moments.append(self._electives_met_at())
        known = [moment for moment in moments if moment is not None]
        return max(known) if known else None

    def _electives_met_at(self) -> datetime | None:
        """When the elective hours counted reached the hours needed (None: none are needed)."""
        if self.elective_hours_needed <= 0:
            return None
        total = Decimal(0)
        done = sorted(
            (step for step in self.electives if step.done_at is not None),
            key=lambda step: step.done_at or datetime.min,
        )
        for step in done:
            total += step.hours or Decimal(0)
            if total >= self.elective_hours_needed:
                return step.done_at
        return None

    @property
    def status(self) -> str:
        """One word for where the candidate stands."""
        if self.credential is not None:
            return self.credential.status_on(dates.today())
        if not self.eligibility.ok:
            return "not eligible"
        if self.complete:
            return "complete"
        return "in progress"


def practical_gaps(program: Program) -> list[str]:
    """Name what a required practical lacks: the techniques to film, the rubric to mark them by."""
    if not program.practical_required:
        return []
    gaps = []
    if not program.criteria:
        # The assessor marks the video against the rubric: with none, there is nothing to mark.
        gaps.append("A practical needs its rubric: write at least one criterion for the assessor")
    if not program.techniques:
        # The candidate films what the page lists: with none, there is nothing to film.
        gaps.append("A practical needs the techniques to film")
    criteria = program.criteria
    twice = next((c for n, c in enumerate(criteria) if c in criteria[:n]), None)
    if twice is not None:
        # The assessor would see two boxes, but the marks are kept by criterion: only the last
        # box would count, and a pass could rest on a criterion left unticked.
        gaps.append(f"The rubric lists {twice!r} twice: write each criterion once")
    return gaps


def completion_gaps(program: Program) -> list[str]:
    """Name what keeps every candidate from completing the program as it stands."""
    # Rows ticked for deletion in the same form are still in the list until the flush.
    links = [link for link in program.courses if link not in db.session.deleted]
    gaps = [
        f"{link.course.title} is a draft course, which candidates cannot open"
        for link in links
        if link.course is not None and not link.course.is_published
    ]
    electives = [link.course for link in links if link.kind == "elective" and link.course]
    offered = sum((Decimal(course.ce_hours) for course in electives), Decimal(0))
    needed = Decimal(program.elective_hours or 0)
    if needed > offered:
        gaps.append(
            f"it asks for {needed.normalize():f} elective hours and its elective courses "
            f"give {offered.normalize():f}"
        )
    if not exam.domain_counts(program.exam_domain_weights or {}, program.exam_question_count or 0):
        # Its candidates would sit an empty paper, score 0% and spend their attempts on it.
        gaps.append("its exam draws no questions (give it a domain with a weight, and a count)")
    short = exam.bank_shortfall(program)
    if short:
        gaps.append("its exam bank cannot fill the exam (" + "; ".join(short) + ")")
    return gaps


def latest_practical(user: User, program: Program) -> PracticalSubmission | None:
    """The candidate's most recent practical submission for the program."""
    return db.session.scalar(
        select(PracticalSubmission)
        .where(PracticalSubmission.user_id == user.id, PracticalSubmission.program_id == program.id)
        .order_by(PracticalSubmission.id.desc())
        .limit(1)
    )


def credential_within_reach(user: User, program: Program) -> bool:
    """Tell whether the candidate can still earn the credential: offered, or exam passed or begun.

    A retired (unpublished) program starts no new exam sitting, so a candidate without a pass
    or a sitting under way can never complete it, whatever else they finish.
    """
    if program.published:
        return True
    state = exam.state(user, program)
    return state.passed is not None or state.open_sitting is not None


def progress(user: User, program: Program, now: datetime | None = None) -> Progress:
    """Work out the candidate's progress through the program (closes an expired sitting)."""
    course_ids = [link.course_id for link in program.courses]
    enrollments = {
        e.course_id: e
        for e in db.session.scalars(
            select(Enrollment).where(
                Enrollment.user_id == user.id, Enrollment.course_id.in_(course_ids)
            )
        )
    }
    revoked = credit.revoked_course_ids(user.id)

    def step(course: Course) -> CourseStep:
        enrollment = enrollments.get(course.id)
        hours = credit.counted_hours(enrollment, revoked) if enrollment else None
        done_at = enrollment.completed_at if enrollment and hours is not None else None
        return CourseStep(course, hours is not None, hours, done_at)

    electives = [step(c) for c in program.elective_courses]
    exam_state = exam.state(user, program, now)
    return Progress(
        eligibility=eligibility(user, program),
        required=[step(c) for c in program.required_courses],
        electives=electives,
        elective_hours=sum((s.hours or Decimal(0) for s in electives), Decimal(0)),
        exam=exam_state,
        practical=latest_practical(user, program),
        credential=exam_state.credential,
        elective_hours_needed=program.elective_hours or Decimal(0),
        practical_required=program.practical_required,
    )

"""What a license needs for its next renewal: the cycle, what counts, what does not and why.

The rule (campus.licenses.models.RenewalRule) is data; this module only applies it:
1. The cycle ends on the license's expiry date and starts `cycle_months` before it.
2. Completions in the cycle are taken in date order (earned hours, revoked ones never count).
3. A completion counts only if the course is for the license's profession and holds an
   approval, valid on the completion day, from a board the rule accepts (for a completion
   with a certificate, one the certificate printed). A completion counts as what the course
   was when it was taken (audience, delivery, subjects, as its certificate froze them), not
   as an admin recast it since; a certificate frozen without them reads the course's own.
   It is listed under the title it was completed (and its certificate printed) under.
4. Courses delivered in one of the rule's capped deliveries count up to the home-study cap;
   the excess does not count.
5. Counted hours fill the required subjects the course covers (first come, first served,
   never twice), the rest counts as general hours.
6. Still due = the larger of (hours required - hours counted) and the subject hours missing.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from campus import dates
from campus.extensions import db
from campus.learning.credit import earned_condition
from campus.learning.models import DELIVERY_TYPES, SUBJECTS, BoardApproval, Course, Enrollment
from campus.licenses.choice import approval_accepted, board_accepted, frozen_approvals, rule_for
from campus.licenses.models import License, RenewalRule

ZERO = Decimal("0.00")
SUGGESTIONS = 3


@dataclass(frozen=True)
class Completion:
    """A completed course as the tracker weighs it."""

    course: Course
    completed_on: date
    hours: Decimal
    # The approvals its certificate printed, when it has one: what a board's auditor reads,
    # whatever the course's approvals became since (None: the course's own).
    approvals: tuple[BoardApproval, ...] | None = None
    # The delivery type, subjects and professions the course had when it was completed, as its
    # certificate froze them (None: the course's own, for a certificate frozen without them).
    delivery: str | None = None
    subjects: tuple[str, ...] | None = None
    audience: tuple[str, ...] | None = None
    # The title it was approved and printed under (None: the course's own).
    title: str | None = None

    @property
    def course_title(self) -> str:
        return self.course.title if self.title is None else self.title

    @property
    def delivery_type(self) -> str:
        return self.course.delivery_type if self.delivery is None else self.delivery

    @property
    def subject_keys(self) -> tuple[str, ...]:
        return tuple(self.course.subjects or []) if self.subjects is None else self.subjects

    @property
    def professions(self) -> tuple[str, ...]:
        return tuple(self.course.professions) if self.audience is None else self.audience


@dataclass
class Credit:
    """How much of one completion counts for the license, and why the rest does not."""

    course_title: str
    completed_on: date
    hours: Decimal
    counted: Decimal = ZERO
    reason: str = ""  # why (some of) the hours do not count; empty when all count

    @property
    def not_counted(self) -> Decimal:
        return self.hours - self.counted


@dataclass
class SubjectProgress:
    """A required subject: hours required, counted so far, and still due."""

    key: str
    required: Decimal
    counted: Decimal = ZERO

    @property
    def label(self) -> str:
        return SUBJECTS.get(self.key, self.key)

    @property
    def due(self) -> Decimal:
        return max(self.required - self.counted, ZERO)


@dataclass
class Tracker:
    """One license's renewal picture."""

    license: License
    rule: RenewalRule | None
    cycle_start: date | None = None
    cycle_end: date | None = None
    required: Decimal = ZERO
    counted: Decimal = ZERO
    home_study_counted: Decimal = ZERO
    credits: list[Credit] = field(default_factory=list)
    subjects: list[SubjectProgress] = field(default_factory=list)
    suggestions: list[Course] = field(default_factory=list)
    today: date = field(default_factory=dates.today)

    @property
    def status(self) -> str:
        """no_rule | voluntary | no_expiry | expired | done | due."""
        if self.rule is None:
            return "no_rule"
        if self.rule.voluntary:
            return "voluntary"
        if self.cycle_end is None:
            return "no_expiry"
        if self.due > 0 and self.cycle_end < self.today:
            return "expired"
        return "done" if self.due == 0 else "due"

    @property
    def counting(self) -> list[Credit]:
        return [c for c in self.credits if c.counted > 0]

    @property
    def not_counting(self) -> list[Credit]:
        return [c for c in self.credits if c.not_counted > 0]

    @property
    def subjects_due(self) -> Decimal:
        return sum((s.due for s in self.subjects), ZERO)

    @property
    def due(self) -> Decimal:
        return max(self.required - self.counted, self.subjects_due, ZERO)

    @property
    def days_left(self) -> int | None:
        return (self.cycle_end - self.today).days if self.cycle_end else None

    @property
    def percent(self) -> int:
        """How far along the cycle's hours are, for the progress bar (0-100)."""
        if self.required <= 0:
            return 100
        done = self.required - self.due
        return max(0, min(100, int(done * 100 / self.required)))


def _month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def cycle_for(expires_on: date, months: int) -> tuple[date, date]:
    """The renewal cycle that ends on the expiry date: (first day, last day), both included.

    A license that expires on a month's last day (the end of the birth month, as many boards
    set it) expired on that month's last day the cycle before: February 28, 2026 follows
    February 29, 2024, which belongs to the old cycle.
    """
    before = dates.add_months(expires_on, -months)
    if expires_on == _month_end(expires_on):
        before = _month_end(before)
    return before + timedelta(days=1), expires_on


def completions(user_id: int, start: date, end: date) -> list[Completion]:
    """The member's completions whose hours count (not revoked) between two days, oldest first.

    A completion with a certificate is dated as the certificate prints it: one issued under an
    earlier TIME_ZONE setting may print the day after (or before) today's calendar's day.
    """
    first, after_last = dates.days_between(start - timedelta(days=1), end + timedelta(days=1))
    rows = db.session.execute(
        select(Enrollment, Course)
        .join(Course, Course.id == Enrollment.course_id)
        .where(
            Enrollment.user_id == user_id,
            earned_condition(),
            Enrollment.completed_at >= first,
            Enrollment.completed_at < after_last,
        )
        .options(selectinload(Course.approvals), selectinload(Course.audience))
        .order_by(Enrollment.completed_at, Enrollment.id)
    ).all()
    printed = _printed(user_id, {course.id: course for _enrollment, course in rows})
    found = []
    for enrollment, course in rows:
        assert enrollment.completed_at is not None  # earned_condition() requires it
        hours = Decimal(enrollment.ce_hours_earned or course.ce_hours).quantize(ZERO)
        completion = printed.get(course.id)
        if completion is None:
            # No certificate yet (the evaluation comes first): the course as it was completed.
            day = dates.local_date(enrollment.completed_at)
            completion = _as_taken(course, day, hours, enrollment.completed_course or {})
        else:
            completion = replace(completion, hours=hours)
        if start <= completion.completed_on <= end:
            found.append(completion)
    return found


def _printed(user_id: int, courses: dict[int, Course]) -> dict[int, Completion]:
    """Each course's completion as its certificate froze it, by course (its hours are the caller's).

    What a board's auditor reads: the date, the approvals in force that day (the course's own
    may have been renewed, moved or dated since), and what the course was counted as.
    """
    if not courses or "certificates" not in current_app.extensions.get("campus_features", ()):
        return {}
    from campus.certificates.models import Certificate

    certificates = db.session.scalars(
        select(Certificate).where(
            Certificate.user_id == user_id, Certificate.course_id.in_(list(courses))
        )
    )
    found: dict[int, Completion] = {}
    for certificate in certificates:
        assert certificate.course_id is not None  # selected by its course
        course = courses[certificate.course_id]
        found[certificate.course_id] = _as_taken(
            course, certificate.printed_date, ZERO, certificate.data or {}
        )
    return found


def _as_taken(course: Course, completed_on: date, hours: Decimal, data: dict) -> Completion:
    """A completion weighed by the course facts frozen in `data` (the course's own if absent)."""
    return Completion(
        course=course,
        completed_on=completed_on,
        hours=hours,
        approvals=frozen_approvals(data),
        delivery=data.get("delivery_key") or _DELIVERY_KEYS.get(str(data.get("delivery_type"))),
        subjects=_frozen_list(data, "subject_keys"),
        audience=_frozen_list(data, "course_professions"),
        title=str(data["course_title"]) if data.get("course_title") else None,
    )


# A certificate frozen before its delivery type's key was: the printed label says it. Recorded
# webinars printed "Recorded webinar" until the label became NCBTMB's "Home study (...)".
_DELIVERY_KEYS = {label: key for key, label in DELIVERY_TYPES.items()}
_DELIVERY_KEYS["Recorded webinar"] = "recorded_webinar"


def _frozen_list(data: dict, key: str) -> tuple[str, ...] | None:
    value = data.get(key)
    return tuple(str(v) for v in value) if isinstance(value, list) else None


def _capped(rule: RenewalRule, delivery: str) -> bool:
    return rule.max_home_study_hours is not None and delivery in (rule.capped_deliveries or [])


def _not_accepted(rule: RenewalRule, approvals: Sequence[BoardApproval], day: date) -> str:
    """Why no approval of a completion counts for the rule's board, in the member's words."""
    if not rule.accepted_approvals:  # any board would do, but none was in force
        return "No board approval was in force for this course on the day it was completed."
    taken = [a for a in approvals if board_accepted(rule, a.board)]
    # None of these is in force that day: each one either starts later or had ended by then.
    later = {a.board for a in taken if a.valid_from is not None and day < a.valid_from}
    ended = {a.board for a in taken} - later
    before = {a.board for a in taken if a.valid_from is None or a.valid_from <= day}
    gap = later & before  # one approval had ended, its renewal had not started yet
    told = [
        (sorted(later - gap), "had not started by the day it was completed."),
        (
            sorted(gap),
            "had ended by the day it was completed, and its renewal had not started yet.",
        ),
        (sorted(ended), "had ended by the day it was completed."),
    ]
    said = [f"The course's {' and '.join(boards)} approval {how}" for boards, how in told if boards]
    if said:  # the board takes these approvals, but none was in force that day
        return " ".join(said)
    held = ", ".join(sorted({a.board for a in approvals if a.is_valid_on(day)})) or "no approval"
    wanted = " or ".join(rule.accepted_approvals)
    return (
        f"Approval not accepted: this board takes courses approved by {wanted}; "
        f"this one has {held}."
    )


def weigh(rule: RenewalRule, profession: str, done: list[Completion]) -> Tracker:
    """Apply a rule to completions (pure: no database), filling a tracker's credits and subjects."""
    tracker = Tracker(license=License(profession=profession), rule=rule)
    tracker.required = Decimal(rule.hours_per_cycle).quantize(ZERO)
    tracker.subjects = [
        SubjectProgress(key, Decimal(hours).quantize(ZERO))
        for key, hours in (rule.required_subjects or {}).items()
    ]
    cap = None if rule.max_home_study_hours is None else Decimal(rule.max_home_study_hours)
    for item in done:
        credit = Credit(item.course_title, item.completed_on, item.hours)
        tracker.credits.append(credit)
        audience = item.professions
        if audience and profession not in audience:
            credit.reason = "The course is not approved for this profession."
            continue
        approvals = item.course.approvals if item.approvals is None else item.approvals
        if not approval_accepted(rule, item.course, item.completed_on, approvals):
            credit.reason = _not_accepted(rule, approvals, item.completed_on)
            continue
        counted = item.hours
        if cap is not None and _capped(rule, item.delivery_type):
            room = max(cap - tracker.home_study_counted, ZERO)
            counted = min(counted, room)
            if counted < item.hours:
                delivery = DELIVERY_TYPES.get(item.delivery_type, "this delivery")
                credit.reason = (
                    f"Cap reached: at most {cap.normalize():f} h may be {delivery.lower()} "
                    f"(or other distance learning) this cycle."
                )
            tracker.home_study_counted += counted
        credit.counted = counted
        tracker.counted += counted
        left = counted
        for subject in tracker.subjects:
            if left <= 0:
                break
            if subject.key in item.subject_keys and subject.due > 0:
                used = min(subject.due, left)
                subject.counted += used
                left -= used
    return tracker


def track(license: License, today: date | None = None) -> Tracker:
    """Build the tracker of one license from its rule and the member's completions."""
    rule = rule_for(license)
    today = today or dates.today()
    if rule is None or rule.voluntary or license.expires_on is None:
        return Tracker(license=license, rule=rule, today=today)
    start, end = cycle_for(license.expires_on, rule.cycle_months)
    tracker = weigh(rule, license.profession, completions(license.user_id, start, end))
    tracker.license, tracker.today = license, today
    tracker.cycle_start, tracker.cycle_end = start, end
    if tracker.due > 0:
        tracker.suggestions = suggestions(tracker)
    return tracker


def suggestions(tracker: Tracker) -> list[Course]:
    """Published catalog courses that would count and fill the gap, subjects first."""
    rule, license = tracker.rule, tracker.license
    assert rule is not None
    taken = select(Enrollment.course_id).where(
        Enrollment.user_id == license.user_id, Enrollment.completed_at.is_not(None)
    )
    candidates = db.session.scalars(
        select(Course)
        .where(Course.status == "published", Course.id.not_in(taken))
        .options(selectinload(Course.approvals), selectinload(Course.audience))
        .order_by(Course.title)
    ).all()
    missing = {s.key for s in tracker.subjects if s.due > 0}
    general_due = tracker.required - tracker.counted > 0
    cap = rule.max_home_study_hours
    cap_full = cap is not None and tracker.home_study_counted >= Decimal(cap)
    useful = []
    for course in candidates:
        if course.professions and license.profession not in course.professions:
            continue
        if not approval_accepted(rule, course, tracker.today):
            continue
        if cap_full and _capped(rule, course.delivery_type):
            continue
        covers = missing & set(course.subjects or [])
        if covers or general_due:
            useful.append((-len(covers), -Decimal(course.ce_hours), course.title, course))
    return [row[-1] for row in sorted(useful, key=lambda r: r[:3])[:SUGGESTIONS]]


def trackers_for(user_id: int, today: date | None = None) -> list[Tracker]:
    """One tracker per license the member holds, in the order they were added."""
    from campus.licenses.services import licenses_for

    return [track(license, today) for license in licenses_for(user_id)]

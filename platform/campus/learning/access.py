"""Who may do what with CE courses: every rule of the feature is decided here, in one place.

- See a course page: everyone for a published course; only admins for a draft (others get 404).
  An admin's rights here need the admin's standing (acts_as_admin), as in /admin/.
- Enroll: a signed-in user with paid access (billing's has_paid_access: admins past the
  second factor always).
- Open lessons and take the quiz: the user's own enrollment AND paid access now. Admins may
  also preview any course's lessons and quiz without enrolling (nothing is recorded for them).
- See progress: only its owner (every query goes through the signed-in user's enrollment).
Lapsed members keep their enrollment, progress and completion; they may not study until they
have paid access again, and then resume where they stopped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypeGuard

from flask import current_app, url_for
from sqlalchemy import and_, bindparam, select

from campus.accounts.access import acts_as_admin
from campus.accounts.models import User
from campus.billing.access import PaymentHold, has_paid_access, payment_hold
from campus.extensions import db
from campus.learning import snapshots
from campus.learning.models import Course, Enrollment, LessonProgress
from campus.models.reads import read


class LearningError(Exception):
    """A refused request: an HTTP status, a short code and a message for the reader."""

    def __init__(self, status: int, code: str, message: str, **extra) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra


def _signed_in(user: User | None) -> TypeGuard[User]:
    return user is not None and getattr(user, "is_authenticated", False)


def _is_admin(user: User | None) -> bool:
    """Tell whether the user previews as an admin: the role with the admin's standing."""
    # A password alone (or an API token) is a member's standing, as in /admin/.
    return _signed_in(user) and acts_as_admin(user)


def can_view_course(user: User | None, course: Course | snapshots.CourseCard) -> bool:
    """Published courses are public; drafts only for admins."""
    return course.is_published or _is_admin(user)


def visible_course(user: User | None, slug: str, *options) -> Course:
    """Load a course by slug for this reader, or raise 404 (drafts look unknown to non-admins)."""
    course = db.session.scalar(select(Course).where(Course.slug == slug).options(*options))
    if course is None or not can_view_course(user, course):
        raise LearningError(404, "not_found", "There is no course at that address.")
    return course


def course_to_evaluate(user: User | None, slug: str) -> Course:
    """Load a course for its evaluation: one the reader may see, or a draft they completed.

    A course taken out of the catalog after a learner completed it still owes them the
    evaluation that their certificate waits for; to anyone else a draft stays unknown.
    """
    course = db.session.scalar(select(Course).where(Course.slug == slug))
    if course is not None and can_view_course(user, course):
        return course
    enrollment = enrollment_of(user, course.id) if course is not None else None
    if course is None or enrollment is None or enrollment.completed_at is None:
        raise LearningError(404, "not_found", "There is no course at that address.")
    return course


def enrollment_of(user: User | None, course_id: int) -> Enrollment | None:
    """Return the user's own enrollment in a course, if any."""
    if not _signed_in(user):
        return None
    return db.session.scalar(
        select(Enrollment).where(Enrollment.user_id == user.id, Enrollment.course_id == course_id)
    )


@dataclass(frozen=True)
class EnrollmentFacts:
    """What a lesson page needs of an enrollment, read without loading the ORM object."""

    id: int
    last_lesson_id: int | None
    completed_at: datetime | None

    @property
    def is_complete(self) -> bool:
        return self.completed_at is not None


@dataclass(frozen=True)
class StudyPlace:
    """A course as a signed-in reader finds it: its card, their enrollment, lessons done."""

    course: snapshots.CourseCard
    enrollment: EnrollmentFacts | None
    completed_ids: frozenset[int]


# One round trip for what every lesson page needs (built once: building costs more than running).
_STUDY_PLACE = (
    select(
        Course.id,
        Course.status,
        Course.updated_at,
        Enrollment.id.label("enrollment_id"),
        Enrollment.last_lesson_id,
        Enrollment.completed_at,
        LessonProgress.lesson_id,
    )
    .outerjoin(
        Enrollment,
        and_(Enrollment.course_id == Course.id, Enrollment.user_id == bindparam("user_id")),
    )
    .outerjoin(LessonProgress, LessonProgress.enrollment_id == Enrollment.id)
    .where(Course.slug == bindparam("slug"))
)


def study_place(user: User, slug: str) -> StudyPlace:
    """Load a course the reader may see, with their enrollment and progress, or raise 404."""
    rows = read(_STUDY_PLACE, {"user_id": user.id, "slug": slug}).all()
    card = snapshots.course_card(rows[0].id, rows[0].updated_at) if rows else None
    if card is None or not can_view_course(user, card):
        raise LearningError(404, "not_found", "There is no course at that address.")
    first = rows[0]
    enrollment = None
    if first.enrollment_id is not None:
        enrollment = EnrollmentFacts(first.enrollment_id, first.last_lesson_id, first.completed_at)
    completed = frozenset(row.lesson_id for row in rows if row.lesson_id is not None)
    return StudyPlace(card, enrollment, completed)


def require_signed_in(user: User | None) -> None:
    """Refuse anonymous readers with 401."""
    if not _signed_in(user):
        raise LearningError(401, "unauthorized", "Sign in to take CE courses.")


def require_user(user: User | None) -> User:
    """Return the signed-in user or refuse with 401."""
    require_signed_in(user)
    return user  # type: ignore[return-value]


def check_can_enroll(user: User | None, course: Course) -> None:
    """Raise unless the user may enroll in this course now."""
    require_signed_in(user)
    if not course.is_published:
        # Even admins cannot enroll in a draft: progress would refer to unapproved content.
        raise LearningError(
            409, "not_published", "This course is a draft; it opens once published."
        )
    if not has_paid_access(user):
        held = _payment_refusal(user, enrolled=False)
        raise LearningError(
            403,
            "membership_required",
            held or "Enrolling in CE courses needs an active membership.",
        )


# What a refusal adds to billing's words for a payment that holds a member back.
_REFUSAL_TAILS = {
    "first_payment": "your membership starts, with every CE course, as soon as it goes through.",
    "unpaid": "you can take CE courses again as soon as it goes through.",
}


def _payment_refusal(user: User | None, enrolled: bool) -> str | None:
    """Say why a member's pending or failed payment refuses them, or None for any other reason."""
    hold = payment_hold(user)
    if hold is None or hold.kind not in _REFUSAL_TAILS:
        return None
    saved = " Your progress is saved." if enrolled else ""
    return f"{hold.title}. {hold.action} on the membership page: {_REFUSAL_TAILS[hold.kind]}{saved}"


@dataclass(frozen=True)
class StudyAccess:
    """The outcome of checking whether a user may study a course's lessons and quiz."""

    enrollment: Enrollment | EnrollmentFacts | None  # None only for an admin preview
    preview: bool  # an admin looking without an enrollment: nothing is recorded


_LOAD = object()


def check_can_study(
    user: User | None, course: Course | snapshots.CourseCard, enrollment=_LOAD
) -> StudyAccess:
    """Raise unless the user may open this course's lessons and quiz; say how they study.

    A caller that has already loaded the user's enrollment (or found none) passes it.
    """
    require_signed_in(user)
    if enrollment is _LOAD:
        enrollment = enrollment_of(user, course.id)
    if enrollment is None:
        if _is_admin(user):
            return StudyAccess(None, preview=True)
        raise LearningError(403, "not_enrolled", "Enroll in this course to open its lessons.")
    if not has_paid_access(user):
        raise LearningError(
            403,
            "membership_lapsed",
            _payment_refusal(user, enrolled=True)
            or "Your membership is not active. Your progress is saved: renew to pick up where "
            "you stopped.",
        )
    return StudyAccess(enrollment, preview=False)


def membership_url() -> str:
    """Where to send someone who needs a membership: billing's page if this build has it."""
    if "billing.membership" in current_app.view_functions:
        return url_for("billing.membership")
    return url_for("main.home")


def certificates_url() -> str | None:
    """The certificates page, once that feature is part of the build."""
    if "certificates.index" in current_app.view_functions:
        return url_for("certificates.index")
    return None


@dataclass(frozen=True)
class ReaderAction:
    """The one action a course page offers this reader."""

    kind: str  # signup | membership | payment | enroll | continue | completed | renew | draft
    label: str
    url: str | None
    method: str = "get"
    heading: str | None = None  # what holds a member back, said above the button...
    note: str | None = None  # ...and what to do about it


# What a course page adds to the paywall's words for a payment that holds a member back.
_COURSE_HOLD_NOTES = {
    "first_payment": "Your membership starts, with every CE course, as soon as it goes through. "
    "If your bank asks you to confirm it, finish it in the billing portal; a bank debit can take "
    "a few days to clear.",
    "unpaid": "Update your payment details to take CE courses again.",
}


def _payment_action(hold: PaymentHold | None, enrolled: bool) -> ReaderAction | None:
    """The action for a member whose first payment is pending or whose payment is overdue."""
    if hold is None or hold.kind not in _COURSE_HOLD_NOTES:
        return None
    note = _COURSE_HOLD_NOTES[hold.kind] + (" Your progress is saved." if enrolled else "")
    return ReaderAction("payment", hold.action, membership_url(), heading=hold.title, note=note)


# What a course page says to a former member who never enrolled, by why access stopped.
_REJOIN_NOTES = {
    "ended": "Renew to enroll in this course and take every CE course again.",
    "paused": "Your trial ended without a card to charge. Join again to enroll in this course "
    "and take every CE course.",
}


def _join_action(hold: PaymentHold | None) -> ReaderAction:
    """The action for a reader without access who never enrolled: join, or renew if they were."""
    if hold is not None and hold.kind in _REJOIN_NOTES:
        note = _REJOIN_NOTES[hold.kind]
        return ReaderAction("renew", hold.action, membership_url(), heading=hold.title, note=note)
    return ReaderAction("membership", "Become a member to enroll", membership_url())


def _continue_action(hold: PaymentHold | None) -> ReaderAction:
    """The action for a reader without access who enrolled: renew, or join again if paused."""
    if hold is not None and hold.kind == "paused":
        # A paused subscription is not resumed by renewing: the member joins again.
        note = (
            "Your trial ended without a card to charge. Join again to continue this course. "
            "Your progress is saved."
        )
        return ReaderAction("renew", hold.action, membership_url(), heading=hold.title, note=note)
    return ReaderAction("renew", "Renew your membership to continue", membership_url())


def reader_action(user: User | None, course: Course, enrollment: Enrollment | None) -> ReaderAction:
    """Pick the course page's main action for this reader."""
    if not course.is_published:
        return ReaderAction("draft", "Draft: students cannot enroll yet", None)
    if not _signed_in(user):
        return ReaderAction(
            "signup",
            "Sign up to get started",
            url_for("accounts.signup", next=url_for("learning.course", slug=course.slug)),
        )
    if enrollment is not None and enrollment.is_complete:
        return ReaderAction("completed", "View certificate", certificates_url())
    paid = has_paid_access(user)
    hold = None if paid else payment_hold(user)  # read once: both actions below need it
    if held := _payment_action(hold, enrolled=enrollment is not None):
        return held
    if enrollment is not None:
        if not paid:
            return _continue_action(hold)
        return ReaderAction(
            "continue", "Continue the course", url_for("learning.resume", slug=course.slug)
        )
    if not paid:
        return _join_action(hold)
    return ReaderAction(
        "enroll", "Enroll in this course", url_for("learning.enroll", slug=course.slug), "post"
    )

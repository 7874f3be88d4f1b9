"""Which of a member's licenses a course can be earned for, and the one a certificate names."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select

from campus.extensions import db
from campus.learning.models import BoardApproval, Course, Enrollment
from campus.licenses.models import License, RenewalRule
from campus.licenses.services import get_license, licenses_for


def approval_accepted(
    rule: RenewalRule | None,
    course: Course,
    day: date,
    approvals: Sequence[BoardApproval] | None = None,
) -> bool:
    """Tell whether the course holds an approval, valid on `day`, that the rule's board accepts.

    `approvals` replaces the course's own: those a certificate printed, for a completion.
    """
    held = course.approvals if approvals is None else approvals
    in_force = [a for a in held if a.is_valid_on(day)]
    if rule is None or not rule.accepted_approvals:
        # No rule, or one that names no approvals: any approval counts, but one must be in
        # force that day; hours from a course whose approvals had all lapsed count for no board.
        return bool(in_force)
    return any(board_accepted(rule, a.board) for a in in_force)


def board_accepted(rule: RenewalRule, board: str) -> bool:
    """Tell whether the rule takes an approval by this board (one it names, or its own board).

    The board's own approval may be recorded through CE Broker, as "CE Broker (<board>)".
    """
    if board.upper() in {str(name).upper() for name in rule.accepted_approvals}:
        return True
    own = (rule.board or "").strip().casefold()
    return bool(own) and own in board.casefold()


def rule_for(license: License) -> RenewalRule | None:
    """Return the renewal rule for a license's jurisdiction and profession, if one is known."""
    return db.session.scalar(
        select(RenewalRule).where(
            RenewalRule.jurisdiction == license.jurisdiction,
            RenewalRule.profession == license.profession,
        )
    )


def frozen_approvals(data: dict) -> tuple[BoardApproval, ...] | None:
    """The approvals a course's frozen facts list, as rows to weigh (None: none were frozen)."""
    if "approvals" not in data:
        return None
    return tuple(
        BoardApproval(
            board=a["board"],
            approval_number=a["approval_number"],
            # Frozen before approvals kept a first day: in force up to their end, as printed.
            valid_from=date.fromisoformat(a["valid_from"]) if a.get("valid_from") else None,
            valid_until=date.fromisoformat(a["valid_until"]) if a.get("valid_until") else None,
        )
        for a in data["approvals"]
    )


def fits(license: License, course: Course, day: date, completed: dict | None = None) -> bool:
    """Tell whether a course can count for a license: its audience and an accepted approval.

    `completed` is the course as the enrollment completed it, when recorded: an audience or
    approval an admin changed since did not make the completion count for another license.
    """
    completed = completed or {}
    audience = completed.get("course_professions")
    if not isinstance(audience, list):
        audience = course.professions
    if audience and license.profession not in audience:
        return False
    return approval_accepted(rule_for(license), course, day, frozen_approvals(completed))


def candidate_licenses(
    user_id: int, course: Course, day: date, completed: dict | None = None
) -> list[License]:
    """The licenses a learner may name on this course's certificate (all of them if none fit)."""
    held = licenses_for(user_id)
    fitting = [license for license in held if fits(license, course, day, completed)]
    return fitting or held


def current_on(license: License, day: date) -> bool:
    """Tell whether a license had not lapsed by `day` (no expiry, or one not yet passed)."""
    return license.expires_on is None or license.expires_on >= day


def choices_for_certificate(
    user_id: int, course: Course, day: date, completed: dict | None = None
) -> list[License]:
    """The licenses a learner must choose between, or [] when one (or none) is the default.

    Those current on `day` come first; one lapsed by then stays (a member reinstating it needs
    it named) but after them, for the page to mark it expired.
    """
    candidates = candidate_licenses(user_id, course, day, completed)
    if len(candidates) < 2:
        return []
    return sorted(candidates, key=lambda license: not current_on(license, day))


def license_for_certificate(enrollment: Enrollment, day: date) -> License | None:
    """The license a certificate names: the learner's pick if still theirs, else the default."""
    if enrollment.license_id is not None:
        chosen = get_license(enrollment.user_id, enrollment.license_id)
        if chosen is not None:
            return chosen
    candidates = candidate_licenses(
        enrollment.user_id, enrollment.course, day, enrollment.completed_course
    )
    # A license that had lapsed by the completion day is named only when no current one fits.
    current = [c for c in candidates if current_on(c, day)]
    return (current or candidates)[0] if candidates else None

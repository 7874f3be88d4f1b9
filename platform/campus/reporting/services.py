"""Queue completions for the boards' tracking systems, say what is sent, and read where they stand.

A certificate issued for a license in a jurisdiction that uses a tracking system gets one
ReportedCompletion per system, in the issuing transaction (the certificates' `certificate_stored`
signal); the worker sends it (`reporting.sending`). Revocation and resending are here
too; what members and the roster read is in `reporting.reading`. Services flush; the task or
the view commits.
"""

from __future__ import annotations

import re
from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.dialects import postgresql, sqlite

from campus import dates
from campus.accounts.models import PROFESSIONS
from campus.certificates.models import Certificate
from campus.extensions import db
from campus.jobs import enqueue_after_commit
from campus.learning.models import Course
from campus.licenses.models import License, RenewalRule
from campus.models.base import utcnow
from campus.reporting import superseded
from campus.reporting.adapters import (
    Completion,
)
from campus.reporting.models import ReportedCompletion
from campus.reporting.sending import TRIES_PER_ROUND, max_attempts, refuse
from campus.reporting.systems import jurisdiction_code, system_name, systems_for

SEND_TASK = "campus.reporting.send_report"
_COURSE_NUMBER = re.compile(r"\b20-[0-9]{1,9}\b")


class ReportingError(Exception):
    """A report change that cannot be made, with the message to show."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


# --- what is reported --------------------------------------------------------------------------


def _license_of(certificate: Certificate) -> tuple[str | None, str, str]:
    """The (jurisdiction, number, profession key) of the license the certificate was earned for.

    The license row as it is now: a number the member corrected after a rejection is the one a
    resend carries. A certificate whose license is gone, or was edited to another state with no
    reissue since, falls back to what it printed (a move reaches the boards by a reissue), and
    to the license's profession frozen with it (the profile's only for one frozen without it).
    """
    license = db.session.get(License, certificate.license_id) if certificate.license_id else None
    data = certificate.data or {}
    if license is not None:
        code = jurisdiction_code(license.jurisdiction)
        if code == jurisdiction_code(data.get("license_state")):
            return code, license.number.strip(), license.profession
    user = certificate.user
    profession = str(data.get("license_profession") or "")
    if not profession:
        profession = user.profession if user is not None else "other"
    return (
        jurisdiction_code(data.get("license_state")),
        str(data.get("license_number") or "").strip(),
        profession,
    )


def course_number(data: dict, system: str, board: str = "") -> str | None:
    """The system's number for the course, from the approvals printed on the certificate.

    Each board approves a course under its own number: the one naming the license's `board`
    comes first, then any "CE Broker" approval, then any number of that form.
    """
    if system != "cebroker":
        return None
    approvals = data.get("approvals") or []
    wanted = [lambda name: "ce broker" in name, lambda name: True]
    if board.strip():
        wanted.insert(0, lambda name: board.strip().casefold() in name)
    for fits in wanted:
        for approval in approvals:
            if fits(str(approval.get("board", "")).casefold()):
                match = _COURSE_NUMBER.search(str(approval.get("approval_number", "")))
                if match:
                    return match.group(0)
    return None


def _board_of(jurisdiction: str, profession: str) -> str:
    """The name of the board that renews a license, as its renewal rule gives it ("" unknown)."""
    board = db.session.scalar(
        select(RenewalRule.board).where(
            RenewalRule.jurisdiction == jurisdiction, RenewalRule.profession == profession
        )
    )
    return board or ""


def _course_number_of(certificate: Certificate, system: str, board: str) -> str | None:
    """The system's number for the course: as printed, else as the course holds it now.

    A rejection for a missing number asks the provider to add it to the course; the system
    checks the completion's date against its own record of the course's approval. One the
    course holds that had ended before the completion day, or started after it, was not in
    force for it: the certificate left it out, and the board is not told the course was approved.
    """
    number = course_number(certificate.data or {}, system, board)
    if number is not None or certificate.course_id is None:
        return number
    course = db.session.get(Course, certificate.course_id)
    if course is not None:
        day = certificate.printed_date
        held = [
            {"board": a.board, "approval_number": a.approval_number}
            for a in course.approvals
            if a.is_valid_on(day)
        ]
        number = course_number({"approvals": held}, system, board)
    return number


def completion_of(report: ReportedCompletion) -> Completion:
    """What the tracking system is told about this report's certificate."""
    certificate = report.certificate
    data = certificate.data or {}
    jurisdiction, number, profession = _license_of(certificate)
    if jurisdiction != report.jurisdiction:
        # The license row moved to another state and no reissue has followed: the certificate
        # still names this state's license, and this board gets that one, never another's.
        jurisdiction = report.jurisdiction
        number = str(data.get("license_number") or "").strip()
    codes = {}
    for system, place in systems_for(jurisdiction):
        if system.key == report.system:
            codes = place.professions
    name = str(data.get("participant_name") or "").split()
    return Completion(
        certificate_code=certificate.code,
        first_name=name[0] if name else "",
        last_name=" ".join(name[1:]) if len(name) > 1 else "",
        license_number=number,
        profession_code=codes.get(profession, ""),
        jurisdiction=report.jurisdiction,
        course_title=str(data.get("course_title") or ""),
        course_number=_course_number_of(
            certificate, report.system, _board_of(report.jurisdiction, profession)
        ),
        completed_on=certificate.printed_date,
        # The hours earned, as the certificate's column keeps them for transcripts and totals.
        ce_hours=Decimal(certificate.ce_hours).quantize(Decimal("0.01")),
    )


# --- queueing ----------------------------------------------------------------------------------


def _for_profession(certificate: Certificate, profession: str) -> bool:
    """Tell whether the course was for the license's profession when taken (no audience: all)."""
    audience = (certificate.data or {}).get("course_professions")
    if not isinstance(audience, list):  # frozen before the audience was: the course's own
        course = db.session.get(Course, certificate.course_id) if certificate.course_id else None
        audience = course.professions if course is not None else []
    return not audience or profession in audience


def queue_for_certificate(certificate_id: int) -> list[int]:
    """Queue the certificate's report to each system its license's state uses; once, ever.

    The insert skips a (certificate, system, jurisdiction) that exists, so a rerun of the issuing
    task, a reissue or two workers at once add nothing and send nothing twice.
    """
    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None or certificate.status != "issued":
        return []
    jurisdiction, _number, profession = _license_of(certificate)
    if not _for_profession(certificate, profession):
        # The license's board does not count a course not approved for its profession (the
        # renewal tracker says so): reported, the board would read it as approved CE.
        return []
    queued = []
    for system, place in systems_for(jurisdiction):
        now = utcnow()
        values = {
            "certificate_id": certificate.id,
            "system": system.key,
            "jurisdiction": place.code,
            "status": "pending",
            "attempts": 0,
            "created_at": now,
            "updated_at": now,
        }
        dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
        statement = (
            dialect.insert(ReportedCompletion)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["certificate_id", "system", "jurisdiction"])
            .returning(ReportedCompletion.id)
        )
        report_id = db.session.execute(statement).scalar()
        if report_id is not None:
            queued.append(report_id)
            enqueue_after_commit(SEND_TASK, report_id)
    return queued


def hold_back_outside_audience(report_id: int) -> ReportedCompletion | None:
    """Refuse a pending report whose license is now of a profession the course was not for.

    The member edited the license's profession since issue: that board does not count the
    course, and told of it would read it as approved CE. Returns the report if refused.
    """
    report = db.session.get(ReportedCompletion, report_id)
    if report is None or report.status != "pending":
        return None
    _jurisdiction, _number, profession = _license_of(report.certificate)
    if _for_profession(report.certificate, profession):
        return None
    refuse(
        report,
        f"Not sent: the course is not approved for the profession of the license "
        f"({PROFESSIONS.get(profession, profession)}), so that board does not count it.",
    )
    return report


# --- a license moved to another state ----------------------------------------------------------


def _boards(certificate: Certificate) -> dict[str, str]:
    """The jurisdiction each system reports the certificate to now: {system: jurisdiction}."""
    jurisdiction, _number, _profession = _license_of(certificate)
    return {system.key: place.code for system, place in systems_for(jurisdiction)}


def follow_license(
    certificate_id: int,
) -> tuple[list[ReportedCompletion], list[ReportedCompletion]]:
    """Mark the reports to a board the certificate's license left; unmark those it is back in.

    A reissue for a license in another state: the old state's board holds a completion that is
    not its licensee's. It is never sent there again; what it may hold is due to be withdrawn,
    and a report not yet sent is cancelled. Returns (moved away, moved back); a report moved
    back is then restored as after a revocation (`restore_after_reissue`).
    """
    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None or certificate.status != "issued":
        return [], []
    boards = _boards(certificate)
    reports = db.session.scalars(
        select(ReportedCompletion)
        .where(ReportedCompletion.certificate_id == certificate_id)
        .order_by(ReportedCompletion.id)
    ).all()
    now = utcnow()
    moved, back = [], []
    for report in reports:
        current = boards.get(report.system) == report.jurisdiction
        if not current and report.moved_at is None:
            report.moved_at = now
            report.withdrawal_due_at = report.withdrawal_due_at or now
            report.updated_at = now
            if report.status == "pending":
                # Not in flight: the worker finds it cancelled. A send in flight ends as its
                # answer says and then waits for the withdrawal, as a revoked one's does.
                report.status = "cancelled"
                report.reason = (
                    f"Not sent: the certificate was reissued on {dates.local_date(now)} for a "
                    f"license in another state."
                )
                report.answered_at = now
            moved.append(report)
        elif current and report.moved_at is not None:
            report.moved_at = None
            report.withdrawal_due_at = report.withdrawal_due_at or now  # restored just after
            back.append(report)
    db.session.flush()
    return moved, back


# --- revocation --------------------------------------------------------------------------------


def flag_withdrawals(certificate_id: int) -> int:
    """Mark every report of a certificate just revoked; return how many the board may hold."""
    reports = db.session.scalars(
        select(ReportedCompletion).where(
            ReportedCompletion.certificate_id == certificate_id,
            ReportedCompletion.withdrawal_due_at.is_(None),
        )
    ).all()
    now = utcnow()
    for report in reports:
        report.withdrawal_due_at = now
    db.session.flush()
    return sum(1 for report in reports if report.withdrawal_pending)


def restore_after_reissue(certificate_id: int) -> list[int]:
    """A certificate issued again after its revocation: send again what the board lost.

    A report withdrawn from the board, or cancelled before it was sent, goes back in the queue;
    one the board still holds stands again and is no longer due for withdrawal.
    """
    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None or certificate.status != "issued":
        # The issuing task run again for a certificate still revoked (a redelivery, the
        # sweep): nothing was issued, and what the board holds is still due for withdrawal.
        return []
    reports = db.session.scalars(
        select(ReportedCompletion).where(
            ReportedCompletion.certificate_id == certificate_id,
            # One whose license moved to another state stays due there.
            ReportedCompletion.moved_at.is_(None),
            or_(
                ReportedCompletion.withdrawal_due_at.is_not(None),
                ReportedCompletion.status == "cancelled",
            ),
        )
    ).all()
    reopened = []
    for report in reports:
        report.withdrawal_due_at = None
        if report.withdrawn_at is not None or report.status == "cancelled":
            report.withdrawn_at = None
            _requeue(report)
            reopened.append(report.id)
        else:
            report.updated_at = utcnow()
    db.session.flush()
    return reopened


def mark_withdrawn(report: ReportedCompletion) -> list[str]:
    """Record that the provider withdrew what the board should not hold of this completion.

    That is the completion itself once revoked (or moved to another state's license), and every
    record it holds under a license number since corrected. Returns those records' numbers.
    """
    if not report.withdrawal_due:
        if report.withdrawn_at is not None:
            raise ReportingError("This completion is marked withdrawn already.", 409)
        raise ReportingError(
            f"{report.certificate.code} was not revoked, nor moved to another state's license, "
            f"nor corrected after it was reported; {system_name(report.system)} holds nothing "
            "to withdraw.",
            409,
        )
    now = utcnow()
    if report.withdrawal_pending:
        report.withdrawn_at = now
    numbers = superseded.mark_withdrawn(report, now)
    report.updated_at = now
    db.session.flush()
    return numbers


# --- resending ---------------------------------------------------------------------------------


def held_under_other_license(report: ReportedCompletion) -> str | None:
    """The license number an accepted report is held under, if the certificate now says another."""
    if report.status != "accepted" or not report.sent or report.certificate.status != "issued":
        # A revoked certificate's report is withdrawn, not corrected.
        return None
    data = report.certificate.data or {}
    _jurisdiction, number, profession = _license_of(report.certificate)
    printed = (str(data.get("license_number") or "").strip(), data.get("license_profession"))
    if not printed[1]:
        # Frozen before the license's profession was, and not reissued for a license since (a
        # reissue freezes it): nothing printed corrects what the board accepted.
        return None
    if (number, profession) != printed:
        # The license was edited and no reissue has printed it yet (the issuing task ran again):
        # the board keeps what the certificate still prints, or the two would disagree.
        return None
    if not _for_profession(report.certificate, profession):
        # Reissued for a license of a profession the course was not for: that board does not
        # count it, and is not told of it, as queueing would not have told it at issue.
        return None
    now = completion_of(report)
    held = report.sent
    if (held.get("license_number"), held.get("profession_code")) == (
        now.license_number,
        now.profession_code,
    ):
        return None
    return str(held.get("license_number") or "")


def queue_correction(report: ReportedCompletion) -> None:
    """Send an accepted report again, corrected: the board holds it under the wrong license.

    What the board accepted stays on the old license whatever becomes of the correction: it
    is kept on the report and due to be withdrawn there.
    """
    superseded.supersede(report)
    if report.attempts >= max_attempts():
        report.attempts = max(1, max_attempts() - TRIES_PER_ROUND)
    _requeue(report)
    db.session.flush()


def reopen(report: ReportedCompletion) -> None:
    """Put a settled report back in the queue; refused for accepted, in-flight or revoked ones."""
    if report.status == "accepted":
        raise ReportingError(
            f"{system_name(report.system)} already accepted this completion; it is not sent again.",
            409,
        )
    if report.status in ("pending", "sent"):
        raise ReportingError("This completion is already on its way; wait for the answer.", 409)
    if report.certificate.status == "revoked":
        raise ReportingError("The certificate is revoked; it is not reported.", 409)
    if report.moved_at is not None:
        raise ReportingError(
            f"The certificate now names a license outside {report.jurisdiction}; it is not "
            f"reported there. Its report to the license's own state is on the certificate.",
            409,
        )
    if report.attempts >= max_attempts():
        # A resend earns a full round of tries (and the sweep's care if its message is lost).
        report.attempts = max(1, max_attempts() - TRIES_PER_ROUND)
    _requeue(report)
    db.session.flush()


def _requeue(report: ReportedCompletion) -> None:
    """Make a settled report pending again and send it after the commit."""
    report.status = "pending"
    report.reason = None
    report.answered_at = None
    report.updated_at = utcnow()
    enqueue_after_commit(SEND_TASK, report.id)

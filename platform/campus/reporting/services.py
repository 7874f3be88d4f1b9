"""Queue completions for the boards' tracking systems, send them, and read where they stand.

A certificate issued for a license in a jurisdiction that uses a tracking system gets one
ReportedCompletion per system, in the issuing transaction (the certificates' `certificate_stored`
signal); the worker sends it. Services flush; the task or the view commits.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from flask import current_app
from sqlalchemy import ColumnElement, CursorResult, and_, case, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from campus.certificates.models import Certificate
from campus.extensions import db
from campus.jobs import enqueue_after_commit
from campus.licenses.models import License
from campus.models.base import utcnow
from campus.reporting.adapters import (
    Accepted,
    Adapter,
    Completion,
    Outcome,
    Rejected,
    RosterFile,
    Unanswered,
    adapter_for,
)
from campus.reporting.models import ReportedCompletion
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
    resend carries. A certificate whose license is gone falls back to what it printed.
    """
    license = db.session.get(License, certificate.license_id) if certificate.license_id else None
    if license is not None:
        return jurisdiction_code(license.jurisdiction), license.number.strip(), license.profession
    data = certificate.data or {}
    user = certificate.user
    return (
        jurisdiction_code(data.get("license_state")),
        str(data.get("license_number") or "").strip(),
        user.profession if user is not None else "other",
    )


def course_number(data: dict, system: str) -> str | None:
    """The system's number for the course, from the approvals printed on the certificate."""
    if system != "cebroker":
        return None
    approvals = data.get("approvals") or []
    for approval in approvals:
        if "ce broker" in str(approval.get("board", "")).casefold():
            match = _COURSE_NUMBER.search(str(approval.get("approval_number", "")))
            if match:
                return match.group(0)
    for approval in approvals:
        match = _COURSE_NUMBER.search(str(approval.get("approval_number", "")))
        if match:
            return match.group(0)
    return None


def completion_of(report: ReportedCompletion) -> Completion:
    """What the tracking system is told about this report's certificate."""
    certificate = report.certificate
    data = certificate.data or {}
    jurisdiction, number, profession = _license_of(certificate)
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
        course_number=course_number(data, report.system),
        completed_on=certificate.completed_at.date(),
        # The hours earned, as the certificate's column keeps them for transcripts and totals.
        ce_hours=Decimal(certificate.ce_hours).quantize(Decimal("0.01")),
    )


def adapter(system: str) -> Adapter:
    """The adapter of a tracking system with this app's settings."""
    return adapter_for(system, current_app.config)


# --- queueing ----------------------------------------------------------------------------------


def queue_for_certificate(certificate_id: int) -> list[int]:
    """Queue the certificate's report to each system its license's state uses; once, ever.

    The insert skips a (certificate, system) pair that exists, so a rerun of the issuing task,
    a reissue or two workers at once add nothing and send nothing twice.
    """
    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None or certificate.status != "issued":
        return []
    jurisdiction, _number, _profession = _license_of(certificate)
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
            .on_conflict_do_nothing(index_elements=["certificate_id", "system"])
            .returning(ReportedCompletion.id)
        )
        report_id = db.session.execute(statement).scalar()
        if report_id is not None:
            queued.append(report_id)
            enqueue_after_commit(SEND_TASK, report_id)
    return queued


# --- sending -----------------------------------------------------------------------------------


def _stale_after() -> timedelta:
    return timedelta(seconds=current_app.config["REPORTING_SENT_STALE_AFTER"])


# The send task's first try and its retries: one round, as the sweep starts them.
TRIES_PER_ROUND = 7


def _max_attempts() -> int:
    return current_app.config["REPORTING_MAX_ATTEMPTS"]


def hold_back(report_id: int) -> ReportedCompletion | None:
    """Settle a pending report that must not be sent (revoked, not configured); None if it may.

    Returns the report when it was settled here or is already settled; None means: send it.
    """
    report = db.session.get(ReportedCompletion, report_id)
    if report is None:
        return None
    if report.status == "sent":
        # In flight, or stalled: claim() decides whether to send again, unless the certificate
        # was revoked meanwhile (the board may hold the first send: it is due for withdrawal).
        return report if report.certificate.status == "revoked" else None
    if report.status != "pending":
        return report
    certificate = report.certificate
    if certificate.status == "revoked":
        revoked_on = f"{certificate.revoked_at:%Y-%m-%d}" if certificate.revoked_at else "earlier"
        _settle(
            report,
            "cancelled",
            f"Not sent: the certificate was revoked on {revoked_on} "
            f"({certificate.revoked_reason or 'no reason given'}).",
        )
        return report
    if not adapter(report.system).configured():
        _settle(
            report,
            "not_configured",
            f"{system_name(report.system)} reporting is not configured (CEBROKER_* settings); "
            "nothing was sent. Upload the roster file instead, or resend once it is set up.",
        )
        return report
    return None


def claim(report_id: int) -> bool:
    """Mark the report sent if it is pending (or sent and stale); False if another worker has it.

    One conditional UPDATE: of two workers that race for the same report, exactly one wins.
    """
    now = utcnow()
    result: CursorResult = db.session.execute(  # type: ignore[assignment]
        update(ReportedCompletion)
        .where(
            ReportedCompletion.id == report_id,
            or_(
                ReportedCompletion.status == "pending",
                and_(
                    ReportedCompletion.status == "sent",
                    ReportedCompletion.sent_at < now - _stale_after(),
                ),
            ),
        )
        .values(
            status="sent",
            sent_at=now,
            attempts=ReportedCompletion.attempts + 1,
            updated_at=now,
            # Taking over a stale send: that one never got its answer read.
            unanswered_at=case(
                (
                    ReportedCompletion.status == "sent",
                    func.coalesce(ReportedCompletion.unanswered_at, now),
                ),
                else_=ReportedCompletion.unanswered_at,
            ),
        )
        .execution_options(synchronize_session=False)
    )
    db.session.expire_all()
    return result.rowcount == 1


def record_outcome(report_id: int, outcome: Outcome) -> ReportedCompletion:
    """Store the system's answer: accepted, rejected with its reason, pending, or still sent.

    An unanswered send stays "sent": the system may hold it, so it is not posted again before
    it is stale, and that send's "duplicate" answer counts as accepted.
    """
    report = db.session.get(ReportedCompletion, report_id)
    assert report is not None
    if isinstance(outcome, Accepted):
        report.reference = outcome.reference or None
        report.last_error = None
        held = outcome.already_held
        _settle(report, "accepted", f"Already recorded there: {held}"[:2000] if held else None)
    elif isinstance(outcome, Rejected):
        _settle(report, "rejected", outcome.reason[:2000])
    elif isinstance(outcome, Unanswered):
        report.status = "sent"
        report.unanswered_at = report.unanswered_at or utcnow()
        report.last_error = (
            f"{outcome.error}; it may have recorded the completion. Sent again once "
            "the send is stale; a duplicate answer then counts as accepted."
        )[:2000]
        report.updated_at = utcnow()
    else:
        report.status = "pending"
        report.last_error = outcome.error[:2000]
        report.updated_at = utcnow()
    db.session.flush()
    return report


def record_gave_up(report_id: int) -> None:
    """End a round of tries: "failed" once the report used its attempts, else left for the sweep."""
    report = db.session.get(ReportedCompletion, report_id)
    if report is None or report.status not in ("pending", "sent"):
        return
    cap = _max_attempts()
    if report.status == "sent":
        report.unanswered_at = report.unanswered_at or utcnow()  # its answer was never read
    if report.attempts >= cap:
        name = system_name(report.system)
        maybe_held = (
            f"its last send got no answer, so {name} may hold it: check there before uploading "
            "it by hand; a resend counts a duplicate answer as accepted"
            if report.unanswered_at is not None
            else f"nothing shows that {name} received it"
        )
        _settle(
            report,
            "failed",
            f"No answer from {name} after {report.attempts} tries "
            f"(last: {report.last_error or 'no answer'}); {maybe_held}. "
            "Resend it, or upload it with the roster file.",
        )
    elif report.status == "pending":
        report.last_error = (
            f"{report.last_error or 'failed'} ({report.attempts} of {cap} tries made; "
            "the sweep tries again later)"
        )
        db.session.flush()


def _settle(report: ReportedCompletion, status: str, reason: str | None) -> None:
    report.status = status
    report.reason = reason
    report.answered_at = utcnow()
    report.updated_at = report.answered_at
    db.session.flush()


def _idle(now: datetime) -> ColumnElement[bool]:
    """Reports nobody is working on: pending for a while, or sent without an answer, stale."""
    pending_since = now - timedelta(seconds=current_app.config["REPORTING_SWEEP_AFTER"])
    return or_(
        and_(ReportedCompletion.status == "pending", ReportedCompletion.updated_at < pending_since),
        and_(
            ReportedCompletion.status == "sent",
            ReportedCompletion.sent_at < now - _stale_after(),
        ),
    )


def sweep_candidates(now: datetime | None = None, limit: int = 500) -> list[int]:
    """Reports left pending (a lost message, a round of retries spent) or sent without an answer.

    Only those with attempts left: the sweep never starts a round past REPORTING_MAX_ATTEMPTS.
    """
    query = (
        select(ReportedCompletion.id)
        .where(_idle(now or utcnow()), ReportedCompletion.attempts < _max_attempts())
        .order_by(ReportedCompletion.id)
        .limit(limit)
    )
    return list(db.session.scalars(query))


def give_up_idle(now: datetime | None = None, limit: int = 500) -> list[int]:
    """Mark failed the idle reports that used all their attempts (a worker died on the last)."""
    now = now or utcnow()
    query = (
        select(ReportedCompletion.id)
        .where(_idle(now), ReportedCompletion.attempts >= _max_attempts())
        .order_by(ReportedCompletion.id)
        .limit(limit)
    )
    report_ids = list(db.session.scalars(query))
    failed = []
    for report_id in report_ids:
        # Read again under a lock: a resend a worker claimed since the query is not idle.
        still_idle = db.session.scalar(
            select(ReportedCompletion.id)
            .where(ReportedCompletion.id == report_id, _idle(now))
            .with_for_update()
        )
        if still_idle is not None:
            record_gave_up(report_id)
            failed.append(report_id)
    return failed


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
    reports = db.session.scalars(
        select(ReportedCompletion).where(
            ReportedCompletion.certificate_id == certificate_id,
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


def mark_withdrawn(report: ReportedCompletion) -> None:
    """Record that the provider withdrew a revoked completion from the board's system."""
    if report.withdrawn_at is not None:
        raise ReportingError("This completion is marked withdrawn already.", 409)
    if not report.withdrawal_pending:
        raise ReportingError(
            f"{report.certificate.code} was not revoked after it was reported; "
            f"{system_name(report.system)} holds nothing to withdraw.",
            409,
        )
    report.withdrawn_at = utcnow()
    db.session.flush()


# --- resending ---------------------------------------------------------------------------------


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
    if report.attempts >= _max_attempts():
        # A resend earns a full round of tries (and the sweep's care if its message is lost);
        # the count stays above zero, which tells the withdrawal rule the board may hold it.
        report.attempts = max(1, _max_attempts() - TRIES_PER_ROUND)
    _requeue(report)
    db.session.flush()


def _requeue(report: ReportedCompletion) -> None:
    """Make a settled report pending again and send it after the commit."""
    report.status = "pending"
    report.reason = None
    report.answered_at = None
    report.updated_at = utcnow()
    enqueue_after_commit(SEND_TASK, report.id)


# --- reading -----------------------------------------------------------------------------------

_MEMBER_WORDS = {
    "pending": "pending",
    "sent": "sent, waiting for the answer",
    "accepted": "accepted",
}


def member_status(report: ReportedCompletion) -> str:
    """The report's status in plain words for the member."""
    name = system_name(report.system)
    if report.withdrawn_at is not None:
        return f"Revoked, and withdrawn from {name}."
    if report.withdrawal_pending:
        return (
            f"The certificate was revoked after {name} "
            f"{'accepted' if report.status == 'accepted' else 'received'} it; "
            "the provider withdraws the report."
        )
    if report.status in _MEMBER_WORDS:
        return f"Reported to {name} — {_MEMBER_WORDS[report.status]}"
    if report.status == "rejected":
        return f"Reported to {name} — rejected: {report.reason}"
    if report.status == "failed":
        return (
            f"Not confirmed by {name}: it did not answer our tries. We send it again or report "
            "it with our roster; nothing to do on your side."
        )
    if report.status == "cancelled":
        return f"Not reported to {name}: the certificate was revoked."
    return (
        f"Not reported to {name} automatically yet — we report it with our roster; "
        "nothing to do on your side."
    )


def reports_by_certificate(certificate_ids: list[int]) -> dict[int, list[ReportedCompletion]]:
    """The reports of these certificates, by certificate id."""
    found: dict[int, list[ReportedCompletion]] = {}
    if not certificate_ids:
        return found
    rows = db.session.scalars(
        select(ReportedCompletion)
        .where(ReportedCompletion.certificate_id.in_(certificate_ids))
        .order_by(ReportedCompletion.id)
    )
    for row in rows:
        found.setdefault(row.certificate_id, []).append(row)
    return found


def roster(system: str, start: date, end: date) -> tuple[RosterFile, int]:
    """The upload file of every completion in the date range (revoked ones left out)."""
    first = datetime.combine(start, time.min).replace(tzinfo=UTC)
    last = datetime.combine(end + timedelta(days=1), time.min).replace(tzinfo=UTC)
    reports = list(
        db.session.scalars(
            select(ReportedCompletion)
            .join(Certificate, Certificate.id == ReportedCompletion.certificate_id)
            .where(
                ReportedCompletion.system == system,
                ReportedCompletion.status != "cancelled",
                Certificate.status == "issued",
                Certificate.completed_at >= first,
                Certificate.completed_at < last,
            )
            .order_by(Certificate.completed_at, Certificate.id)
        )
    )
    # What the board holds for an accepted one; the certificate and license as they are now
    # for the rest (a corrected license number is the one to upload).
    completions = [
        Completion.from_record(report.sent)
        if report.status == "accepted" and report.sent
        else completion_of(report)
        for report in reports
    ]
    title = f"{system}-roster-{start.isoformat()}-to-{end.isoformat()}"
    return adapter(system).roster(completions, title=title), len(completions)

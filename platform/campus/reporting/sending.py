"""Send one report and settle it: claim it, store the system's answer, give up a round, sweep.

The life of a ReportedCompletion once it is queued (services.queue_for_certificate): the task
claims it (one conditional UPDATE), sends what `services.completion_of` says, and stores the
answer here; a send that goes unanswered stays "sent" until stale, because the system may hold
it; the sweep takes up reports left pending or stale and fails those out of tries. Functions
flush; the task commits.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import ColumnElement, CursorResult, and_, case, func, or_, select, update

from campus.extensions import db
from campus.models.base import utcnow
from campus.models.writes import lock_row
from campus.reporting import superseded
from campus.reporting.adapters import Accepted, Adapter, Outcome, Rejected, Unanswered, adapter_for
from campus.reporting.models import ReportedCompletion
from campus.reporting.systems import system_name
from campus.templating import format_date


def adapter(system: str) -> Adapter:
    """The adapter of a tracking system with this app's settings."""
    return adapter_for(system, current_app.config)


def _stale_after() -> timedelta:
    return timedelta(seconds=current_app.config["REPORTING_SENT_STALE_AFTER"])


# The send task's first try and its retries: one round, as the sweep starts them.
TRIES_PER_ROUND = 7


def max_attempts() -> int:
    """Tries of one report, all rounds together, after which it is "failed"."""
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
        # was revoked meanwhile or reissued for a license in another state (the board may hold
        # the first send: it is due for withdrawal, and this board is never sent it again).
        if report.certificate.status == "revoked" or report.moved_at is not None:
            return report
        return None
    if report.status != "pending":
        return report
    certificate = report.certificate
    if certificate.status == "revoked":
        revoked_on = (
            format_date(certificate.revoked_at, "%Y-%m-%d") if certificate.revoked_at else "earlier"
        )
        _settle(
            report,
            "cancelled",
            f"Not sent: the certificate was revoked on {revoked_on} "
            f"({certificate.revoked_reason or 'no reason given'}).",
        )
        return report
    if report.moved_at is not None:
        _settle(
            report,
            "cancelled",
            "Not sent: the certificate was reissued for a license in another state.",
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
        # Kept even when empty (a "duplicate" answer gives no receipt id): the board holds the
        # completion, and a later failed resend or a revocation must still know it (may_be_held).
        report.reference = outcome.reference
        report.last_error = None
        held = outcome.already_held
        _settle(report, "accepted", f"Already recorded there: {held}"[:2000] if held else None)
        superseded.keep_accepted(report)
    elif isinstance(outcome, Rejected):
        _settle(report, "rejected", outcome.reason[:2000], provider_fault=outcome.provider_fault)
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
    cap = max_attempts()
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


def refuse(report: ReportedCompletion, reason: str) -> None:
    """Settle a report as rejected without sending it, for a reason on the member's side."""
    _settle(report, "rejected", reason)


def _settle(
    report: ReportedCompletion, status: str, reason: str | None, *, provider_fault: bool = False
) -> None:
    report.status = status
    report.reason = reason
    report.provider_fault = provider_fault
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
            # Revoked since the send: never sent again, it waits for an admin to withdraw it.
            ReportedCompletion.withdrawal_due_at.is_(None),
        ),
    )


def sweep_candidates(now: datetime | None = None, limit: int = 500) -> list[int]:
    """Reports left pending (a lost message, a round of retries spent) or sent without an answer.

    Only those with attempts left: the sweep never starts a round past REPORTING_MAX_ATTEMPTS.
    """
    query = (
        select(ReportedCompletion.id)
        .where(_idle(now or utcnow()), ReportedCompletion.attempts < max_attempts())
        .order_by(ReportedCompletion.id)
        .limit(limit)
    )
    return list(db.session.scalars(query))


def give_up_idle(now: datetime | None = None, limit: int = 500) -> list[int]:
    """Mark failed the idle reports that used all their attempts (a worker died on the last)."""
    now = now or utcnow()
    query = (
        select(ReportedCompletion.id)
        .where(_idle(now), ReportedCompletion.attempts >= max_attempts())
        .order_by(ReportedCompletion.id)
        .limit(limit)
    )
    report_ids = list(db.session.scalars(query))
    failed = []
    for report_id in report_ids:
        # Read again under a lock: a resend a worker claimed since the query is not idle, and
        # an answer stored meanwhile is not overwritten with "failed".
        lock_row(ReportedCompletion, report_id)
        still_idle = db.session.scalar(
            select(ReportedCompletion.id).where(ReportedCompletion.id == report_id, _idle(now))
        )
        if still_idle is not None:
            record_gave_up(report_id)
            failed.append(report_id)
    return failed

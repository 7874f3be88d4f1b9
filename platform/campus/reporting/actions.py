"""Report actions: resend a completion, mark a revoked one withdrawn, correct one a reissue
changed; the one write path for the admin and the issuing task, each with its audit entry."""

from __future__ import annotations

from sqlalchemy import select

from campus.accounts.models import User
from campus.audit import record, snapshot
from campus.extensions import db
from campus.reporting import services
from campus.reporting.models import ReportedCompletion
from campus.reporting.services import ReportingError, reopen
from campus.reporting.systems import system_name
from campus.templating import format_date


def _locked(report_id: int) -> ReportedCompletion | None:
    """Read a report and lock its row to the end of the transaction.

    Two clicks landing at once would each find it settled, queue it and log it; locked, the
    second waits for the first and then finds it on its way.
    """
    return db.session.get(
        ReportedCompletion, report_id, with_for_update=True, populate_existing=True
    )


def resend(report_id: int, *, actor: User | None) -> ReportedCompletion:
    """Queue a rejected, failed, unconfigured or cancelled report again; accepted is refused."""
    report = _locked(report_id)
    if report is None:
        raise ReportingError("There is no such report.", 404)
    before = snapshot(report)
    previous = report.status
    reopen(report)
    record(
        "resend",
        report,
        summary=(
            f"{report.certificate.code}: resend to {system_name(report.system)} (was {previous})"
        ),
        before=before,
        after=snapshot(report),
        actor=actor,
    )
    return report


def mark_withdrawn(report_id: int, *, actor: User | None) -> ReportedCompletion:
    """Record that a revoked completion was withdrawn from the board's system (done there)."""
    report = _locked(report_id)
    if report is None:
        raise ReportingError("There is no such report.", 404)
    before = snapshot(report)
    services.mark_withdrawn(report)
    revoked_at = report.certificate.revoked_at
    record(
        "withdrawn",
        report,
        summary=f"{report.certificate.code}: withdrawn from {system_name(report.system)}"
        + (f" (revoked {format_date(revoked_at, '%Y-%m-%d')})" if revoked_at else ""),
        before=before,
        after=snapshot(report),
        actor=actor,
    )
    return report


def correct_after_reissue(certificate_id: int) -> list[int]:
    """Send again what a board accepted under a license number a reissue has since corrected."""
    reports = db.session.scalars(
        select(ReportedCompletion).where(
            ReportedCompletion.certificate_id == certificate_id,
            ReportedCompletion.status == "accepted",
        )
    ).all()
    corrected = []
    for report in reports:
        held = services.held_under_other_license(report)
        if held is None:
            continue
        before = snapshot(report)
        services.queue_correction(report)
        record(
            "correct",
            report,
            summary=(
                f"{report.certificate.code}: corrected report to {system_name(report.system)} "
                f"(accepted under license {held or '(none)'})"
            ),
            before=before,
            after=snapshot(report),
        )
        corrected.append(report.id)
    return corrected

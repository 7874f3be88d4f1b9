"""Report actions: resend a completion, mark a revoked one withdrawn, correct one a reissue
changed; the one write path for the admin and the issuing task, each with its audit entry."""

from __future__ import annotations

from sqlalchemy import select

from campus.accounts.models import User
from campus.audit import record, snapshot
from campus.certificates.models import Certificate
from campus.extensions import db
from campus.models.writes import lock_row
from campus.reporting import services
from campus.reporting.models import ReportedCompletion
from campus.reporting.services import ReportingError, reopen
from campus.reporting.systems import jurisdiction_code, system_name
from campus.templating import format_date


def _locked(report_id: int) -> ReportedCompletion | None:
    """Read a report and lock its row to the end of the transaction.

    Two clicks landing at once would each find it settled, queue it and log it; locked, the
    second waits for the first and then finds it on its way.
    """
    lock_row(ReportedCompletion, report_id)
    return db.session.get(ReportedCompletion, report_id, populate_existing=True)


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
    revoked = report.withdrawal_pending
    numbers = services.mark_withdrawn(report)
    revoked_at = report.certificate.revoked_at
    what = []
    if revoked:
        what.append(
            "the completion"
            + (f" (revoked {format_date(revoked_at, '%Y-%m-%d')})" if revoked_at else "")
        )
    if numbers:
        what.append(
            "the record held under corrected license "
            + ", ".join(number or "(none)" for number in numbers)
        )
    record(
        "withdrawn",
        report,
        summary=f"{report.certificate.code}: withdrawn from {system_name(report.system)}: "
        + " and ".join(what),
        before=before,
        after=snapshot(report),
        actor=actor,
    )
    return report


def flag_withdrawals(certificate_id: int, *, actor: User | None) -> int:
    """Mark a revoked certificate's reports due for withdrawal, each with its audit entry.

    `actor` revoked it (None: an operator's command). Returns how many the board may hold.
    """
    before = _reports_state(certificate_id)
    due = services.flag_withdrawals(certificate_id)
    for key, state in _reports_state(certificate_id).items():
        if before.get(key) == state:
            continue
        report = db.session.get(ReportedCompletion, int(key))
        assert report is not None
        done = (
            f"withdrawal from {_board(report)} due"
            if report.withdrawal_pending
            else f"{_board(report)} holds none of it, nothing to withdraw"
        )
        record(
            "withdrawal_due",
            report,
            summary=f"{report.certificate.code}: revoked, {done}",
            before=before.get(key),
            after=state,
            actor=actor,
        )
    return due


def correct_after_reissue(certificate_id: int) -> list[int]:
    """Send again what a board accepted under a license number a reissue has since corrected."""
    reports = db.session.scalars(
        select(ReportedCompletion).where(
            ReportedCompletion.certificate_id == certificate_id,
            ReportedCompletion.status == "accepted",
            ReportedCompletion.moved_at.is_(None),  # that board is not the licensee's any more
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
                f"(accepted under license {held or '(none)'}; withdrawal of that record due)"
            ),
            before=before,
            after=snapshot(report),
            system=True,  # the issuing task's follow-up: no one's, even run inside a request
        )
        corrected.append(report.id)
    return corrected


def restore_after_reissue(certificate_id: int) -> list[int]:
    """Put back what a revocation took from the boards once the certificate is issued again.

    Each report it changes is logged: one withdrawn is sent again (its withdrawal date is
    cleared on the report, so the entry is where the withdrawal stays on record), one due
    for withdrawal no longer is. Returns the ids of the reports queued again.
    """
    before = _reports_state(certificate_id)
    reopened = services.restore_after_reissue(certificate_id)
    after = _reports_state(certificate_id)
    for key, state in after.items():
        if before.get(key) == state:
            continue
        report = db.session.get(ReportedCompletion, int(key))
        assert report is not None
        was = before.get(key) or {}
        if report.id in reopened:
            withdrawn = str(was.get("withdrawn_at") or "")[:10]
            done = f"to be sent to {_board(report)} again" + (
                f" (withdrawn {withdrawn})" if withdrawn else ""
            )
        else:
            done = f"no longer due for withdrawal from {_board(report)}"
        record(
            "restore",
            report,
            summary=f"{report.certificate.code}: reissued, {done}",
            before=was or None,
            after=state,
            system=True,  # the issuing task's follow-up: no one's, even run inside a request
        )
    return reopened


def follow_license_move(certificate_id: int) -> list[int]:
    """Take a reissue for a license in another state to both boards, under one audit entry.

    The old state's board is sent nothing more and what it holds is due to be withdrawn; the
    new state's board (if it takes reports) gets the completion, sent by the worker. Returns
    the ids of the reports queued.
    """
    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None:
        return []
    before = _reports_state(certificate_id)
    moved, back = services.follow_license(certificate_id)
    if not moved and not back:
        return []
    reopened = services.restore_after_reissue(certificate_id)
    queued = services.queue_for_certificate(certificate_id)
    after = _reports_state(certificate_id)
    parts = [
        f"withdrawal from {_board(r)} due" if r.withdrawal_pending else f"{_board(r)} not sent it"
        for r in moved
    ]
    parts += [f"{_board(r)} holds it again" for r in back if r.id not in reopened]
    for report_id in [*reopened, *queued]:
        report = db.session.get(ReportedCompletion, report_id)
        assert report is not None
        parts.append(f"queued for {_board(report)}")
    if not queued and not back:
        parts.append("the new state takes no reports")
    old = ", ".join(sorted({r.jurisdiction for r in moved})) or "another state"
    printed = str((certificate.data or {}).get("license_state") or "").strip()
    new = jurisdiction_code(printed) or printed or "no state"
    record(
        "move",
        (moved or back)[0],
        summary=f"{certificate.code}: license moved from {old} to {new}: " + "; ".join(parts),
        before=before,
        after=after,
        system=True,  # the issuing task's follow-up: no one's, even run inside a request
    )
    return [*reopened, *queued]


def _board(report: ReportedCompletion) -> str:
    return f"{system_name(report.system)} ({report.jurisdiction})"


def _reports_state(certificate_id: int) -> dict:
    """Every report of a certificate as the audit log keeps it, by id."""
    reports = db.session.scalars(
        select(ReportedCompletion).where(ReportedCompletion.certificate_id == certificate_id)
    )
    return {str(report.id): snapshot(report) for report in reports}

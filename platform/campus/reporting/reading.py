"""What members and the provider read of the reports: their status in words, and the roster."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import and_, or_, select

from campus import dates
from campus.certificates.models import Certificate
from campus.extensions import db
from campus.reporting.adapters import Completion, RosterFile
from campus.reporting.models import ReportedCompletion
from campus.reporting.sending import adapter
from campus.reporting.services import completion_of
from campus.reporting.systems import system_name

_MEMBER_WORDS = {
    "pending": "pending",
    "sent": "sent, waiting for the answer",
    "accepted": "accepted",
}


def member_status(report: ReportedCompletion) -> str:
    """The report's status in plain words for the member."""
    name = system_name(report.system)
    if report.moved_at is not None:
        board = f"{name} ({report.jurisdiction})"
        if report.withdrawal_pending:
            return (
                f"Your certificate now names a license in another state; {board} received it "
                "for your earlier license, and the provider withdraws it there."
            )
        if report.withdrawn_at is not None:
            return f"Withdrawn from {board}: your certificate now names a license in another state."
        return f"Not reported to {board}: your certificate now names a license in another state."
    if report.withdrawn_at is not None:
        return f"Revoked, and withdrawn from {name}."
    if report.withdrawal_pending:
        return (
            f"The certificate was revoked after {name} "
            f"{'accepted' if report.status == 'accepted' else 'received'} it; "
            "the provider withdraws the report."
        )
    if report.certificate.status == "revoked":
        # The board holds none of it: a revoked completion is neither resent nor in the roster.
        return f"Not reported to {name}: the certificate was revoked."
    if report.status in _MEMBER_WORDS:
        return f"Reported to {name} — {_MEMBER_WORDS[report.status]}"
    if report.status == "rejected" and report.provider_fault:
        return (
            f"Not reported to {name} yet: something on the provider's side has to be put right "
            "first, and the provider then sends it again; nothing to do on your side."
        )
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
    """The upload file of every completion in the date range (revoked ones left out).

    A certificate being reissued is listed as it stands: the completion did not go away.

    Dated as the certificate prints it (and reports it): one issued under an earlier TIME_ZONE
    setting may print the day before (or after) its moment's day now.
    """
    first, last = dates.days_between(start - timedelta(days=1), end + timedelta(days=1))
    near = list(
        db.session.scalars(
            select(ReportedCompletion)
            .join(Certificate, Certificate.id == ReportedCompletion.certificate_id)
            .where(
                ReportedCompletion.system == system,
                ReportedCompletion.status != "cancelled",
                ReportedCompletion.moved_at.is_(None),  # not this board's licensee any more
                or_(
                    Certificate.status == "issued",
                    # Reissued, its issuing not landed yet (or being retried): the completion
                    # stands and the board holds it. A report exists only for a certificate
                    # issued once; one revoked before the reissue is still due for withdrawal
                    # until the reissue lands and restores it.
                    and_(
                        Certificate.status.in_(("pending", "failed")),
                        ReportedCompletion.withdrawal_due_at.is_(None),
                    ),
                ),
                Certificate.completed_at >= first,
                Certificate.completed_at < last,
            )
            .order_by(Certificate.completed_at, Certificate.id)
        )
    )
    reports = [r for r in near if start <= r.certificate.printed_date <= end]
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

"""What members see of their reports: a line under each certificate, from the templates."""

from __future__ import annotations

from flask import Flask

from campus.reporting import reading


def install_template_helpers(app: Flask) -> None:
    """Let certificate pages ask for the report lines of the certificates they show."""
    app.jinja_env.globals["completion_reports"] = _completion_reports
    app.jinja_env.globals["reporting_waits"] = _reporting_waits


def _completion_reports(certificates) -> dict[int, list[dict]]:
    """For each certificate id: its reports as {status, text}, for the member's eyes."""
    by_certificate = reading.reports_by_certificate([c.id for c in certificates])
    return {
        certificate_id: [
            {"status": _line_status(report), "text": reading.member_status(report)}
            for report in reports
        ]
        for certificate_id, reports in by_certificate.items()
    }


def _line_status(report) -> str:
    """The status a report's line is styled by."""
    # A revoked completion's line, and a rejection the provider puts right, are neither good
    # news nor the member's error: plain text.
    if report.withdrawal_pending or report.withdrawn_at:
        return "withdrawal"
    if report.certificate.status == "revoked":
        return "cancelled"  # what it reads: not reported, whatever its last try said
    if report.status == "rejected" and report.provider_fault:
        return "provider"
    return report.status


def _reporting_waits(certificates) -> bool:
    """Tell whether a report of these certificates is about to get the system's answer.

    Only a first send in progress: one that failed or got no answer waits for a retry minutes
    or hours away, and the page would reload every few seconds all that time.
    """
    by_certificate = reading.reports_by_certificate([c.id for c in certificates])
    return any(
        r.status in ("pending", "sent") and not r.last_error
        for rows in by_certificate.values()
        for r in rows
    )

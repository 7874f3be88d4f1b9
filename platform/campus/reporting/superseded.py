"""Records a board holds under a license number the member has since corrected.

A correction sends an accepted completion again under the right number; the board keeps the
first record on the mistyped license (someone else's, or no one's) until the provider withdraws
it in the system's own site, as it does a revoked completion. The report keeps each such record
in `superseded` and is due for withdrawal while one waits (`superseded_due_at`).
"""

from __future__ import annotations

from datetime import datetime

from campus.extensions import db
from campus.models.base import utcnow
from campus.reporting.models import ReportedCompletion


def _key(sent: dict | None) -> tuple[object, object]:
    """Who a record is on, for the board: its license number and profession code."""
    sent = sent or {}
    return sent.get("license_number"), sent.get("profession_code")


def supersede(report: ReportedCompletion) -> None:
    """Keep what the board accepted of this report as due to be withdrawn: it is corrected."""
    now = utcnow()
    held = {
        "sent": dict(report.sent or {}),
        "reference": report.reference,
        "superseded_at": now.isoformat(),
        "withdrawn_at": None,
    }
    report.superseded = [*(report.superseded or []), held]
    report.superseded_due_at = report.superseded_due_at or now
    db.session.flush()


def numbers_due(report: ReportedCompletion) -> list[str]:
    """The license numbers of the superseded records still to be withdrawn."""
    return [
        str((held.get("sent") or {}).get("license_number") or "")
        for held in report.superseded or []
        if not held.get("withdrawn_at")
    ]


def mark_withdrawn(report: ReportedCompletion, now: datetime) -> list[str]:
    """Mark every superseded record still due as withdrawn; return their license numbers."""
    if report.superseded_due_at is None:
        return []
    numbers = numbers_due(report)
    report.superseded = [
        {**held, "withdrawn_at": held.get("withdrawn_at") or now.isoformat()}
        for held in report.superseded or []
    ]
    report.superseded_due_at = None
    return numbers


def keep_accepted(report: ReportedCompletion) -> None:
    """Take off the withdrawal list a superseded record the board just accepted as current.

    The member's number went back to one a correction had replaced: the record under it is
    the right one again (the board answered "duplicate"), and nothing of it is to be withdrawn.
    """
    current = _key(report.sent)
    kept = [
        held
        for held in report.superseded or []
        if held.get("withdrawn_at") or _key(held.get("sent")) != current
    ]
    if len(kept) == len(report.superseded or []):
        return
    report.superseded = kept or None
    if all(held.get("withdrawn_at") for held in kept):
        report.superseded_due_at = None
    db.session.flush()

"""One row per completion reported to a boards' tracking system, with where it stands."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ColumnElement,
    ForeignKey,
    String,
    Text,
    UniqueConstraint,
    and_,
    or_,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campus.certificates.models import Certificate
from campus.extensions import Model
from campus.models.base import TimestampMixin

STATUSES = ("pending", "sent", "accepted", "rejected", "not_configured", "cancelled")


class ReportedCompletion(TimestampMixin, Model):
    """A certificate's report to one tracking system: queued once, sent, and its answer."""

    __tablename__ = "reported_completions"

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(
        ForeignKey("certificates.id", ondelete="CASCADE"), index=True
    )
    system: Mapped[str] = mapped_column(String(20))  # key in systems.yaml, e.g. "cebroker"
    jurisdiction: Mapped[str] = mapped_column(String(10))  # e.g. "FL"
    # pending: waiting for the worker; sent: the request is out (answer not read yet);
    # accepted / rejected: the system's answer; not_configured: no credentials, nothing sent;
    # cancelled: not sent because the certificate was revoked first.
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)  # the last transient failure
    reason: Mapped[str | None] = mapped_column(Text)  # why rejected, cancelled or not configured
    reference: Mapped[str | None] = mapped_column(String(80))  # the system's receipt id
    sent_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    # Set when the certificate is revoked, whatever the report's status then (a send racing the
    # revocation still ends up flagged). Once the board holds it (sent or accepted) it is a
    # completion that no longer stands: the provider withdraws it in the system's own site (the
    # upload interface takes rosters and has no withdrawal call), then an admin marks it here.
    withdrawal_due_at: Mapped[datetime | None]
    withdrawn_at: Mapped[datetime | None]

    certificate: Mapped[Certificate] = relationship()

    __table_args__ = (
        # THE rule: a completion is reported once per system, however often issuing runs.
        UniqueConstraint("certificate_id", "system"),
        CheckConstraint(
            "status IN ('pending', 'sent', 'accepted', 'rejected', 'not_configured', 'cancelled')",
            name="status_known",
        ),
    )

    @property
    def withdrawal_pending(self) -> bool:
        """The board may hold this revoked completion and nobody has withdrawn it yet."""
        return (
            self.withdrawal_due_at is not None
            and self.withdrawn_at is None
            and self.certificate.status == "revoked"
            and (
                self.status in ("sent", "accepted")
                # A send that timed out went back to pending, then the revocation cancelled
                # it: the board may have received that send.
                or (self.status == "cancelled" and self.attempts > 0)
            )
        )

    def __repr__(self) -> str:
        return f"<ReportedCompletion {self.certificate_id} {self.system} {self.status}>"


def withdrawal_pending_clause() -> ColumnElement[bool]:
    """ReportedCompletion.withdrawal_pending as SQL, for lists and filters."""
    report = ReportedCompletion
    return and_(
        report.withdrawal_due_at.is_not(None),
        report.withdrawn_at.is_(None),
        report.certificate_id.in_(select(Certificate.id).where(Certificate.status == "revoked")),
        or_(
            report.status.in_(("sent", "accepted")),
            and_(report.status == "cancelled", report.attempts > 0),
        ),
    )

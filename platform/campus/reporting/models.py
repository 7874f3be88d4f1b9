"""One row per completion reported to a boards' tracking system, with where it stands."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ColumnElement,
    ForeignKey,
    String,
    Text,
    UniqueConstraint,
    and_,
    false,
    or_,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campus.certificates.models import Certificate
from campus.extensions import Model
from campus.models.base import IDS_KEPT, TimestampMixin

STATUSES = ("pending", "sent", "accepted", "rejected", "not_configured", "cancelled", "failed")


class ReportedCompletion(TimestampMixin, Model):
    """A certificate's report to one tracking system: queued once, sent, and its answer."""

    __tablename__ = "reported_completions"

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(
        ForeignKey("certificates.id", ondelete="CASCADE"), index=True
    )
    system: Mapped[str] = mapped_column(String(20))  # key in systems.yaml, e.g. "cebroker"
    jurisdiction: Mapped[str] = mapped_column(String(10))  # e.g. "FL"
    # pending: waiting for the worker (nothing of the last try reached the system);
    # sent: the request is out and no answer was read: in flight, or, once older than
    # REPORTING_SENT_STALE_AFTER (or with last_error set), its outcome is unknown: the system may
    # hold it, so the next send counts a "duplicate" answer as accepted;
    # accepted / rejected: the system's answer; not_configured: no credentials, nothing sent;
    # cancelled: not sent because the certificate was revoked first;
    # failed: no answer after REPORTING_MAX_ATTEMPTS tries; waits for an admin's resend.
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)  # the last transient failure
    reason: Mapped[str | None] = mapped_column(Text)  # why rejected, cancelled or not configured
    # A rejection about the provider's side (its upload key, its course's approval), not the
    # member's record: the member is told the provider fixes it, not shown the reason.
    provider_fault: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The system's receipt id, whole; "" when it took the completion without giving one (a
    # "duplicate" answer: it held it already). Not None means the board took a send.
    reference: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
    # What the last send told the system (name, license number, course, date, hours), kept as
    # sent: the license row may be corrected later, and the record must show what the board got.
    sent: Mapped[dict | None] = mapped_column(JSON)
    # When a send first went out and got no answer (a timeout after sending, a worker killed
    # before reading the answer): from then on the system may hold the completion, whatever
    # later tries say, so a failed report tells the admin to check there before uploading it.
    unanswered_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    # Set when the certificate is revoked, whatever the report's status then (a send racing the
    # revocation still ends up flagged). Once the board holds it (sent or accepted) it is a
    # completion that no longer stands: the provider withdraws it in the system's own site (the
    # upload interface takes rosters and has no withdrawal call), then an admin marks it here.
    withdrawal_due_at: Mapped[datetime | None]
    withdrawn_at: Mapped[datetime | None]
    # Set when a reissue moved the certificate to a license in another jurisdiction: this board
    # is not the licensee's any more. Never sent again; what it may hold is due to be withdrawn,
    # as a revoked one's is. Cleared if the license moves back.
    moved_at: Mapped[datetime | None]
    # Records the board accepted under a license number (or profession) the member has since
    # corrected: a correction sends the completion again under the right one, and the board
    # keeps the first on the mistyped license until the provider withdraws it there. Each is
    # {"sent": what it holds, "reference", "superseded_at", "withdrawn_at"}, oldest first.
    superseded: Mapped[list | None] = mapped_column(JSON)
    # Set while one of them waits to be withdrawn; cleared when an admin marks them withdrawn.
    superseded_due_at: Mapped[datetime | None]

    certificate: Mapped[Certificate] = relationship()

    __table_args__ = (
        # THE rule: a completion is reported once per board (a system's jurisdiction), however
        # often issuing runs.
        UniqueConstraint("certificate_id", "system", "jurisdiction"),
        CheckConstraint(
            "status IN ('pending', 'sent', 'accepted', 'rejected', 'not_configured', 'cancelled', "
            "'failed')",
            name="status_known",
        ),
        IDS_KEPT,
    )

    @property
    def withdrawal_pending(self) -> bool:
        """The board may hold this revoked (or moved) completion and nobody has withdrawn it yet."""
        return (
            self.withdrawal_due_at is not None
            and self.withdrawn_at is None
            and (self.certificate.status == "revoked" or self.moved_at is not None)
            and (
                self.status in ("sent", "accepted")
                # Whatever became of a later send (a correction queued since, cancelled by the
                # revocation, refused or given up on) once the board accepted it, or after a
                # send that went unanswered: the board holds or may hold it. Tries refused
                # before anything reached it count for nothing: the board never got those.
                or self.may_be_held
            )
        )

    @property
    def withdrawal_due(self) -> bool:
        """The board may hold a record of this completion that the provider has to withdraw."""
        return self.withdrawal_pending or self.superseded_due_at is not None

    @property
    def may_be_held(self) -> bool:
        """The board took a send of this report (it gave a receipt) or one went unanswered."""
        return self.reference is not None or self.unanswered_at is not None

    def __repr__(self) -> str:
        return f"<ReportedCompletion {self.certificate_id} {self.system} {self.status}>"


def withdrawal_pending_clause() -> ColumnElement[bool]:
    """ReportedCompletion.withdrawal_pending as SQL, for lists and filters."""
    report = ReportedCompletion
    return and_(
        report.withdrawal_due_at.is_not(None),
        report.withdrawn_at.is_(None),
        or_(
            report.moved_at.is_not(None),
            report.certificate_id.in_(
                select(Certificate.id).where(Certificate.status == "revoked")
            ),
        ),
        or_(
            report.status.in_(("sent", "accepted")),
            report.reference.is_not(None),
            report.unanswered_at.is_not(None),
        ),
    )


def withdrawal_due_clause() -> ColumnElement[bool]:
    """ReportedCompletion.withdrawal_due as SQL: revoked, moved, or held under an old number."""
    return or_(withdrawal_pending_clause(), ReportedCompletion.superseded_due_at.is_not(None))

"""Records that outlive the account: retention holds, and members' data archives."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campus.accounts.models import User
from campus.extensions import Model
from campus.models.base import IDS_KEPT, TimestampMixin, utcnow

EXPORT_STATUSES = ("pending", "ready", "failed", "expired")


class RetentionHold(TimestampMixin, Model):
    """The CE records of a deleted account, kept for the boards until `purge_after`.

    Holds the least identity the boards ask for: the participant's name and license as the
    certificates froze them. The anonymised user row stays only so the records keep their keys;
    purging deletes it, and every record hanging from it, together with this hold.
    """

    __tablename__ = "retention_holds"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    participant_name: Mapped[str] = mapped_column(String(120))
    license_number: Mapped[str] = mapped_column(String(60), default="")
    license_state: Mapped[str] = mapped_column(String(60), default="")
    profession: Mapped[str] = mapped_column(String(40), default="other")
    deleted_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The newest CE activity kept (a completion, an attempt, a time log); the period runs from it.
    last_activity_on: Mapped[date]
    purge_after: Mapped[date] = mapped_column(index=True)
    retention_years: Mapped[int]
    # What was kept, counted at deletion: {"enrollments": 2, "certificates": 1, ...}.
    kept: Mapped[str] = mapped_column(Text, default="")

    user: Mapped[User] = relationship()

    __table_args__ = (
        CheckConstraint("retention_years >= 1", name="retention_years_positive"),
        IDS_KEPT,
    )

    def __repr__(self) -> str:
        return f"<RetentionHold {self.id} user={self.user_id} until={self.purge_after}>"


class DataExport(TimestampMixin, Model):
    """One archive of a member's data: built by the worker, downloadable by them until expiry."""

    __tablename__ = "data_exports"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    ready_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    storage_key: Mapped[str | None] = mapped_column(String(200))
    size_bytes: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    # Builds started, each counted before it runs: a build that kills its worker counts too.
    attempts: Mapped[int] = mapped_column(default=0)

    user: Mapped[User] = relationship()

    __table_args__ = (
        CheckConstraint("status IN ('pending', 'ready', 'failed', 'expired')", name="status_known"),
        Index("ix_data_exports_user_requested", "user_id", "requested_at"),
        IDS_KEPT,
    )

    def is_downloadable(self, now: datetime) -> bool:
        """Tell whether the archive exists and its link has not expired."""
        return (
            self.status == "ready"
            and self.storage_key is not None
            and self.expires_at is not None
            and now < self.expires_at
        )

"""The admin audit log: one row per change an admin makes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campus.accounts.models import User
from campus.extensions import db
from campus.models.base import utcnow


class AuditEntry(db.Model):
    """Who changed what, when, with the object's state before and after."""

    __tablename__ = "admin_audit_entries"
    __table_args__ = (Index("ix_admin_audit_entries_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Kept as text too, so the entry still names the admin after their account is gone.
    actor_email: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(40), index=True)
    object_type: Mapped[str] = mapped_column(String(60))
    object_id: Mapped[str | None] = mapped_column(String(60))
    summary: Mapped[str] = mapped_column(Text, default="")
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)

    actor: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<AuditEntry {self.action} {self.object_type}:{self.object_id}>"


def _dashboard_indexes() -> None:
    """Indexes the dashboard's monthly aggregates read (on other features' tables).

    Declared here, next to the queries that need them, so those features' models stay as they
    are; the admin migration creates them.
    """
    from sqlalchemy import Index as _Index

    from campus.billing.models import Subscription
    from campus.learning.models import Enrollment

    # "New members": the first subscription per user, read from the index alone.
    _Index("ix_subscriptions_user_id_created_at", Subscription.user_id, Subscription.created_at)
    _Index("ix_enrollments_enrolled_at", Enrollment.enrolled_at)
    # Completions and CE hours per month, read from the index alone.
    _Index("ix_enrollments_completed_at_hours", Enrollment.completed_at, Enrollment.ce_hours_earned)
    from campus.certificates.models import Certificate

    _Index("ix_certificates_issued_at", Certificate.issued_at)


_dashboard_indexes()

"""Indexes the admin dashboard reads; the audit log itself lives in campus.audit."""

from __future__ import annotations

from campus.audit import AuditEntry

__all__ = ["AuditEntry"]


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

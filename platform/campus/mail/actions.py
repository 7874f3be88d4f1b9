"""Audited changes to who receives marketing email."""

from __future__ import annotations

from sqlalchemy import select

from campus import audit
from campus.content.models import Lead
from campus.extensions import db
from campus.models.base import utcnow


def unsubscribe(email: str) -> int:
    """Take an address off the marketing list (every download it asked for); return rows changed.

    Anyone holding the signed link may do it, signed in or not, so the entry has no actor.
    """
    leads = db.session.scalars(
        select(Lead).where(
            Lead.email == email, Lead.marketing.is_(True), Lead.unsubscribed_at.is_(None)
        )
    ).all()
    now = utcnow()
    for lead in leads:
        lead.unsubscribed_at = now
    if leads:
        audit.record(
            "marketing_unsubscribe",
            object_type="Lead",
            object_id=leads[0].id,
            summary=f"{email} unsubscribed from marketing email ({len(leads)} list entries)",
            system=True,
        )
    db.session.flush()
    return len(leads)

"""Read a member's licenses: which they hold, and which of them a course can count for."""

from __future__ import annotations

from datetime import date

from sqlalchemy import or_, select

from campus.extensions import db
from campus.licenses.models import License


def licenses_for(user_id: int) -> list[License]:
    """Return a member's licenses, oldest first (the first is the one shown where one fits)."""
    return list(
        db.session.scalars(select(License).where(License.user_id == user_id).order_by(License.id))
    )


def current_license_on_file(user_id: int, today: date) -> bool:
    """Tell whether a member has a license recorded that has not expired by `today`."""
    current = select(License.id).where(
        License.user_id == user_id,
        or_(License.expires_on.is_(None), License.expires_on >= today),
    )
    return db.session.scalar(current.limit(1)) is not None


def get_license(user_id: int, license_id: int) -> License | None:
    """Return one of the member's own licenses, or None (another member's license is None)."""
    found = db.session.get(License, license_id)
    return found if found is not None and found.user_id == user_id else None

"""Read a member's licenses: which they hold, and which of them a course can count for."""

from __future__ import annotations

from sqlalchemy import select

from campus.extensions import db
from campus.licenses.models import License


def licenses_for(user_id: int) -> list[License]:
    """Return a member's licenses, oldest first (the first is the one shown where one fits)."""
    return list(
        db.session.scalars(select(License).where(License.user_id == user_id).order_by(License.id))
    )


def license_on_file(user_id: int) -> bool:
    """Tell whether a member has any license recorded."""
    return (
        db.session.scalar(select(License.id).where(License.user_id == user_id).limit(1)) is not None
    )


def get_license(user_id: int, license_id: int) -> License | None:
    """Return one of the member's own licenses, or None (another member's license is None)."""
    found = db.session.get(License, license_id)
    return found if found is not None and found.user_id == user_id else None

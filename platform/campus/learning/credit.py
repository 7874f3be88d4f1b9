"""Earned CE hours: the one rule every surface (pages, API, transcript, admin) counts by.

Hours are earned when an enrollment completes, frozen on it, and stop counting the moment the
course's certificate is revoked. `certified=True` counts only what issued certificates show,
for the surfaces that list certificates; the revocation rule is the same either way.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from flask import current_app
from sqlalchemy import ColumnElement, and_, exists, func, select

from campus import dates
from campus.extensions import db
from campus.learning.models import Enrollment


def _certificate_model():
    # Certificates are a feature of their own; without it nothing can be revoked.
    if "certificates" not in current_app.extensions.get("campus_features", ()):
        return None
    from campus.certificates.models import Certificate

    return Certificate


def earned_condition() -> ColumnElement[bool]:
    """The SQL condition for an enrollment whose hours count: completed, not revoked."""
    condition = Enrollment.completed_at.is_not(None)
    certificate = _certificate_model()
    if certificate is None:
        return condition
    revoked = exists().where(
        certificate.user_id == Enrollment.user_id,
        certificate.course_id == Enrollment.course_id,
        certificate.status == "revoked",
    )
    return and_(condition, ~revoked)


def earned_hours(
    user_id: int | None = None,
    start: date | None = None,
    end: date | None = None,
    *,
    certified: bool = False,
) -> Decimal:
    """Sum the CE hours earned (by one user, or by everyone) between two days, both included."""
    certificate = _certificate_model() if certified else None
    if certified and certificate is not None:
        value, when, owner = certificate.ce_hours, certificate.completed_at, certificate.user_id
        where = [certificate.status == "issued"]
    else:
        value, when, owner = Enrollment.ce_hours_earned, Enrollment.completed_at, Enrollment.user_id
        where = [earned_condition()]
    if user_id is not None:
        where.append(owner == user_id)
    if start is not None:
        where.append(when >= dates.day_start(start))
    if end is not None:
        where.append(when < dates.day_start(end + timedelta(days=1)))
    total = db.session.scalar(select(func.coalesce(func.sum(value), 0)).where(*where))
    return Decimal(str(total or 0)).quantize(Decimal("0.01"))


def revoked_course_ids(user_id: int) -> set[int]:
    """The courses whose certificate the user has had revoked: their hours count nowhere."""
    certificate = _certificate_model()
    if certificate is None:
        return set()
    return set(
        db.session.scalars(
            select(certificate.course_id).where(
                certificate.user_id == user_id, certificate.status == "revoked"
            )
        )
    )


def counted_hours(enrollment: Enrollment, revoked: set[int]) -> Decimal | None:
    """Give the hours an enrollment counts for: None until completed, or once revoked."""
    if enrollment.completed_at is None or enrollment.course_id in revoked:
        return None
    return enrollment.ce_hours_earned

"""Earned CE hours: the one rule every surface (pages, API, transcript, admin) counts by.

Hours are earned when an enrollment completes, frozen on it, and stop counting the moment the
course's certificate is revoked. `certified=True` counts only what standing certificates show
(issued, or being reissued), for the surfaces that list certificates; the revocation rule is
the same either way (a revoked one being reinstated counts once the reissue lands).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, and_, exists, func, null, select
from sqlalchemy.orm import aliased

from campus import dates
from campus.extensions import db
from campus.learning.models import Enrollment


def _certificate_model():
    # Certificates are a feature of their own; without it nothing can be revoked.
    if "certificates" not in current_app.extensions.get("campus_features", ()):
        return None
    from campus.certificates.models import Certificate

    return Certificate


def printed_certificate() -> tuple[Any, ColumnElement[bool]] | None:
    """(an alias of Certificate, its join to Enrollment): what dates a completion as printed.

    Its own name in the join: earned_condition()'s revocation test reads the table too. None
    without the certificates feature.
    """
    certificate = _certificate_model()
    if certificate is None:
        return None
    printed = aliased(certificate)
    onclause = and_(
        printed.user_id == Enrollment.user_id, printed.course_id == Enrollment.course_id
    )
    return printed, onclause


def earned_condition() -> ColumnElement[bool]:
    """The SQL condition for an enrollment whose hours count: completed, not revoked."""
    condition = Enrollment.completed_at.is_not(None)
    certificate = _certificate_model()
    if certificate is None:
        return condition
    from campus.certificates.models import withdrawn

    revoked = exists().where(
        certificate.user_id == Enrollment.user_id,
        certificate.course_id == Enrollment.course_id,
        withdrawn(certificate),
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
    if start is not None or end is not None:
        hours = earned_between(user_id, start, end, certified=certified)
        return sum((h for h in hours if h is not None), Decimal(0)).quantize(Decimal("0.01"))
    value, _when, _data, where = _earned_columns(user_id, certified)
    total = db.session.scalar(select(func.coalesce(func.sum(value), 0)).where(*where))
    return Decimal(str(total or 0)).quantize(Decimal("0.01"))


def earned_between(
    user_id: int | None, start: date | None, end: date | None, *, certified: bool = False
) -> list[Decimal | None]:
    """The hours of each completion that counts, dated as its certificate prints the day.

    A certificate issued under an earlier TIME_ZONE setting may print the day before (or after)
    its moment's day now; the tracker and transcripts date it as printed, so every total does.
    """
    join = None if certified else printed_certificate()
    printed = join[0] if join is not None else None
    value, when, data, where = _earned_columns(user_id, certified, printed)
    # A day's margin each side catches what prints a day away from the moment's day now.
    if start is not None:
        where.append(when >= dates.day_start(start - timedelta(days=1)))
    if end is not None:
        where.append(when < dates.day_start(end + timedelta(days=2)))
    query = select(value, when, data).where(*where)
    if join is not None:
        query = query.outerjoin(*join)
    found = []
    for hours, moment, frozen in db.session.execute(query):
        day = _printed_day(frozen, moment)
        if (start is None or start <= day) and (end is None or day <= end):
            found.append(None if hours is None else Decimal(hours))
    return found


def _earned_columns(
    user_id: int | None, certified: bool, printed: Any = None
) -> tuple[Any, Any, Any, list[Any]]:
    """(hours, moment, certificate data, conditions) of what counts, certified or earned."""
    certificate = _certificate_model()
    if certified and certificate is not None:
        owner = certificate.user_id
        columns = (certificate.ce_hours, certificate.completed_at, certificate.data)
        from campus.certificates.models import stands

        where: list[Any] = [stands(certificate)]
    else:
        owner = Enrollment.user_id
        data = printed.data if printed is not None else null()
        columns = (Enrollment.ce_hours_earned, Enrollment.completed_at, data)
        where = [earned_condition()]
    if user_id is not None:
        where.append(owner == user_id)
    return (*columns, where)


def _printed_day(data: dict | None, moment: datetime) -> date:
    if _certificate_model() is None:
        return dates.local_date(moment)
    from campus.certificates.models import printed_date_of

    return printed_date_of(data, moment)


def printed_days(user_id: int) -> dict[int, date]:
    """The day each of the user's certificates prints as the completion's, by course id."""
    join = printed_certificate()
    if join is None:
        return {}
    printed = join[0]
    rows = db.session.execute(
        select(printed.course_id, printed.data, printed.completed_at).where(
            printed.user_id == user_id, printed.course_id.is_not(None)
        )
    )
    return {course_id: _printed_day(data, moment) for course_id, data, moment in rows}


def completed_on(user_id: int, course_id: int, completed_at: datetime | None) -> date | None:
    """A completion's day as its certificate prints it, else the moment's day on today's calendar.

    None for a course not completed.
    """
    if completed_at is None:
        return None
    return printed_days(user_id).get(course_id) or dates.local_date(completed_at)


def revoked_course_ids(user_id: int) -> set[int]:
    """The courses whose certificate the user has had revoked: their hours count nowhere."""
    certificate = _certificate_model()
    if certificate is None:
        return set()
    from campus.certificates.models import withdrawn

    return set(
        db.session.scalars(
            select(certificate.course_id).where(
                certificate.user_id == user_id, withdrawn(certificate)
            )
        )
    )


def counted_hours(enrollment: Enrollment, revoked: set[int]) -> Decimal | None:
    """Give the hours an enrollment counts for: None until completed, or once revoked."""
    if enrollment.completed_at is None or enrollment.course_id in revoked:
        return None
    return enrollment.ce_hours_earned

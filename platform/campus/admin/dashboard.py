"""The dashboard's figures: each one a single aggregate query (GROUP BY in SQL, never in Python).

The access rule here is the SQL form of `campus.billing.access.subscription_grants_access`, so
the counts agree with what members actually get; tests check the two against each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import and_, case, func, or_, select, union
from sqlalchemy.sql import ColumnElement

from campus import dates
from campus.admin.services import installed
from campus.billing.access import ACCESS_STATUSES
from campus.billing.models import CompMembership, Subscription
from campus.extensions import db
from campus.models.base import utcnow

MONTHS = 12


@dataclass(frozen=True)
class MonthSeries:
    """Values per calendar month, oldest first, with "YYYY-MM" labels."""

    months: list[str]
    values: list[int | float]

    @property
    def total(self) -> int | float:
        return sum(self.values)


def month_keys(now: datetime, count: int = MONTHS) -> list[str]:
    """The last `count` months up to and including now's, as "YYYY-MM"."""
    year, month = now.year, now.month
    keys = []
    for _ in range(count):
        keys.append(f"{year:04d}-{month:02d}")
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return keys[::-1]


def _month_starts(now: datetime, count: int = MONTHS) -> list[tuple[str, datetime]]:
    """The window's months on the provider's calendar: ("YYYY-MM", its first moment in UTC)."""
    return [
        (key, dates.day_start(date(int(key[:4]), int(key[5:]), 1)))
        for key in month_keys(dates.local(now), count)
    ]


def _month(column, starts: list[tuple[str, datetime]]) -> ColumnElement:
    """The provider's "YYYY-MM" of a timestamp column in the window, newest month tested first.

    A month is the provider's (TIME_ZONE), as on certificates: a course finished on a New York
    evening of March 31 is March's, though it is April in UTC. Comparing with the months' first
    moments is the same SQL on every database and needs no zone conversion per row.
    """
    return case(*((column >= start, key) for key, start in reversed(starts)))


def _per_month(column, now: datetime, *where, value=None, printed=None) -> MonthSeries:
    """Count rows (or sum `value`) per month of `column` over the last twelve months.

    `printed` is (certificate, onclause): a row with a certificate counts in the month of the
    date it prints (frozen at issue, perhaps under an earlier TIME_ZONE), as transcripts and
    the boards' reports date it; a row without one, in its moment's month.
    """
    starts = _month_starts(now)
    bucket = _month(column, starts)
    since = starts[0][1]
    if printed is not None:
        certificate, onclause = printed
        day = certificate.data["completion_date"].as_string()
        bucket = func.coalesce(func.substr(day, 1, 7), bucket)
        since -= timedelta(days=1)  # a moment of the day before may print the window's first day
    bucket = bucket.label("month")
    measure = func.count() if value is None else func.coalesce(func.sum(value), 0)
    stmt = select(bucket, measure)
    if printed is not None:
        stmt = stmt.outerjoin(certificate, onclause)
    stmt = stmt.where(column >= since, column.is_not(None), *where).group_by(bucket)
    found = {month: number for month, number in db.session.execute(stmt).all()}
    values = [found.get(key, 0) for key, _start in starts]
    if value is not None:
        values = [float(Decimal(str(v))) for v in values]
    return MonthSeries([key for key, _start in starts], values)


def _paying_condition(now: datetime) -> ColumnElement:
    grace = timedelta(days=current_app.config["PAST_DUE_GRACE_DAYS"])
    return or_(
        and_(
            Subscription.status.in_(sorted(ACCESS_STATUSES)),
            or_(
                Subscription.cancel_at_period_end.is_(False),
                Subscription.current_period_end.is_(None),
                Subscription.current_period_end > now,
            ),
        ),
        and_(
            Subscription.status == "past_due",
            func.coalesce(Subscription.past_due_since, Subscription.current_period_end, now)
            > now - grace,
        ),
    )


def paying_members(now: datetime | None = None) -> int:
    """Members whose Stripe subscription gives access now."""
    now = now or utcnow()
    stmt = select(func.count(func.distinct(Subscription.user_id))).where(_paying_condition(now))
    return db.session.scalar(stmt) or 0


def active_members(now: datetime | None = None) -> int:
    """Members with paid access now: a subscription that grants it, or a comp grant in force."""
    now = now or utcnow()
    members = union(
        select(Subscription.user_id.label("user_id")).where(_paying_condition(now)),
        select(CompMembership.user_id.label("user_id")).where(
            CompMembership.revoked_at.is_(None),
            CompMembership.starts_at <= now,
            CompMembership.ends_at > now,
        ),
    ).subquery()
    return db.session.scalar(select(func.count()).select_from(members)) or 0


def mrr_cents(paying: int) -> int:
    """Monthly recurring revenue: the one plan's price times the paying members."""
    return paying * current_app.config["MEMBERSHIP_PRICE_CENTS"]


def new_members(now: datetime) -> MonthSeries:
    """Members per month of their first subscription."""
    first = (
        select(func.min(Subscription.created_at).label("first_at"))
        .group_by(Subscription.user_id)
        .subquery()
    )
    return _per_month(first.c.first_at, now)


def churned_members(now: datetime) -> MonthSeries:
    """Subscriptions that ended, per month they ended."""
    ended = func.coalesce(Subscription.ended_at, Subscription.canceled_at)
    return _per_month(
        ended, now, Subscription.status.in_(("canceled", "incomplete_expired", "unpaid"))
    )


@dataclass
class Dashboard:
    """Every figure the dashboard shows."""

    now: datetime
    active: int
    paying: int
    comp: int
    mrr_cents: int
    new: MonthSeries
    churned: MonthSeries
    enrollments: MonthSeries | None = None
    completions: MonthSeries | None = None
    ce_hours: MonthSeries | None = None
    ce_hours_total: float = 0.0
    certificates: MonthSeries | None = None
    certificates_total: int = 0
    leads: list[tuple[str, str, int]] | None = None
    approvals_expiring: list = None  # type: ignore[assignment]


def build(now: datetime | None = None) -> Dashboard:
    """Compute the dashboard (each figure one query)."""
    now = now or utcnow()
    paying = paying_members(now)
    active = active_members(now)
    board = Dashboard(
        now=now,
        active=active,
        paying=paying,
        comp=active - paying,
        mrr_cents=mrr_cents(paying),
        new=new_members(now),
        churned=churned_members(now),
        approvals_expiring=[],
    )
    if installed("learning"):
        _learning_figures(board, now)
    if installed("certificates"):
        _certificate_figures(board, now)
    if installed("content"):
        _lead_figures(board)
    return board


def _learning_figures(board: Dashboard, now: datetime) -> None:
    from campus.learning import credit
    from campus.learning.models import Enrollment

    board.enrollments = _per_month(Enrollment.enrolled_at, now)
    printed = credit.printed_certificate()
    earned = credit.earned_condition()
    board.completions = _per_month(Enrollment.completed_at, now, earned, printed=printed)
    board.ce_hours = _per_month(
        Enrollment.completed_at, now, earned, value=Enrollment.ce_hours_earned, printed=printed
    )
    board.ce_hours_total = float(credit.earned_hours())
    board.approvals_expiring = approvals_expiring(dates.local_date(now))


def approvals_expiring(today: date, days: int = 60, limit: int = 20) -> list:
    """Board approvals that have lapsed or lapse within `days`, soonest first, but for those
    whose renewal is entered already: the first `limit`."""
    from sqlalchemy.orm import aliased, joinedload

    from campus.learning.models import BoardApproval, Course

    # Renewed, as BoardApproval.renewed says, in SQL: the list leaves out every approval ever
    # renewed, and those only grow; loading them all to keep 20 made the page slower each year.
    renewal = aliased(BoardApproval)
    after = _day_after(BoardApproval.valid_until)
    renewed = (
        select(renewal.id)
        .where(
            renewal.course_id == BoardApproval.course_id,
            renewal.id != BoardApproval.id,
            # ASCII letters only: never a match casefold would not make (PostgreSQL's lower()
            # in a linguistic collation folds "İ" to "i"); the check below does the rest.
            _ascii_lower(renewal.board) == _ascii_lower(BoardApproval.board),
            or_(renewal.valid_from.is_(None), renewal.valid_from <= after),
            or_(renewal.valid_until.is_(None), renewal.valid_until >= after),
        )
        .exists()
    )
    query = (
        select(BoardApproval)
        .options(joinedload(BoardApproval.course).selectinload(Course.approvals))
        .where(
            BoardApproval.valid_until.is_not(None),
            BoardApproval.valid_until <= today + timedelta(days=days),
            ~renewed,
        )
        .order_by(BoardApproval.valid_until, BoardApproval.id)
        .limit(limit)
    )
    found: list = []
    offset = 0
    while True:  # a second page only when a renewal's board differs in non-ASCII case
        rows = db.session.scalars(query.offset(offset)).unique().all()
        found += [approval for approval in rows if not approval.renewed]
        if len(found) >= limit or len(rows) < limit:
            return found[:limit]
        offset += limit


def _ascii_lower(text: Any) -> ColumnElement:
    """A text column with its ASCII letters lowered and every other character kept, in SQL."""
    if db.session.get_bind().dialect.name == "sqlite":
        return func.lower(text)  # SQLite's lower() knows ASCII letters only
    return func.lower(text.collate("C"))


def _day_after(day: Any) -> ColumnElement:
    """The day after a date column, in SQL."""
    if db.session.get_bind().dialect.name == "sqlite":
        return func.date(day, "+1 day")  # SQLite keeps dates as YYYY-MM-DD text
    return day + 1


def _certificate_figures(board: Dashboard, now: datetime) -> None:
    from campus.certificates import models as cert_models

    certificate = getattr(cert_models, "Certificate", None)
    issued_at = getattr(certificate, "issued_at", None)
    if certificate is None or issued_at is None:
        return
    # Revoked certificates count nowhere, as their hours do not.
    standing = certificate.status != "revoked"
    board.certificates = _per_month(issued_at, now, standing)
    # The total counts by the one rule of what stands (cert_models.stands), as the transcript
    # and the CE totals do: a certificate whose reissue is being drawn has no issued_at then,
    # yet its completion stands; one revoked and being reinstated does not, until that lands.
    board.certificates_total = (
        db.session.scalar(
            select(func.count()).select_from(certificate).where(cert_models.stands(certificate))
        )
        or 0
    )


def _lead_figures(board: Dashboard) -> None:
    from campus.content.models import Download, Lead

    rows = db.session.execute(
        select(Download.slug, Download.title, func.count(Lead.id))
        .outerjoin(Lead, Lead.download_id == Download.id)
        .group_by(Download.id, Download.slug, Download.title)
        .order_by(func.count(Lead.id).desc(), Download.title)
    ).all()
    board.leads = [(slug, title, count) for slug, title, count in rows]

"""The course catalog: filters, search and pages of course cards (cached by catalog stamp)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from campus.accounts.models import PROFESSIONS, User
from campus.extensions import db
from campus.learning import snapshots
from campus.learning.models import (
    Course,
    CourseProfession,
    Enrollment,
)

CATALOG_PAGE_SIZE = 24
HOURS_FILTERS = {
    "short": ("Up to 2 CE hours", None, Decimal("2")),
    "medium": ("2 to 4 CE hours", Decimal("2"), Decimal("4")),
    "long": ("More than 4 CE hours", Decimal("4"), None),
}


@dataclass(frozen=True)
class CatalogFilters:
    """The catalog's search and filters, already validated."""

    q: str = ""
    profession: str = ""
    topic: str = ""
    hours: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> CatalogFilters:
        """Read filters from query arguments, dropping values that are not offered."""
        q = " ".join((args.get("q") or "").split())[:100]
        profession = args.get("profession") or ""
        hours = args.get("hours") or ""
        return cls(
            q=q,
            profession=profession if profession in PROFESSIONS else "",
            topic=(args.get("topic") or "").strip()[:80],
            hours=hours if hours in HOURS_FILTERS else "",
        )

    @property
    def active(self) -> bool:
        return bool(self.q or self.profession or self.topic or self.hours)


def _catalog_query(filters: CatalogFilters, include_drafts: bool):
    stmt = select(Course)
    if not include_drafts:
        stmt = stmt.where(Course.status == "published")
    if filters.q:
        needle = filters.q.lower()
        stmt = stmt.where(
            or_(
                func.lower(Course.title).contains(needle, autoescape=True),
                func.lower(Course.summary).contains(needle, autoescape=True),
                func.lower(Course.topic).contains(needle, autoescape=True),
                func.lower(Course.presenters).contains(needle, autoescape=True),
            )
        )
    if filters.profession:
        stmt = stmt.where(
            Course.id.in_(
                select(CourseProfession.course_id).where(
                    CourseProfession.profession == filters.profession
                )
            )
        )
    if filters.topic:
        stmt = stmt.where(Course.topic == filters.topic)
    if filters.hours:
        _label, low, high = HOURS_FILTERS[filters.hours]
        if low is not None:
            stmt = stmt.where(Course.ce_hours > low)
        if high is not None:
            stmt = stmt.where(Course.ce_hours <= high)
    return stmt


def catalog(
    filters: CatalogFilters, page: int = 1, include_drafts: bool = False, stamp: tuple | None = None
) -> tuple[list[snapshots.CourseCard], int]:
    """Return one page of matching course cards and the match count (cached by catalog stamp)."""
    page = max(page, 1)

    def build() -> tuple[list[snapshots.CourseCard], int]:
        stmt = _catalog_query(filters, include_drafts)
        total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        courses = db.session.scalars(
            stmt.options(selectinload(Course.approvals), selectinload(Course.audience))
            .order_by(Course.published_at.desc().nulls_last(), Course.title, Course.id)
            .limit(CATALOG_PAGE_SIZE)
            .offset((page - 1) * CATALOG_PAGE_SIZE)
        ).all()
        return [snapshots.card(c) for c in courses], total

    stamp = stamp or snapshots.catalog_stamp(include_drafts)
    return snapshots.cached_catalog(("page", filters, page, include_drafts), stamp, build)


def catalog_topics(stamp: tuple | None = None) -> list[str]:
    """Topics of published courses, for the catalog filter (cached by catalog stamp)."""

    def build() -> list[str]:
        return list(
            db.session.scalars(
                select(Course.topic)
                .where(Course.status == "published")
                .distinct()
                .order_by(Course.topic)
            )
        )

    return snapshots.cached_catalog(("topics",), stamp or snapshots.catalog_stamp(False), build)


def enrollments_by_course(user: User | None, course_ids: list[int]) -> dict[int, Enrollment]:
    """The user's enrollments among some courses, by course id (one query)."""
    if user is None or not user.is_authenticated or not course_ids:
        return {}
    rows = db.session.scalars(
        select(Enrollment).where(
            Enrollment.user_id == user.id, Enrollment.course_id.in_(course_ids)
        )
    )
    return {e.course_id: e for e in rows}

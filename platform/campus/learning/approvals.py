"""Board approvals of courses: the model, and the days an approval is in force."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campus.extensions import Model
from campus.models.base import IDS_KEPT, TimestampMixin

if TYPE_CHECKING:
    from campus.learning.models import Course


def in_force(valid_from: date | None, valid_until: date | None, day: date) -> bool:
    """Tell whether `day` falls between two optional ends (both days included)."""
    return (valid_from is None or valid_from <= day) and (valid_until is None or day <= valid_until)


def share_a_day(one: Any, other: Any) -> bool:
    """Tell whether two approvals (anything with valid_from and valid_until) share a day."""
    return (one.valid_from or date.min) <= (other.valid_until or date.max) and (
        other.valid_from or date.min
    ) <= (one.valid_until or date.max)


class BoardApproval(TimestampMixin, Model):
    """A CE board's approval of a course (or of us as its provider), in force between two dates."""

    __tablename__ = "board_approvals"
    __table_args__ = IDS_KEPT

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    board: Mapped[str] = mapped_column(String(60))  # e.g. NCBTMB, BOC
    approval_number: Mapped[str] = mapped_column(String(80))  # approval or provider number
    # The board's first day: a course completed before it was not approved CE (None: unknown,
    # as for approvals recorded before the start was kept, so no earlier completion loses it).
    valid_from: Mapped[date | None]
    valid_until: Mapped[date | None]

    course: Mapped[Course] = relationship(back_populates="approvals")

    def is_valid_on(self, day: date) -> bool:
        """Tell whether the approval is in force on a given day (both ends included)."""
        return in_force(self.valid_from, self.valid_until, day)

    @property
    def renewed(self) -> bool:
        """Tell whether the course holds this board's next approval, in force the day after."""
        if self.valid_until is None:
            return False
        after = self.valid_until + timedelta(days=1)
        board = self.board.casefold()
        return any(
            a is not self and a.board.casefold() == board and a.is_valid_on(after)
            for a in self.course.approvals
        )

"""The rules a course's board approvals keep, whoever edits them (the admin, course files)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import inspect

from campus import dates
from campus.extensions import db
from campus.learning.keeping import refusal
from campus.learning.models import BoardApproval, Course, share_a_day


def check_approvals(approvals: Iterable[BoardApproval], today: date | None = None) -> None:
    """Refuse an approval starting after it ends, or a new or changed one already ended."""
    today = today or dates.today()
    for approval in approvals:
        if (approval.valid_from or date.min) > (approval.valid_until or date.max):
            raise refusal(f"The {approval.board} approval starts after it ends: check its dates.")
        if approval.valid_until is None or approval.valid_until >= today:
            continue
        state: Any = inspect(approval)
        changed = state.transient or state.pending or state.attrs.valid_until.history.added
        if changed:
            raise refusal(
                f"The {approval.board or 'board'} approval ends on {approval.valid_until}, which "
                "is in the past. Enter the current approval's end date."
            )


def check_boards(course: Course | None) -> None:
    """Refuse a course holding two approvals of one board in force on the same day."""
    # A certificate prints each in force on its day: two numbers for one board. A renewal
    # entered ahead, from the day after the last one ends, stands beside it.
    if course is None:
        return
    seen: dict[str, list[BoardApproval]] = {}
    with db.session.no_autoflush:
        # Rows ticked for deletion in the same form are still in the list until the flush.
        approvals = [
            a for a in course.approvals if a not in db.session.deleted and not inspect(a).deleted
        ]
    for approval in approvals:
        approval.board = (approval.board or "").strip()
        approval.approval_number = (approval.approval_number or "").strip()
        same_board = seen.setdefault(approval.board.casefold(), [])
        board = same_board[0].board if same_board else ""
        if any(a.approval_number == approval.approval_number for a in same_board):
            # Course files match rows by (board, number): the second would be lost on import.
            raise refusal(
                f"The {board} approval {approval.approval_number} is listed twice on "
                f"{course.title}: to renew it under the same number, change its dates instead."
            )
        if any(share_a_day(approval, other) for other in same_board):
            raise refusal(
                f"The {board} approval is listed twice on {course.title} for the same days: a "
                f"course holds one approval of each board on any day. Give the renewal an "
                f"“Approved from” day after the {board} approval before it ends."
            )
        same_board.append(approval)

"""The admin's view of board approvals: their validity badges and the rows inside a course."""

from __future__ import annotations

from datetime import date

from markupsafe import Markup, escape
from wtforms.validators import DataRequired

from campus import dates
from campus.admin.base import InlineRows
from campus.learning.models import BoardApproval

WARN_DAYS = 60  # an approval ending within this many days is flagged to renew


def approval_badge(approval: BoardApproval, today: date | None = None) -> Markup:
    """Label an approval's validity: not started yet, in force, expiring soon (60 days), expired."""
    today = today or dates.today()
    if approval.valid_from is not None and today < approval.valid_from:
        return Markup(f'<span class="badge badge-warn">from {approval.valid_from}</span>')
    if approval.valid_until is None:
        return Markup('<span class="badge badge-ok">no end date</span>')
    days = (approval.valid_until - today).days
    if days < 0:
        return Markup(f'<span class="badge badge-danger">expired {approval.valid_until}</span>')
    if days <= WARN_DAYS:
        return Markup(
            f'<span class="badge badge-warn">expires in {days} day{"s" if days != 1 else ""}</span>'
        )
    return Markup(f'<span class="badge badge-ok">until {approval.valid_until}</span>')


def approvals_column(view, context, model, name) -> Markup:
    """A course's approvals in a list: each with its validity badge."""
    if not model.approvals:
        return Markup('<span class="muted">none</span>')
    return Markup("<br>").join(
        Markup(f"{escape(a.board)} {escape(a.approval_number)} ") + approval_badge(a)
        for a in model.approvals
    )


class ApprovalInline(InlineRows):
    """Board approvals edited inside their course."""

    form_columns = ("id", "board", "approval_number", "valid_from", "valid_until")
    form_args = {
        "board": {"validators": [DataRequired("Name the board (e.g. NCBTMB).")]},
        "approval_number": {"validators": [DataRequired("Enter the approval number.")]},
        "valid_from": {"label": "Approved from"},  # a completion before it was not approved
    }

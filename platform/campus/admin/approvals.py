"""The board approvals page: every approval of every course, soonest to expire first."""

from __future__ import annotations

from wtforms.validators import DataRequired

from campus.admin.approval_fields import approval_badge
from campus.admin.catalog import CourseCatalogView
from campus.learning import actions
from campus.learning.models import BoardApproval


class ApprovalView(CourseCatalogView):
    """Every board approval, soonest to expire first."""

    column_list = ("course", "board", "approval_number", "valid_from", "valid_until")
    column_default_sort = ("valid_until", False)
    column_filters = ("board", "valid_until", "course.title")
    column_searchable_list = ("board", "approval_number")
    column_formatters = {"valid_until": lambda v, c, m, n: approval_badge(m)}
    column_labels = {"valid_from": "Approved from"}
    form_columns = ("course", "board", "approval_number", "valid_from", "valid_until")
    form_args = {
        "course": {"validators": [DataRequired("Choose the course.")], "get_label": "title"},
        "board": {"validators": [DataRequired("Name the board (e.g. NCBTMB).")]},
        "approval_number": {"validators": [DataRequired("Enter the approval number.")]},
        # The board's first day: a course completed before it was not approved CE.
        "valid_from": {"label": "Approved from", "description": "The board's first day, if known."},
    }

    def __init__(self, session, **kwargs) -> None:
        super().__init__(BoardApproval, session, **kwargs)

    def save(self, form, model, before: dict | None, actor) -> None:
        actions.save_approval(model, before=before, actor=actor)

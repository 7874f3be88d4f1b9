"""Retention holds: the CE records of deleted accounts, kept for the boards until purged."""

from __future__ import annotations

import json

from campus.admin.base import AuditedModelView
from campus.records.models import RetentionHold
from campus.records.retention import kept_text
from campus.templating import format_date


def _kept(text: str) -> str:
    """The records kept, in words (the column holds their counts as JSON)."""
    try:
        counts = json.loads(text or "{}")
    except ValueError:
        return text
    return kept_text(counts)


class RetentionHoldView(AuditedModelView):
    """Read-only list of retention holds with the date each one is purged."""

    can_create = can_edit = can_delete = False
    column_list = (
        "id",
        "user_id",
        "participant_name",
        "license_number",
        "license_state",
        "deleted_at",
        "last_activity_on",
        "purge_after",
        "kept",
    )
    column_details_list = (*column_list, "profession", "retention_years")
    column_labels = {
        "id": "Hold",
        "user_id": "Member #",
        "participant_name": "Participant",
        "license_number": "License no.",
        "license_state": "State",
        "deleted_at": "Account deleted",
        "last_activity_on": "Last CE activity",
        "purge_after": "Purged on",
        "kept": "Records kept",
    }
    column_default_sort = ("purge_after", False)
    column_searchable_list = ("participant_name", "license_number")
    column_filters = ("purge_after", "deleted_at")
    column_formatters = {
        "deleted_at": lambda v, c, m, n: format_date(m.deleted_at, "%Y-%m-%d"),
        "kept": lambda v, c, m, n: _kept(m.kept),
    }

    def search_placeholder(self) -> str:
        return "Participant name or license number"


def add_views(admin, session) -> None:
    """Add the retention holds view."""
    admin.add_view(
        RetentionHoldView(
            RetentionHold,
            session,
            name="Retention holds",
            endpoint="admin_retention_holds",
            url="retention-holds",
        )
    )

"""Renewal rules in the admin: every save goes through campus.licenses.actions.save_rule."""

from __future__ import annotations

from decimal import Decimal

from flask import g
from flask_admin import Admin
from flask_login import current_user
from markupsafe import Markup, escape
from wtforms import SelectMultipleField, StringField, TextAreaField, ValidationError
from wtforms.validators import DataRequired
from wtforms.widgets import CheckboxInput, ListWidget

from campus.accounts.models import PROFESSIONS
from campus.admin.base import AuditedModelView, select_choices
from campus.admin.conflicts import GuardedEdits
from campus.integers import is_plain_decimal
from campus.learning.models import DELIVERY_TYPES, SUBJECTS
from campus.licenses import actions
from campus.licenses.jurisdictions import JURISDICTIONS
from campus.licenses.models import RenewalRule


def _subjects_text(subjects: dict) -> str:
    return "\n".join(f"{key}: {hours}" for key, hours in (subjects or {}).items())


def _parse_subjects(text: str) -> dict[str, str]:
    """Read "subject: hours" lines into a mapping; a bad line is a clear form error."""
    found: dict[str, str] = {}
    for n, line in enumerate((text or "").splitlines(), 1):
        if not line.strip():
            continue
        key, sep, hours = line.partition(":")
        key = key.strip()
        if not sep or key not in SUBJECTS:
            raise ValidationError(
                f"Line {n}: write one 'subject: hours' per line; subjects are "
                f"{', '.join(SUBJECTS)}."
            )
        if key in found:
            # Kept, the later line would replace the earlier one without a word.
            raise ValidationError(f"Line {n}: {key} is written twice; write each subject once.")
        hours = hours.strip()
        # Read as a number here; how many hours a subject may ask is the rule's check.
        if not is_plain_decimal(hours) or Decimal(hours) < 0:
            raise ValidationError(f"Line {n}: {hours!r} is not a number of hours.")
        found[key] = hours.strip()
    return found


def _source_column(view, context, model, name) -> Markup:
    if model.source_url:
        url, text = escape(model.source_url), escape(model.source)
        return Markup(f'<a href="{url}" rel="noopener noreferrer">{text}</a>')
    return Markup(escape(model.source))


class RenewalRuleView(GuardedEdits, AuditedModelView):
    """Edit the renewal rules the dashboard's trackers apply; each row cites its source."""

    column_list = (
        "jurisdiction",
        "profession",
        "hours_per_cycle",
        "cycle_months",
        "max_home_study_hours",
        "required_subjects",
        "voluntary",
        "source",
    )
    column_labels = {
        "hours_per_cycle": "Hours",
        "cycle_months": "Months",
        "max_home_study_hours": "Home-study cap",
        "required_subjects": "Required subjects",
    }
    # Not the required subjects: PostgreSQL has no ordering for a JSON column (a 500).
    column_sortable_list = (
        "jurisdiction",
        "profession",
        "hours_per_cycle",
        "cycle_months",
        "max_home_study_hours",
        "voluntary",
        "source",
    )
    column_filters = ("jurisdiction", "profession", "voluntary")
    column_searchable_list = ("jurisdiction", "board", "source")
    column_default_sort = [("jurisdiction", False), ("profession", False)]
    column_formatters = {
        # "Massage therapist" as the form names it: "massage_therapist", one long word, widened
        # the list past its box at 1280 px.
        "profession": lambda v, c, m, n: PROFESSIONS.get(m.profession, m.profession),
        "required_subjects": lambda v, c, m, n: _subjects_text(m.required_subjects).replace(
            "\n", "; "
        ),
        "source": _source_column,
    }
    column_formatters_export = {
        "profession": lambda v, c, m, n: m.profession,  # the key, as the rules files write it
        "required_subjects": lambda v, c, m, n: _subjects_text(m.required_subjects),
    }
    form_columns = (
        "jurisdiction",
        "profession",
        "board",
        "hours_per_cycle",
        "cycle_months",
        "max_home_study_hours",
        "capped_delivery_types",
        "subject_hours",
        "approval_boards",
        "voluntary",
        "notes",
        "source",
        "source_url",
    )
    form_choices = {
        "jurisdiction": list(JURISDICTIONS.items()),
        "profession": list(PROFESSIONS.items()),
    }
    form_args = {
        "hours_per_cycle": {"validators": [DataRequired("Enter the hours per cycle.")]},
        "source": {
            "validators": [DataRequired("Cite the rule: board rule number, statute or page.")],
            "description": "Board rule numbers or statute, as a licensee could look it up.",
        },
        "max_home_study_hours": {
            "description": "Leave empty when the board sets no limit.",
        },
    }
    form_extra_fields = {
        "capped_delivery_types": SelectMultipleField(
            "Deliveries the cap applies to",
            choices=select_choices(DELIVERY_TYPES.items()),
            widget=ListWidget(prefix_label=False),
            option_widget=CheckboxInput(),
            description="Self-paced home study and recorded webinars when none is ticked.",
        ),
        "subject_hours": TextAreaField(
            "Required subjects",
            description=f"One 'subject: hours' per line. Subjects: {', '.join(SUBJECTS)}.",
        ),
        "approval_boards": StringField(
            "Accepted approvals",
            description="Boards whose course approval counts, comma-separated (e.g. FL, NCBTMB). "
            "Empty: any approval counts.",
        ),
    }
    form_widget_args = {
        "capped_delivery_types": {"class": "checkbox-list"},
        "subject_hours": {"rows": 4},
        "notes": {"rows": 3},
    }

    def __init__(self, session, **kwargs) -> None:
        super().__init__(RenewalRule, session, **kwargs)

    def on_form_prefill(self, form, id) -> None:
        rule = self.get_one(id)
        form.capped_delivery_types.data = list(rule.capped_deliveries or [])
        form.subject_hours.data = _subjects_text(rule.required_subjects)
        form.approval_boards.data = ", ".join(rule.accepted_approvals or [])

    def on_model_change(self, form, model, is_created: bool) -> None:
        before = None if is_created else g.pop("admin_audit_before", None)
        values = {
            "jurisdiction": form.jurisdiction.data,
            "profession": form.profession.data,
            "board": form.board.data,
            "hours_per_cycle": form.hours_per_cycle.data,
            "cycle_months": form.cycle_months.data,
            "max_home_study_hours": form.max_home_study_hours.data,
            "capped_deliveries": form.capped_delivery_types.data or None,
            "required_subjects": _parse_subjects(form.subject_hours.data),
            "accepted_approvals": [
                a.strip() for a in (form.approval_boards.data or "").split(",") if a.strip()
            ],
            "voluntary": bool(form.voluntary.data),
            "notes": form.notes.data or "",
            "source": form.source.data,
            "source_url": form.source_url.data or "",
        }
        try:
            actions.save_rule(
                model, values, actor=current_user._get_current_object(), before=before
            )
        except actions.LicenseError as exc:
            raise ValidationError(exc.message) from None


def add_views(admin: Admin, session) -> None:
    """Add the renewal rules to the admin."""
    admin.add_view(
        RenewalRuleView(
            session,
            name="Renewal rules",
            endpoint="admin_renewal_rules",
            url="renewal-rules",
            category="Catalog",
        )
    )

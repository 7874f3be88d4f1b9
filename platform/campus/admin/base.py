"""Base classes of every admin view: admins only, CSRF-checked forms, audited changes."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from flask import abort, current_app, flash, g, redirect, request
from flask_admin import BaseView
from flask_admin.actions import action
from flask_admin.babel import lazy_gettext, ngettext
from flask_admin.contrib.sqla import ModelView, tools
from flask_admin.contrib.sqla.form import AdminModelConverter
from flask_admin.form import BaseForm
from flask_admin.helpers import get_redirect_target
from flask_admin.model import filters as admin_filters
from flask_admin.model.form import InlineFormAdmin, converts
from markupsafe import Markup
from sqlalchemy import BigInteger
from sqlalchemy.exc import IntegrityError
from werkzeug.utils import secure_filename
from wtforms import SelectChoice, ValidationError, validators

from campus import dates
from campus.admin import security
from campus.admin.forms import PlainTextCheck
from campus.admin.search_terms import WholeSearchTerms, WholeTermFilterConverter
from campus.admin.services import record, snapshot
from campus.exports import csv_attachment, csv_text
from campus.extensions import db
from campus.forms import (
    DecimalPlaces,
    FiniteDecimalField,
    Form,
    WholeNumberField,
    empty_unless_shown,
    printable_text,
)
from campus.integers import MAX_ID, id_from
from campus.models.writes import is_duplicate
from campus.urls import requested_path, safe_local_path


def select_choices(pairs: Iterable[tuple[str, str]]) -> list[SelectChoice]:
    """Turn (value, label) pairs into the SelectChoice objects WTForms takes."""
    return [SelectChoice(value, label) for value, label in pairs]


class AdminForm(Form):
    """Flask-WTF's form (the CSRF token CSRFProtect checks) that remembers the edited object.

    Flask-Admin's unique-value check compares against `form._obj`, so editing a record does not
    count its own slug as taken.
    """

    def __init__(self, formdata=None, obj=None, prefix: str = "", **kwargs: Any) -> None:
        self._obj = obj
        super().__init__(formdata=formdata, obj=obj, prefix=prefix, **kwargs)


if TYPE_CHECKING:  # the mixin is only ever mixed into Flask-Admin views
    from flask_admin import BaseView as _ViewBase
else:
    _ViewBase = object


class SecureMixin(_ViewBase):
    """Admins only (students 403, anonymous to login); sensitive POSTs need a fresh password."""

    # View methods whose POST is sensitive, and action names that are.
    sensitive_views: tuple[str, ...] = ("delete_view",)
    sensitive_actions: tuple[str, ...] = ("delete",)
    # View methods that need a fresh password whatever the method (bulk reads of personal data).
    fresh_views: tuple[str, ...] = ("export",)

    def is_accessible(self) -> bool:
        return security.is_admin()

    def inaccessible_callback(self, name: Any, **kwargs: Any):
        return security.refuse()

    def _handle_view(self, name: str, **kwargs: Any):
        refused = super()._handle_view(name, **kwargs)
        if refused is not None:
            return refused
        back = request.values.get("url")
        if back and safe_local_path(back, "") != back:
            # Flask-Admin goes back to `url` after a save or delete: a line break in it cannot go
            # into the Location header (a 500 once the change was saved), and another site is no
            # way back. Refused before anything changes.
            abort(400, "The page to go back to is not a page of this site.")
        if request.method == "POST" and self._is_sensitive(name) and not security.is_fresh():
            return security.ask_for_password()
        if name in self.fresh_views and not security.is_fresh():
            # Straight back to the download once the password is confirmed.
            return security.ask_for_password(requested_path())
        return None

    def _is_sensitive(self, name: str) -> bool:
        if name == "action_view":
            return request.form.get("action") in self.sensitive_actions
        return name in self.sensitive_views


def _zoned_filter(filter_class, utc: bool):
    """A datetime filter whose values are read on the provider's clock, or as UTC.

    Our columns refuse naive datetimes. A list dates its rows on the provider's calendar, so a
    typed time is that clock's; only a list that shows UTC (the audit log) reads UTC.
    """

    class ZonedFilter(filter_class):
        def clean(self, value):
            value = super().clean(value)
            if isinstance(value, list | tuple):
                return [_aware(v, utc) for v in value]
            return _aware(value, utc)

    ZonedFilter.__name__ = f"{'UTC' if utc else 'Zoned'}{filter_class.__name__}"
    return ZonedFilter


def _aware(value, utc: bool):
    if isinstance(value, datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=UTC if utc else dates.zone())
        try:
            return value.astimezone(UTC)
        except OverflowError:
            # A time on the calendar's first or last day, read on a clock off UTC, lies past
            # what a datetime holds (a 500 when bound): it compares as the nearest one that does.
            edge = datetime.max if value.year == datetime.max.year else datetime.min
            return edge.replace(tzinfo=UTC)
    return value


def _integer_limit(column: Any) -> int:
    """The largest value an integer column holds (PostgreSQL's INTEGER is signed 32-bit)."""
    return 2**63 - 1 if isinstance(column.type, BigInteger) else MAX_ID


def _bounded_filter(filter_class, limit: int):
    """An integer filter for which a number past the column's range is not a valid value."""

    class BoundedFilter(filter_class):
        def clean(self, value):
            cleaned = super().clean(value)
            for number in cleaned if isinstance(cleaned, list) else [cleaned]:
                if not -limit - 1 <= number <= limit:
                    # Invalid, so Flask-Admin drops the filter: PostgreSQL would refuse to compare.
                    raise ValueError("past what the column holds")
            return cleaned

    BoundedFilter.__name__ = f"Bounded{filter_class.__name__}"
    return BoundedFilter


class CampusFilterConverter(WholeTermFilterConverter):
    """Flask-Admin's filters, taught our aware UTC datetime column type and integer ranges."""

    def __init__(self, *, utc: bool = False) -> None:
        super().__init__()
        self.utc = utc  # typed times are UTC (a list that shows UTC), else the provider's

    @admin_filters.convert("utcdatetime")
    def conv_utc_datetime(self, column, name, **kwargs):
        return [_zoned_filter(f, self.utc)(column, name, **kwargs) for f in self.datetime_filters]

    @admin_filters.convert(
        "int", "integer", "smallinteger", "smallint", "biginteger", "bigint", "mediumint"
    )
    def conv_int(self, column, name, **kwargs):
        limit = _integer_limit(column)
        numeric = (admin_filters.BaseIntFilter, admin_filters.BaseIntListFilter)
        return [
            (_bounded_filter(f, limit) if issubclass(f, numeric) else f)(column, name, **kwargs)
            for f in self.int_filters
        ]


class CampusModelConverter(AdminModelConverter):
    """Flask-Admin's form fields, with whole numbers kept to what their column holds."""

    @converts("String")
    def conv_String(self, column: Any, field_args: Any, **extra: Any):
        # A title, board or approval number is shown and printed as typed: a right-to-left
        # override reverses it on the certificate and the verify page, and a control character
        # makes the Atom feed XML no reader accepts.
        field_args["validators"].append(PlainTextCheck())
        return super().conv_String(column, field_args, **extra)

    @converts("Text")
    def conv_Text(self, column: Any, field_args: Any, **extra: Any):
        # Bodies, notes and transcripts keep their tabs and line breaks; other control and
        # text-direction characters are dropped as they are from members' text; one that shows
        # nothing at all (zero-width characters, spaces) is stored empty, as no text.
        field_args.setdefault("filters", []).extend((printable_text, empty_unless_shown))
        return super().conv_Text(column=column, field_args=field_args, **extra)

    @converts("Integer")
    def handle_integer_types(self, column: Any, field_args: Any, **extra: Any):
        # Past the column's range the database refuses the row when it is saved: the form says
        # so next to the field instead of "Failed to create record" and an error in the log.
        limit = _integer_limit(column)
        field_args["validators"].append(validators.NumberRange(min=-limit - 1, max=limit))
        if getattr(column.type, "unsigned", False):
            field_args["validators"].append(validators.NumberRange(min=0))
        return WholeNumberField(**field_args)

    @converts("Numeric")
    def handle_decimal_types(self, column: Any, field_args: Any, **extra: Any):
        # NaN and infinity are refused, and a number past NUMERIC(p, s) is said next to the
        # field: PostgreSQL refuses it with "numeric field overflow" when the row is saved.
        precision, scale = getattr(column.type, "precision", None), column.type.scale or 0
        if precision:
            limit = Decimal(10) ** (precision - scale) - Decimal(10) ** -scale
            field_args["validators"].append(validators.NumberRange(min=-limit, max=limit))
        if column.type.scale is not None:
            field_args["validators"].append(DecimalPlaces(scale))
        field_args.setdefault("places", None)
        return FiniteDecimalField(**field_args)


class InlineRows(InlineFormAdmin):
    """Rows edited inside their parent's form (a course's approvals, a question's answers)."""

    # A plain form: the CSRF token belongs to the page's form, not to every inline row.
    form_base_class = BaseForm

    def on_model_change(self, form, model, is_created: bool) -> None:
        # Flask-Admin makes a new row of any row whose id the parent does not hold: one ticked
        # for deletion after another admin deleted it came back, and a stale edit of it too.
        stale = form.get_pk() not in (None, "") or getattr(form, "_should_delete", False)
        if is_created and stale:
            raise ValidationError(
                "A row on this page was deleted or moved since the page was opened: "
                "nothing was saved. Open the page again and make the change there."
            )


# What an admin reads when the database refuses a change (AuditedModelView).
_DUPLICATE = (
    "Nothing was saved: another record was saved with the same values just now. "
    "Open the page again to see it."
)
_LINKED = (
    "Nothing was changed: a record linked to this one was added or deleted just now. "
    "Open the page again to see it."
)

# The last list page an admin can ask for: far past any real list, and an OFFSET every
# database takes (10^20 overflowed SQLite's; a negative one is an error on PostgreSQL).
MAX_LIST_PAGE = 1_000_000


class AdminPage(SecureMixin, BaseView):
    """A hand-written admin page."""


_LINE_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
# Names url_for (or get_url) takes as its own: copied from a query into a link, they fail it
# or change it.
_URL_FOR_NAME = re.compile(r"(endpoint|self)\Z|_")


class AuditedModelView(WholeSearchTerms, SecureMixin, ModelView):
    """A Flask-Admin model view whose every create, update and delete is written to the log."""

    form_base_class = AdminForm
    filter_converter = CampusFilterConverter()
    model_form_converter = CampusModelConverter
    page_size = 20
    can_export = True
    can_set_page_size = True
    can_view_details = True
    details_modal = False
    edit_modal = False
    create_modal = False
    list_template = "admin/campus/model_list.html"
    create_template = "admin/campus/model_create.html"
    edit_template = "admin/campus/model_edit.html"
    details_template = "admin/campus/model_details.html"

    # Where a column has no formatter of its own here, an export carries what the list shows
    # (get_export_value): its text, without the links and badges.
    column_formatters_export: dict = {}
    # A sentence above the list, where its rows follow a rule the admin should know.
    list_note = ""

    def __init__(self, model, session, **kwargs: Any) -> None:
        super().__init__(model, session, **kwargs)

    # --- exports: a fresh password (SecureMixin), an audit entry, and no live formulas
    export_types = ["csv"]

    def export_url(self, export_type: str) -> str:
        """The list's export link, with the list's query but none of url_for's own names."""
        args = {k: v for k, v in request.args.items() if not _URL_FOR_NAME.match(k)}
        args.pop("export_type", None)  # the link's own: a second one was a 500
        return self.get_url(".export", export_type=export_type, **args)

    def get_one(self, id: Any):
        """Return the record with this id, or None for one no integer key can match.

        The id comes from the query string (`?id=`): PostgreSQL refuses to compare an INTEGER
        key with "abc" or 2^32 (a DataError, so a 500); no record has it, so say so.
        """
        if self._integer_key() and id_from(str(id)) is None:
            return None
        return super().get_one(id)

    def _get_list_extra_args(self):
        """The list's query arguments, a page out of range read as the first."""
        args = super()._get_list_extra_args()
        if not 0 <= (args.page or 0) <= MAX_LIST_PAGE:
            args.page = 0
        # The list's links carry the rest of the query ("endpoint" in it was a 500).
        args.extra_args = {k: v for k, v in args.extra_args.items() if not _URL_FOR_NAME.match(k)}
        return args

    def handle_action(self, return_view: str | None = None):
        """Run a list action on the chosen rows; ids no integer key can match are refused."""
        if self._integer_key() and not all(
            id_from(raw) is not None for raw in request.form.getlist("rowid")
        ):
            # PostgreSQL refuses to compare an INTEGER key with "abc" or 2^32 (a 500).
            flash("Choose the records from the list.", "error")
            return redirect(get_redirect_target() or self.get_url(".index_view"))
        return super().handle_action(return_view)

    @action(
        "delete",
        lazy_gettext("Delete"),
        lazy_gettext("Are you sure you want to delete selected records?"),
    )
    def action_delete(self, ids):
        """Delete the chosen rows one by one; say how many went, and any failure in a sentence."""
        # Flask-Admin's own flashes the exception's text (its SQL) after handle_view_exception.
        # The form's strings are read as the key's integers: PostgreSQL will not compare them
        # with an INTEGER key (a 500 for every row); handle_action has checked that each fits.
        keys = [int(i) for i in ids] if self._integer_key() else ids
        try:
            rows = tools.get_query_for_ids(self.get_query(), self.model, keys).all()
        except Exception as exc:
            db.session.rollback()
            self.handle_view_exception(exc)
            return
        # Each delete commits on its own and says its own failure (delete_model).
        count = sum(1 for row in rows if self.delete_model(row))
        if count:
            flash(
                ngettext(
                    "Record was successfully deleted.",
                    "%(count)s records were successfully deleted.",
                    count,
                    count=count,
                ),
                "success",
            )

    def _integer_key(self) -> bool:
        keys = self.model.__mapper__.primary_key
        return len(keys) == 1 and keys[0].type.python_type is int

    def get_export_value(self, model: Any, name: Any) -> Any:
        """A cell of an export: its export formatter's, else the list's text, else the value.

        Without this an export gives the raw attribute: a related row's repr ("<User 7 ...>"),
        or nothing for a column the list computes (a status, a count).
        """
        if name in self.column_formatters_export or name not in self.column_formatters:
            return super().get_export_value(model, name)
        shown = self.column_formatters[name](self, None, model, name)
        if not isinstance(shown, Markup):
            return shown
        # Lines the list breaks apart stay apart in the cell.
        return Markup(_LINE_BREAK.sub("; ", shown)).striptags()

    def _export_csv(self, return_url: Any):
        # Built whole inside the request: Flask-Admin's stream reads rows after the session is
        # gone (lazy relations then fail), and the log entry must land with a complete export.
        _count, data = self._export_data()
        names = [name for name, _title in self._export_columns]
        rows = [[self.get_export_value(row, name) for name in names] for row in data]
        text = csv_text([[title for _name, title in self._export_columns], *rows])
        self._log_export(len(data), "csv")
        db.session.commit()
        return csv_attachment(text, secure_filename(self.get_export_name(export_type="csv")))

    def _log_export(self, rows: int, export_type: str) -> None:
        args = self._get_list_extra_args()
        criteria = [f"search {args.search!r}"] if args.search else []
        criteria += [f"{label} {value!r}" for _index, label, value in args.filters or ()]
        record(
            "export",
            object_type=self.model.__name__,
            summary=f"exported {rows} {self.name} rows as {export_type}"
            + (f" ({'; '.join(criteria)})" if criteria else ""),
        )

    def handle_view_exception(self, exc: Exception) -> bool:
        """Show a refusal's own message; any other failure a plain one, its details logged.

        Flask-Admin shows the exception's text, which for a database error is its SQL and the
        values it carried: an admin gets a sentence, the log gets the rest.
        """
        if isinstance(exc, ValidationError):
            return super().handle_view_exception(exc)
        if isinstance(exc, IntegrityError):
            # What a check before the save could not see, done meanwhile by another admin or a
            # member: a unique value taken, or a linked record added or deleted (a student
            # enrolled in the course being deleted), which is nothing about duplicates.
            flash(_DUPLICATE if is_duplicate(exc) else _LINKED, "error")
            current_app.logger.warning("admin change refused by the database: %s", exc.orig)
        else:
            flash(
                "Nothing was saved: the change failed. The error is in the server's log.", "error"
            )
            current_app.logger.exception("admin change failed in %s", type(self).__name__)
        return True

    # --- validation hooks for subclasses: raise wtforms.ValidationError with a clear message
    def validate_change(self, form, model, is_created: bool) -> None:
        """Check a change before it is saved."""

    def validate_delete(self, model) -> None:
        """Check a deletion before it happens."""

    # --- audit
    def update_model(self, form, model) -> bool:
        g.admin_audit_before = snapshot(model)
        return super().update_model(form, model)

    def on_model_change(self, form, model, is_created: bool) -> None:
        self.validate_change(form, model, is_created)
        db.session.flush()
        before = None if is_created else g.pop("admin_audit_before", None)
        after = snapshot(model)
        record("create" if is_created else "update", model, before=before, after=after)

    def on_model_delete(self, model) -> None:
        self.validate_delete(model)
        record("delete", model, before=snapshot(model))

"""The base of every form (Flask-WTF's, text fields that only read text) and its fields."""

from __future__ import annotations

import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import g, has_request_context, request
from flask_wtf import FlaskForm
from flask_wtf.form import _Auto  # the "read the request" default of FlaskForm(formdata=...)
from werkzeug.datastructures import FileStorage, MultiDict
from wtforms import ValidationError
from wtforms.fields import DecimalField, FileField, IntegerField, MultipleFileField, StringField
from wtforms.validators import StopValidation

from campus.accounts.rules import DIRECTION_MARKS, shows_something
from campus.integers import is_digits, is_plain_decimal

# Hidden fields carry what the page set (an id, a role, a code), never what was typed.
_NOT_REFILLED = ("hidden", "password", "file", "submit", "checkbox", "radio")


class Form(FlaskForm):
    """A Flask-WTF form that reads uploads into its file fields only, and no JSON body.

    Flask-WTF (and Flask-Admin, which passes the request's data itself) hands a form every
    upload next to its fields, so a file sent under a text field's name reached that field's
    validators as a file object, and a JSON body of any shape was read as the form: both
    answered 500. Pages post their forms as forms.

    A page shown again with what was typed before (`g.typed_fields`, e.g. after the admin's
    password confirmation) has its forms' text fields filled in from it.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        typed = g.get("typed_fields") if has_request_context() else None
        if typed and not self.is_submitted():
            self.fill_typed(typed)

    def fill_typed(self, typed: MultiDict) -> None:
        """Fill the visible text and number fields from what was typed (not hidden ones)."""
        for field in self:
            if (
                field.name not in typed
                or getattr(field.widget, "input_type", None) in _NOT_REFILLED
            ):
                continue
            if isinstance(field, StringField | IntegerField | DecimalField):
                field.process(MultiDict([(field.name, typed[field.name])]))

    class Meta(FlaskForm.Meta):
        def render_field(self, field: Any, render_kw: dict) -> Any:
            if field.type == "CSRFTokenField":
                # Pages hold several forms, and an id must be unique in a page; nothing needs
                # the token's (an id of False is left out of the tag).
                render_kw = {"id": False, **render_kw}
            return super().render_field(field, render_kw)

        def wrap_formdata(self, form: Any, formdata: Any) -> Any:
            if formdata is _Auto and request.is_json:
                formdata = request.form if form.is_submitted() else None
            data = super().wrap_formdata(form, formdata)
            if data is None or not request.files:
                return data
            file_fields = {
                field.name for field in form if isinstance(field, FileField | MultipleFileField)
            }
            stray = [
                name
                for name, value in data.items(multi=True)
                if isinstance(value, FileStorage) and name not in file_fields
            ]
            if not stray:
                return data
            return MultiDict(
                (name, value)
                for name, value in data.items(multi=True)
                if name in file_fields or not isinstance(value, FileStorage)
            )


def printable_text(value: str | None) -> str | None:
    """Drop control and text-direction characters but keep tabs and line breaks (a filter).

    Nobody types them; pasted in, they ring or move the cursor in a terminal, and a direction
    override turns the text around for whoever reads it later, on a page or in an export.
    """
    if value is None:
        return None
    return _printable(value)


def _printable(value: str) -> str:
    return "".join(
        ch
        for ch in value
        if ch in "\t\n\r"
        or (unicodedata.category(ch) not in ("Cc", "Cs") and not DIRECTION_MARKS.match(ch))
    )


def empty_unless_shown(value: str | None) -> str | None:
    """Make a text that shows nothing (spaces, zero-width characters, marks alone) empty (a filter).

    Such a text is no text: kept as typed, a lesson or a summary looks written and shows blank.
    """
    if value is None or shows_something(value):
        return value
    return ""


def one_line_text(value: str | None) -> str | None:
    """Printable text on one line: each run of spaces, tabs or line breaks becomes one space.

    A name or an address pasted from a document brings non-breaking spaces and line breaks;
    they are spaces between words, not characters to drop ("Dr.\u00a0Lee" stays "Dr. Lee").
    """
    if value is None:
        return None
    return " ".join(_printable(value).split())


def block_text(value: str | None) -> str | None:
    """Printable text that keeps its line breaks, trimmed at both ends (a filter)."""
    if value is None:
        return None
    return _printable(value).strip()


# More digits than any column or range in the forms needs, and far fewer than a float holds.
_LONGEST_NUMBER = 30


class WholeNumberField(IntegerField):
    """An IntegerField that reads a whole number written in ASCII digits (with a minus sign).

    int() also reads "1_000", "+7" and other scripts' digits ("٣" is 3): a number typed into a
    form is read as ASCII digits only, so none of those is saved as some other number.
    """

    def process_formdata(self, valuelist: list[Any]) -> None:
        raw = str(valuelist[0]).strip() if valuelist else ""
        if raw and not is_digits(raw.removeprefix("-")):
            raise ValueError(self.gettext("Not a valid integer value."))
        super().process_formdata(valuelist)
        # WTForms' NumberRange turns the number into a float (math.isnan): past about 10**308
        # that raised OverflowError, a 500, before any range was checked.
        self.too_large = (
            self.data is not None and len(raw.removeprefix("-").lstrip("0")) > _LONGEST_NUMBER
        )

    def pre_validate(self, form: Any) -> None:
        """Stop before the other checks when the number is too large to compare."""
        if getattr(self, "too_large", False):
            raise StopValidation(self.gettext("This number is too large."))


class FiniteDecimalField(DecimalField):
    """A DecimalField that reads a plain decimal number written in ASCII digits.

    Python's Decimal also reads NaN and infinity ("sNaN" made a range check raise
    InvalidOperation, a 500), "1e3", "1_000" and the digits of other scripts.
    """

    def process_formdata(self, valuelist: list[Any]) -> None:
        raw = str(valuelist[0]).strip() if valuelist else ""
        if raw and not is_plain_decimal(raw):
            raise ValueError(self.gettext("Not a valid decimal value."))
        super().process_formdata(valuelist)


class DecimalPlaces:
    """Refuse a number written finer than its column keeps (NUMERIC(5, 2) keeps hundredths).

    The database would round it on its own terms (SQLite and PostgreSQL differently) while the
    audit entry kept the number as typed: CE hours of 1.125 would be stored as 1.12 or 1.13.
    """

    def __init__(self, scale: int) -> None:
        self.step = Decimal(1).scaleb(-scale)
        self.scale = scale

    def __call__(self, form: Any, field: Any) -> None:
        value = field.data
        if not isinstance(value, Decimal) or not value.is_finite():
            return
        try:
            exact = value.quantize(self.step) == value
        except InvalidOperation:
            return  # past what the column holds: its range check says so
        if not exact:
            places = "a whole number" if self.scale == 0 else f"at most {self.scale} decimal places"
            raise ValidationError(f"{field.label.text}: write {places}.")

"""Forms of the hand-written admin pages (Flask-WTF: CSRF-checked)."""

from __future__ import annotations

from typing import Any

from wtforms import (
    HiddenField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, NumberRange, Optional

from campus.accounts.roles import ASSIGNABLE
from campus.accounts.rules import RuleError, plain_text, shows_something
from campus.forms import Form, WholeNumberField, printable_text


class ConfirmPasswordForm(Form):
    """The admin's own password, to open sensitive actions."""

    password = PasswordField("Your password", validators=[DataRequired()])
    code = StringField("Code from your authenticator app", validators=[Optional(), Length(max=40)])


class CompForm(Form):
    """Grant a comp membership."""

    days = WholeNumberField(
        "Days",
        default=30,
        validators=[
            InputRequired("Enter a number of days."),
            NumberRange(1, 3660, "Days must be between 1 and 3660."),
        ],
    )
    reason = StringField(
        "Reason",
        validators=[DataRequired("Say why (it is kept in the log)."), Length(max=500)],
    )


class ActionForm(Form):
    """A button-only form: the CSRF token is all it carries."""


class RoleForm(Form):
    """A member's role button: the role it gives rides in a hidden field."""

    role = HiddenField(validators=[AnyOf(ASSIGNABLE, "That is not a role given here.")])


class RevokeForm(Form):
    """Revoke a certificate, with the reason shown on its verification page."""

    reason = TextAreaField(
        "Reason",
        validators=[DataRequired("Give a reason for the revocation."), Length(max=500)],
        filters=[printable_text],
    )


class CertificateChangeForm(RevokeForm):
    """Revoke or reissue a certificate: the reason, and the code of the page it was sent from."""

    # The change is for the certificate as the admin saw it: reissued under another code since
    # (by another admin, or by this very form sent twice), it is refused, not made again.
    code = HiddenField(validators=[Optional(), Length(max=64)])


class MoveForm(Form):
    """Move one module or lesson of a course one place up or down."""

    kind = SelectField(choices=[SelectChoice("module", "module"), SelectChoice("lesson", "lesson")])
    item_id = WholeNumberField(validators=[InputRequired(), NumberRange(min=1, max=2**31 - 1)])
    direction = SelectField(choices=[SelectChoice("up", "up"), SelectChoice("down", "down")])


class PlainTextCheck:
    """Refuse control and text-direction characters in one line of text (as names are)."""

    def __call__(self, form: Any, field: Any) -> None:
        if isinstance(field.data, str):
            try:
                text = plain_text(field.data, str(field.label.text))
            except RuleError as exc:
                raise ValidationError(str(exc)) from None
            # Zero-width spaces, joiners or accents alone are not blank, yet show as nothing.
            if text and not shows_something(text):
                raise ValidationError(
                    f"{field.label.text} has nothing to read: type it again as plain text."
                )

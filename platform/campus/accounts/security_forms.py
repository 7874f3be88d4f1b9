"""Forms of the sign-in code step and the account security page."""

from __future__ import annotations

from wtforms import PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional

from campus.forms import Form

_code = [
    InputRequired("Enter the code."),
    Length(max=40, message="That code is too long."),
]


class CodeForm(Form):
    """A code from the authenticator app, or a recovery code."""

    code = StringField("Code from your authenticator app, or a recovery code", validators=_code)


_password = [InputRequired("Enter your password."), Length(max=200)]


class PasswordForm(Form):
    """The account's password, to confirm a security change."""

    password = PasswordField("Your password", validators=_password)


class RecoveryCodesForm(Form):
    """The account's password and a code, to replace the recovery codes."""

    # The security page shows this beside the turn-off form's fields: ids of their own keep
    # each label and error with its own field.
    password = PasswordField("Your password", validators=_password, id="codes-password")
    code = StringField("Code from your app, or a recovery code", validators=_code, id="codes-code")


class ConfirmTotpForm(PasswordForm):
    """The password and the first code from a newly added authenticator app."""

    code = StringField("Code from the app", validators=_code)


class DisableTotpForm(PasswordForm):
    """The password and a code, to turn the second factor off."""

    code = StringField("Code from your app, or a recovery code", validators=_code)


class ApiTokenForm(Form):
    """A new personal API token: its name, what it may do and how long it lasts."""

    name = StringField(
        "Name",
        validators=[
            InputRequired("Name the token."),
            Length(max=80, message="At most 80 characters."),
        ],
    )
    scope = SelectField(
        "Access",
        choices=[SelectChoice("read", "Read only"), SelectChoice("write", "Read and write")],
        default="read",
    )
    lifetime = SelectField(
        "Expires",
        choices=[
            SelectChoice("30", "In 30 days"),
            SelectChoice("90", "In 90 days"),
            SelectChoice("365", "In a year"),
            SelectChoice("never", "Never"),
        ],
        default="90",
    )
    # Beside the other password fields of the security page: an id of its own.
    password = PasswordField("Your password", validators=_password, id="token-password")
    # Asked for (and checked) only when the account has a second factor.
    code = StringField(
        "Code from your app, or a recovery code",
        validators=[Optional(), Length(max=40, message="That code is too long.")],
        id="token-code",
    )

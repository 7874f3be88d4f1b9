"""Forms of the sign-in code step and the account security page."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired, Length

_code = [
    InputRequired("Enter the code."),
    Length(max=40, message="That code is too long."),
]


class CodeForm(FlaskForm):
    """A code from the authenticator app, or a recovery code."""

    code = StringField("Code from your authenticator app, or a recovery code", validators=_code)


class ConfirmTotpForm(FlaskForm):
    """The first code from a newly added authenticator app."""

    code = StringField("Code from the app", validators=_code)


class PasswordForm(FlaskForm):
    """The account's password, to confirm a security change."""

    password = PasswordField(
        "Your password", validators=[InputRequired("Enter your password."), Length(max=200)]
    )


class DisableTotpForm(PasswordForm):
    """The password and a code, to turn the second factor off."""

    code = StringField("Code from your app, or a recovery code", validators=_code)

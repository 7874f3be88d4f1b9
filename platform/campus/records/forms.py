"""The forms of the Your data page."""

from __future__ import annotations

from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired, Length, Optional

from campus.forms import Form


class DeleteAccountForm(Form):
    """The password, the second-factor code (when on) and the typed word that confirm it."""

    password = PasswordField(
        "Your password", validators=[InputRequired("Enter your password."), Length(max=200)]
    )
    code = StringField(
        "Code from your authenticator app, or a recovery code",
        validators=[Optional(), Length(max=40, message="That code is too long.")],
    )
    confirmation = StringField(
        "Type DELETE to confirm",
        validators=[InputRequired("Type DELETE to confirm."), Length(max=20)],
    )

"""Account forms; the services check the rest (password strength, hidden characters)."""

from __future__ import annotations

from wtforms import BooleanField, EmailField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import Email, EqualTo, InputRequired, Length, Optional

from campus.accounts.models import PROFESSIONS
from campus.accounts.rules import PASSWORD_MAX, PASSWORD_MIN
from campus.forms import Form

_email = [
    InputRequired("Enter your email address."),
    Length(max=320, message="That email address is too long."),
    Email("Enter a valid email address, like name@example.com.", check_deliverability=False),
]


def _trimmed(value: str | None) -> str | None:
    """Drop the spaces a phone's keyboard or a paste leaves around an address."""
    return value.strip() if isinstance(value, str) else value


_new_password = [
    InputRequired("Choose a password."),
    Length(
        min=PASSWORD_MIN,
        max=PASSWORD_MAX,
        message=f"Use between {PASSWORD_MIN} and {PASSWORD_MAX} characters.",
    ),
]
_profession_choices = [SelectChoice(value, label) for value, label in PROFESSIONS.items()]


class ProfileFields:
    """Fields shared by sign-up and the profile page."""

    full_name = StringField(
        "Full name (as it should appear on certificates)",
        validators=[InputRequired("Enter your full name."), Length(max=120)],
    )
    profession = SelectField("Profession", choices=_profession_choices, default="massage_therapist")


class SignupForm(ProfileFields, Form):
    email = EmailField("Email", validators=_email, filters=[_trimmed])
    password = PasswordField("Password", validators=_new_password)


class LoginForm(Form):
    email = EmailField("Email", validators=_email, filters=[_trimmed])
    password = PasswordField(
        "Password", validators=[InputRequired("Enter your password."), Length(max=PASSWORD_MAX)]
    )
    remember = BooleanField("Keep me signed in on this device")


class ResetRequestForm(Form):
    email = EmailField("Email", validators=_email, filters=[_trimmed])


class ResetPasswordForm(Form):
    password = PasswordField("New password", validators=_new_password)
    confirm = PasswordField(
        "Repeat the new password",
        validators=[
            InputRequired("Repeat the new password."),
            EqualTo("password", "The two passwords differ."),
        ],
    )


class ChangePasswordForm(Form):
    current_password = PasswordField(
        "Current password", validators=[InputRequired("Enter your current password.")]
    )
    password = PasswordField("New password", validators=_new_password)
    confirm = PasswordField(
        "Repeat the new password",
        validators=[
            InputRequired("Repeat the new password."),
            EqualTo("password", "The two passwords differ."),
        ],
    )


class ProfileForm(ProfileFields, Form):
    pass


class EmptyForm(Form):
    """A form with only the CSRF token, for buttons that POST."""


class ChangeEmailForm(Form):
    """The new address, the current password and (with a second factor on) a code."""

    email = EmailField("New email address", validators=_email, filters=[_trimmed])
    password = PasswordField(
        "Your password", validators=[InputRequired("Enter your password."), Length(max=200)]
    )
    # Asked for (and checked) only when the account has a second factor.
    code = StringField(
        "Code from your app, or a recovery code",
        validators=[Optional(), Length(max=40, message="That code is too long.")],
    )

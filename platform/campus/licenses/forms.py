"""License forms; the actions check the rest (number formats, hidden characters)."""

from __future__ import annotations

from wtforms import DateField, SelectChoice, SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional

from campus.accounts.models import PROFESSIONS
from campus.forms import Form
from campus.licenses.jurisdictions import NATIONAL, STATES


def _jurisdiction_choices() -> list[SelectChoice]:
    states = [SelectChoice(code, name, optgroup="States") for code, name in STATES.items()]
    national = [
        SelectChoice(code, name, optgroup="National credentials") for code, name in NATIONAL.items()
    ]
    return [SelectChoice("", "Choose…"), *sorted(states, key=lambda c: c.label), *national]


class LicenseForm(Form):
    profession = SelectField(
        "Profession",
        choices=[SelectChoice(value, label) for value, label in PROFESSIONS.items()],
        default="massage_therapist",
    )
    jurisdiction = SelectField(
        "Issued by (state or national credential)",
        choices=_jurisdiction_choices(),
        validators=[InputRequired("Choose the state or national credential.")],
    )
    number = StringField(
        "License number",
        validators=[InputRequired("Enter the license number."), Length(max=60)],
    )
    expires_on = DateField(
        "Expires on",
        validators=[Optional()],
        render_kw={"autocomplete": "off"},
    )


class ActionForm(Form):
    """A button that changes something: only the CSRF token."""

"""Forms of the article library."""

from __future__ import annotations

from wtforms import BooleanField, EmailField, Field, StringField
from wtforms.validators import DataRequired, Email, Length, ValidationError

from campus.accounts.rules import has_letter
from campus.content.downloads import CONSENT_TEXT
from campus.forms import Form, one_line_text


class DownloadForm(Form):
    """Name and email for a free download, and a separate, optional marketing consent."""

    name = StringField(
        "Your name",
        validators=[DataRequired("Please tell us your name."), Length(max=120)],
        filters=[one_line_text],
    )
    email = EmailField(
        "Email",
        validators=[
            DataRequired("Please enter your email address."),
            Email("Please enter a valid email address.", check_deliverability=False),
            Length(max=320),
        ],
        filters=[one_line_text],
    )
    marketing = BooleanField(CONSENT_TEXT, default=False)

    def validate_name(self, field: Field) -> None:
        """Refuse a name with no letter: zero-width spaces or dashes alone greet nobody."""
        if not has_letter(field.data or ""):
            raise ValidationError("Please tell us your name.")

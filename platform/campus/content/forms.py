"""Forms of the article library."""

from __future__ import annotations

from wtforms import BooleanField, EmailField, StringField
from wtforms.validators import DataRequired, Email, Length

from campus.content.downloads import CONSENT_TEXT
from campus.forms import Form


def _printable(value: str | None) -> str | None:
    """Drop control characters (a NUL byte cannot even be stored)."""
    if value is None:
        return None
    return "".join(ch for ch in value if ch.isprintable()).strip()


class DownloadForm(Form):
    """Name and email for a free download, and a separate, optional marketing consent."""

    name = StringField(
        "Your name",
        validators=[DataRequired("Please tell us your name."), Length(max=120)],
        filters=[_printable],
    )
    email = EmailField(
        "Email",
        validators=[
            DataRequired("Please enter your email address."),
            Email("Please enter a valid email address.", check_deliverability=False),
            Length(max=320),
        ],
        filters=[_printable],
    )
    marketing = BooleanField(CONSENT_TEXT, default=False)

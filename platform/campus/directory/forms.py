"""Forms of the directory: the member's profile, the client's message, the moderator's reason."""

from __future__ import annotations

from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    SelectChoice,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from campus.directory import taxonomy
from campus.forms import Form, block_text, one_line_text


class CheckboxList(SelectMultipleField):
    """Several choices shown as checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ProfileForm(Form):
    """Everything a member's directory profile shows."""

    display_name = StringField(
        "Name shown to clients",
        validators=[DataRequired("Enter the name clients know you by."), Length(max=120)],
        filters=[one_line_text],
    )
    practice_name = StringField(
        "Practice name", validators=[Optional(), Length(max=160)], filters=[one_line_text]
    )
    professions = CheckboxList("Professions")
    specialties = CheckboxList("Specialties")
    street = StringField(
        "Street address", validators=[Optional(), Length(max=200)], filters=[one_line_text]
    )
    show_street = BooleanField("Show my street address (otherwise only the city and ZIP)")
    zip_code = StringField(
        "ZIP code",
        validators=[DataRequired("Enter your practice's ZIP code."), Length(max=10)],
        filters=[one_line_text],
    )
    bio = TextAreaField(
        "About you and your practice",
        validators=[Optional(), Length(max=4000)],
        filters=[block_text],
    )
    website = StringField(
        "Website", validators=[Optional(), Length(max=300)], filters=[one_line_text]
    )
    phone = StringField(
        "Phone (optional)", validators=[Optional(), Length(max=40)], filters=[one_line_text]
    )
    photo = FileField("Photo (JPEG, PNG or WebP, up to 800 KB)")
    remove_photo = BooleanField("Remove my photo")
    accepting_clients = BooleanField("I am accepting new clients", default=True)
    contact_enabled = BooleanField("Let clients message me through the directory", default=True)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.specialties.choices = [
            SelectChoice(key, label) for key, label in taxonomy.specialties().items()
        ]
        self.professions.choices = [
            SelectChoice(key, label) for key, label in taxonomy.professions().items()
        ]


class ContactForm(Form):
    """A client's message to a practitioner, with the two robot traps."""

    name = StringField(
        "Your name",
        validators=[DataRequired("Tell the practitioner your name."), Length(max=120)],
        filters=[one_line_text],
    )
    email = EmailField(
        "Your email",
        validators=[DataRequired("Enter your email so they can reply."), Length(max=320)],
        filters=[one_line_text],
    )
    message = TextAreaField(
        "Message",
        validators=[DataRequired("Write your message."), Length(max=3000)],
        filters=[block_text],
    )
    # People never see this field (the stylesheet moves it off screen); robots fill it in.
    homepage = StringField("Leave this field empty")
    stamp = HiddenField()


class ReasonForm(Form):
    """A moderator's reason, sent to the practitioner."""

    reason = TextAreaField(
        "Reason (emailed to the practitioner)",
        validators=[DataRequired("Give the practitioner a reason."), Length(max=2000)],
        filters=[block_text],
    )

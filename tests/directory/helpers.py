"""Factories for the directory tests: profiles at real ZIP codes, contact form stamps."""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import timedelta

import time_machine
from sqlalchemy import event

from tests import support

# A member's profile form, filled in as a practitioner would.
FORM = {
    "display_name": "Robin Reyes, LMT",
    "practice_name": "Reyes Bodywork",
    "professions": ["massage_therapist"],
    "specialties": ["trigger-point-therapy", "sports-massage"],
    "street": "12 Main St",
    "zip_code": "04101",
    "bio": "I treat **neck pain**.<script>alert(1)</script>",
    "website": "reyes-bodywork.example",
    "phone": "(207) 555-0100",
    "accepting_clients": "y",
    "contact_enabled": "y",
}


def save_form(client, **changes):
    """Post the profile form with these fields changed."""
    return support.post_form(client, "/directory/me", {**FORM, **changes})


def make_profile(
    zip_code: str = "10001",
    *,
    user=None,
    published: bool = True,
    specialties: tuple[str, ...] = ("trigger-point-therapy",),
    professions: tuple[str, ...] = ("massage_therapist",),
    display_name: str | None = None,
    **fields,
):
    """Save (and publish) a profile through the action a member's form uses; returns it."""
    from campus.directory import actions, services
    from campus.extensions import db

    user = user or support.create_user()
    data = services.ProfileData(
        display_name=display_name or user.full_name,
        zip_code=zip_code,
        specialties=list(specialties),
        professions=list(professions),
        **fields,
    )
    profile = actions.save_profile(user, data)
    if published:
        actions.publish_profile(user)
    db.session.commit()
    return profile


def stamp_for(app, profile_id: int, seconds_ago: float = 60) -> str:
    """A contact-form stamp signed as if the form had been shown `seconds_ago` seconds ago."""
    from campus.directory import contact
    from campus.models.base import utcnow

    moment = utcnow() - timedelta(seconds=seconds_ago)
    with time_machine.travel(moment, tick=False), app.test_request_context():
        return contact.form_stamp(profile_id)


def message_fields(app, profile_id: int, **overrides) -> dict[str, str]:
    """A client's contact form, filled in like a person would."""
    data = {
        "name": "Casey Client",
        "email": "casey@example.net",
        "message": "Hello, do you treat shoulder pain from desk work? I live nearby.",
        "homepage": "",
        "stamp": stamp_for(app, profile_id),
    }
    data.update(overrides)
    return data


@contextmanager
def counted_statements(app):
    """Count the SQL statements run inside the block (a list that fills as they run)."""
    from campus.extensions import db

    statements: list[str] = []
    with app.app_context():
        engine = db.engine

    def _count(conn, cursor, statement, parameters, context, executemany):
        if not re.match(r"\s*(SAVEPOINT|RELEASE|ROLLBACK|BEGIN|COMMIT)", statement, re.I):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", _count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", _count)

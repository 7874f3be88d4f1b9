"""Factories for the license tests."""

from __future__ import annotations

from datetime import date


def add_license(
    user_id: int,
    jurisdiction: str = "FL",
    number: str = "MA12345",
    profession: str = "massage_therapist",
    expires_on: date | None = None,
):
    """Insert and commit a license (inside an app context); returns it."""
    from campus.extensions import db
    from campus.licenses.models import License

    license = License(
        user_id=user_id,
        profession=profession,
        jurisdiction=jurisdiction,
        number=number,
        expires_on=expires_on,
    )
    db.session.add(license)
    db.session.commit()
    return license


def import_shipped_rules() -> None:
    """Load the shipped renewal rules (inside an app context) and commit."""
    from campus.extensions import db
    from campus.licenses.rules import import_rules, read_rules

    import_rules(read_rules(), replace=False)
    db.session.commit()

"""The member's professional licenses, as the archive lists them and deletion removes them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select

from campus.accounts.models import User
from campus.extensions import db
from campus.licenses.models import License
from campus.licenses.services import licenses_for


def licenses_part(user: User) -> list[dict[str, Any]]:
    """Every license on the account."""
    return [
        {
            "profession": item.profession_label,
            "jurisdiction": item.jurisdiction_label,
            "jurisdiction_code": item.jurisdiction,
            "number": item.number,
            "expires_on": item.expires_on,
            "renewal_reminders": item.reminders,
        }
        for item in licenses_for(user.id)
    ]


def first_license(user: User) -> tuple[str, str]:
    """The number and jurisdiction of the member's first license ("" when there is none)."""
    found = licenses_for(user.id)
    return (found[0].number, found[0].jurisdiction) if found else ("", "")


def forget_licenses(user: User) -> tuple[tuple[int, str], ...]:
    """Delete the account's licenses (and their reminders); return them as (id, number).

    Certificates keep what they printed: a certificate's `license_id` is set to NULL by its
    foreign key; the number and state the boards read stay in the certificate's frozen data.
    """
    removed = tuple(
        (license_id, number)
        for license_id, number in db.session.execute(
            select(License.id, License.number).where(License.user_id == user.id)
        )
    )
    db.session.execute(
        delete(License)
        .where(License.user_id == user.id)
        .execution_options(synchronize_session=False)
    )
    return removed

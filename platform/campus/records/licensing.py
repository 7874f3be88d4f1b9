"""The member's professional licenses, as the archive lists them and deletion removes them."""

from __future__ import annotations

from typing import Any

from campus.accounts.models import User


def licenses_part(user: User) -> list[dict[str, Any]]:
    """The licenses on the account (the profile's one license number and state)."""
    if not (user.license_number or user.license_state):
        return []
    return [
        {
            "profession": user.profession_label,
            "jurisdiction": user.license_state,
            "number": user.license_number,
            "expires_on": None,
        }
    ]


def forget_licenses(user: User) -> int:
    """Remove the account's licenses; certificates keep the number they printed."""
    had = int(bool(user.license_number or user.license_state))
    user.license_number = None
    user.license_state = None
    return had

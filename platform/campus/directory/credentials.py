"""The live badges a profile shows, read from Campus data at the moment the page is built.

Credential badges come from the programs feature and "license on file" from the licenses
feature; each is asked only when its feature is installed, so the directory works (showing
the CE hours alone) in a build without them. Nothing here is copied onto the profile: a
revoked or expired credential disappears from the directory the moment it changes.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import bindparam, select

from campus.extensions import db

CE_WINDOW_DAYS = 730  # "the last 24 months"


@dataclass(frozen=True)
class LiveBadges:
    """What Campus itself vouches for about a practitioner, now."""

    credentials: list[Any] = field(default_factory=list)  # programs' CredentialBadge
    ce_hours: Decimal = Decimal("0")
    ce_since: date | None = None
    license_on_file: bool = False


def _installed(feature: str) -> bool:
    return feature in current_app.extensions.get("campus_features", ())


def _feature_module(feature: str, module: str) -> Any | None:
    """The named module of an installed feature (None when the build has no such feature)."""
    if not _installed(feature):
        return None
    return importlib.import_module(f"campus.{feature}.{module}")


def credential_badges(user_id: int) -> list[Any]:
    """The valid credentials a member holds (empty without the programs feature)."""
    public = _feature_module("programs", "public")
    return list(public.badges_for(user_id)) if public is not None else []


def license_on_file(user_id: int) -> bool:
    """Whether the member has a current license on file (False without the licenses feature)."""
    services = _feature_module("licenses", "services")
    return bool(services.license_on_file(user_id)) if services is not None else False


def recent_ce_hours(user_id: int, today: date | None = None) -> tuple[Decimal, date]:
    """CE hours earned on Campus in the last 24 months, and the first day of that window."""
    from campus.learning.credit import earned_hours

    today = today or date.today()
    since = today - timedelta(days=CE_WINDOW_DAYS)
    if not _installed("learning"):
        return Decimal("0"), since
    return earned_hours(user_id, since, today), since


def live_badges(user_id: int) -> LiveBadges:
    """Everything a profile page shows as earned, read now."""
    hours, since = recent_ce_hours(user_id)
    return LiveBadges(
        credentials=credential_badges(user_id),
        ce_hours=hours,
        ce_since=since,
        license_on_file=license_on_file(user_id),
    )


def credential_choices() -> list[tuple[str, str]]:
    """The credentials the search can filter by, (program slug, title); empty without programs."""
    if not _installed("programs"):
        return []
    from campus.programs.models import Program

    rows = db.session.execute(
        select(Program.slug, Program.title)
        .where(Program.published.is_(True))
        .order_by(Program.title)
    )
    return [(slug, title) for slug, title in rows]


def credential_holders(slug: str, user_ids: Iterable[int]) -> set[int]:
    """Which of these members hold a valid credential of the program `slug`, in one query."""
    ids = list(user_ids)
    if not _installed("programs") or not ids:
        return set()
    from campus.programs.models import Credential, Program
    from campus.programs.public import today

    return set(
        db.session.scalars(
            select(Credential.user_id)
            .join(Program, Program.id == Credential.program_id)
            .where(
                Program.slug == slug,
                Credential.status == "issued",
                Credential.valid_until >= today(),
                Credential.user_id.in_(bindparam("ids", expanding=True)),
            ),
            {"ids": ids},
        )
    )

"""The live badges a profile shows, read from Campus data at the moment the page is built.

Credential badges come from the programs feature and "license on file" from the licenses
feature. Nothing here is copied onto the profile: a revoked or expired credential disappears
from the directory the moment it changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from campus import dates
from campus.learning.credit import earned_hours
from campus.licenses import services as licenses
from campus.models.reads import read
from campus.programs import public as programs
from campus.programs.models import Program
from campus.programs.public import CredentialBadge

CE_WINDOW_DAYS = 730  # "the last 24 months"


@dataclass(frozen=True)
class LiveBadges:
    """What Campus itself vouches for about a practitioner, now."""

    credentials: list[CredentialBadge] = field(default_factory=list)
    ce_hours: Decimal = Decimal("0")
    ce_since: date | None = None
    license_on_file: bool = False

    @property
    def has_ce_hours(self) -> bool:
        """Whether there are hours to vouch for: "0 CE hours earned" vouches for nothing."""
        return self.ce_hours > 0

    @property
    def any(self) -> bool:
        """Whether Campus has anything to vouch for at all."""
        return bool(self.credentials) or self.has_ce_hours or self.license_on_file


def credential_badges(user_id: int) -> list[CredentialBadge]:
    """The valid credentials a member holds."""
    return list(programs.badges_for(user_id))


def license_on_file(user_id: int) -> bool:
    """Whether the member has a license on file that has not expired (the badge says current)."""
    return licenses.current_license_on_file(user_id, dates.today())


def recent_ce_hours(user_id: int, today: date | None = None) -> tuple[Decimal, date]:
    """CE hours earned on Campus in the last 24 months, and the first day of that window."""
    today = today or dates.today()
    since = today - timedelta(days=CE_WINDOW_DAYS)
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


_CHOICES = (
    select(Program.slug, Program.title).where(Program.published.is_(True)).order_by(Program.title)
)


def credential_choices() -> list[tuple[str, str]]:
    """The credentials the search can filter by, (program slug, title)."""
    return [(slug, title) for slug, title in read(_CHOICES)]

"""What other features may read about credentials: the live badges of a holder."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from campus import dates
from campus.extensions import db
from campus.models.reads import slugs_and_changes
from campus.programs.models import Credential, Program
from campus.urls import public_url


@dataclass(frozen=True)
class CredentialBadge:
    """A credential as a badge: what it is, its code, its status today and where to verify it."""

    program_title: str
    code: str
    status: str  # "valid", "expired" or "revoked"
    valid_until: date
    verify_url: str


def badges_for(user_id: int, *, include_invalid: bool = False) -> list[CredentialBadge]:
    """List the holder's issued credentials as badges: only valid ones unless asked for all."""
    rows = db.session.execute(
        select(Credential, Program.title)
        .join(Program, Program.id == Credential.program_id)
        .where(Credential.user_id == user_id, Credential.status.in_(("issued", "revoked")))
        .order_by(Credential.valid_until.desc(), Credential.id.desc())
    ).all()
    day = dates.today()
    badges = [
        CredentialBadge(
            # The title it was earned under, as its verify page states it: a program renamed
            # (or raised) since is not what the holder earned.
            program_title=credential.data.get("program_title") or title,
            code=credential.code,
            status=credential.status_on(day),
            valid_until=credential.valid_until,
            verify_url=public_url("programs.verify", code=credential.code),
        )
        for credential, title in rows
    ]
    if include_invalid:
        return badges
    return [badge for badge in badges if badge.status == "valid"]


def sitemap_entries() -> list[tuple[str, datetime]]:
    """Every published program's slug and last change, for the sitemap."""
    return slugs_and_changes(Program, Program.published.is_(True))

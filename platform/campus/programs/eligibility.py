"""Who may take a program: their profession, and an active license when the program asks.

`has_active_license` is the one place that answers "does this member hold an active license":
one of their licenses (campus.licenses) with no expiry date or one not yet passed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select

from campus import dates
from campus.accounts.models import PROFESSIONS, User
from campus.extensions import db
from campus.licenses.models import License
from campus.licenses.services import current_license_on_file
from campus.programs.models import Program


def has_active_license(user: User) -> bool:
    """Tell whether the member holds a license on file that has not expired."""
    return current_license_on_file(user.id, dates.today())  # the provider's day, not the server's


def licensed_since(user: User, moment: datetime) -> datetime:
    """The first moment from `moment` on when a license now current is known to have been so.

    A license current today has been so since its `current_since` (when it was entered or last
    renewed after lapsing); edits that kept it current do not move that moment.
    """
    changed = db.session.scalar(
        select(func.min(License.current_since)).where(
            License.user_id == user.id,
            or_(License.expires_on.is_(None), License.expires_on >= dates.today()),
        )
    )
    if changed is None:
        return moment
    return max(moment, changed)


@dataclass(frozen=True)
class Eligibility:
    """Whether a member may take a program, and why not."""

    ok: bool
    reasons: tuple[str, ...]


def eligibility(user: User, program: Program) -> Eligibility:
    """Check the member's profession and license against the program's rules."""
    reasons = []
    if program.professions and user.profession not in program.professions:
        reasons.append(f"This program is open to {_people(program.professions)} only.")
    if program.license_required and not has_active_license(user):
        reasons.append("This program needs an active license on file (add it to your account).")
    return Eligibility(not reasons, tuple(reasons))


def _people(professions: list[str]) -> str:
    """The people of these professions, in a sentence: "massage therapists or chiropractors"."""
    # Written into a sentence, not as a list after a colon ("open to: Chiropractor"), which
    # left the list's capital standing mid-sentence.
    names = [
        "people of other professions"
        if p == "other"
        else PROFESSIONS.get(p, p.replace("_", " ")).lower() + "s"
        for p in professions
    ]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def professions_text(program: Program) -> str:
    """Who may take a program, as a sentence's start: "Open to chiropractors"."""
    # Worded as the refusal is ("open to chiropractors only"), not as a list of labels.
    if not program.professions:
        return "Open to every profession"
    return f"Open to {_people(program.professions)}"

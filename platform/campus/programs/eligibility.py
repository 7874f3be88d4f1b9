"""Who may take a program: their profession, and an active license when the program asks.

`has_active_license` is the one place that answers "does this member hold an active license";
until the licenses feature lands it reads the license number kept on the account, and it is
the function to point at that feature's records.
"""

from __future__ import annotations

from dataclasses import dataclass

from campus.accounts.models import PROFESSIONS, User
from campus.programs.models import Program


def has_active_license(user: User) -> bool:
    """Tell whether the member has an active license on file (today: a number on the account)."""
    return bool((user.license_number or "").strip())


@dataclass(frozen=True)
class Eligibility:
    """Whether a member may take a program, and why not."""

    ok: bool
    reasons: tuple[str, ...]


def eligibility(user: User, program: Program) -> Eligibility:
    """Check the member's profession and license against the program's rules."""
    reasons = []
    if program.professions and user.profession not in program.professions:
        allowed = ", ".join(PROFESSIONS.get(p, p) for p in program.professions)
        reasons.append(f"This program is open to: {allowed}.")
    if program.license_required and not has_active_license(user):
        reasons.append("This program needs an active license on file (add it to your account).")
    return Eligibility(not reasons, tuple(reasons))


def professions_text(program: Program) -> str:
    """The professions a program is open to, for people to read."""
    if not program.professions:
        return "Any profession"
    return ", ".join(PROFESSIONS.get(p, p) for p in program.professions)

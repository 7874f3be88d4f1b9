"""Accounts an operator or an admin makes for someone (the demo's, a directory import's).

Sign-up (`services.register_user`) and `create-admin` (`services.create_admin`) make the others.
Each path logs what it made; this one is for a member nobody signed up: the address counts as
confirmed (whoever made it chose it), and the entry names who made it and why.
Flushes; the caller commits.
"""

from __future__ import annotations

from campus.accounts.addresses import normalize_email
from campus.accounts.models import PROFESSIONS, User
from campus.accounts.roles import ASSIGNABLE
from campus.accounts.services import AccountError, get_user_by_email, hash_password
from campus.audit import record, snapshot
from campus.extensions import db
from campus.models.base import utcnow


def create_member(
    email: str,
    password: str,
    *,
    full_name: str,
    profession: str = "other",
    role: str = "student",
    why: str,
    actor: User | None = None,
) -> User:
    """Create a confirmed student (or assessor) account for someone, and log it.

    `why` ends the audit entry's summary ("to own an imported directory profile"); `actor` is
    the admin, or None for an operator's command. Refuses an address that has an account.
    """
    if profession not in PROFESSIONS:
        raise AccountError(f"{profession!r} is not a profession.", field="profession")
    if role not in ASSIGNABLE:
        raise AccountError(f"{role!r} is not a role an account is created with.", field="role")
    if get_user_by_email(email) is not None:
        raise AccountError(f"{email} has an account already.", field="email")
    user = User(
        email=normalize_email(email),
        password_hash=hash_password(password),
        full_name=full_name,
        profession=profession,
        role=role,
        email_verified_at=utcnow(),
    )
    db.session.add(user)
    db.session.flush()
    by = f"admin {actor.email}" if actor is not None else "cli"
    what = "an assessor" if role == "assessor" else "a member"
    record(
        "member_created",
        user,
        summary=f"{by}: created {user.email} ({what}) {why}".rstrip(),
        after=snapshot(user),
        actor=actor,
    )
    return user

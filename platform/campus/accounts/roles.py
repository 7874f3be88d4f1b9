"""Changing a member's role: appointing and retiring assessors, and (the operator) admins.

Admins are made only by the operator's `flask create-admin`; this action moves a member
between student and assessor, from the member's page in the admin or from `flask set-role`,
and takes an admin back to a lesser role from the command only. Flushes; the caller commits.
"""

from __future__ import annotations

from sqlalchemy import func, select

from campus.accounts.models import User
from campus.accounts.notices import tell_member
from campus.audit import record, snapshot
from campus.extensions import db
from campus.models.writes import lock_row

# The roles this action gives. An admin is made with the password set anew (create-admin).
ASSIGNABLE = ("student", "assessor")
ARTICLES = {"student": "a student", "assessor": "an assessor", "admin": "an admin"}


class RoleError(ValueError):
    """A role change that cannot be made as asked; the message is safe to show."""


class RoleUnchanged(RoleError):
    """The member already has the role asked for: nothing was changed."""


def _other_active_admins(user: User) -> int:
    """Count the admins besides `user` who can still sign in."""
    return (
        db.session.scalar(
            select(func.count(User.id)).where(
                User.role == "admin", User.disabled_at.is_(None), User.id != user.id
            )
        )
        or 0
    )


def _lock_admins() -> None:
    """Hold every active admin's row to the commit, in id order, before any is counted.

    Two admins retired at once would each count the other and leave none: the second waits
    here, then finds the first retired. In one order, so that two such waits never deadlock.
    """
    db.session.execute(
        select(User.id)
        .where(User.role == "admin", User.disabled_at.is_(None))
        .order_by(User.id)
        .with_for_update()
    ).all()


def _check(user: User, role: str, actor: User | None) -> None:
    """Raise RoleError unless `actor` (None: the operator's command) may give `user` `role`."""
    if role not in ASSIGNABLE:
        raise RoleError(f"{role!r} is not a role given here: a member is a student or an assessor.")
    if actor is not None and actor.id == user.id:
        raise RoleError("You cannot change your own role.")
    if user.is_admin:
        if actor is not None:
            # Taking admin away is the operator's, as giving it is: an admin whose session
            # was taken over must not be able to retire the others.
            raise RoleError(
                f"{user.email} is an admin: only the site's operator changes an admin's role "
                "(flask set-role)."
            )
        if not _other_active_admins(user):
            raise RoleError(f"{user.email} is the last active admin; make another admin first.")
    if user.role == role:
        raise RoleUnchanged(f"{user.email} is already {ARTICLES[role]}.")
    if role == "assessor":
        if not user.is_verified:
            raise RoleError(
                f"{user.email} has never confirmed its email address, so whoever registered it "
                "may not be who you think. Have them confirm it first."
            )
        if not user.is_active:
            raise RoleError(f"{user.email} is disabled; enable it before making it an assessor.")


def set_role(user: User, role: str, *, actor: User | None) -> None:
    """Give `user` the role `role` (student or assessor), sign them out everywhere, and log it.

    `actor` is the admin on the member's page, or None for the operator's command, which alone
    may take an admin's role. Raises RoleError (RoleUnchanged if they already have it) and
    changes nothing when refused. The user row stays, so past verdicts keep their reviewer.
    """
    from campus.accounts.sessions import end_sessions
    from campus.accounts.tokens import revoke_all_tokens

    if user.is_admin:
        _lock_admins()
    # Read again under a row lock held to the commit: a second click at once waits, then
    # finds the change made, rather than logging it twice.
    lock_row(User, user.id)
    db.session.refresh(user)
    _check(user, role, actor)
    before = snapshot(user)
    was = user.role
    # Staff need a second factor and are never remembered: a session opened under the old
    # standing must not carry on under the new one.
    end_sessions(user)
    if role == "assessor":
        # A token its owner made as a student would reach whatever an assessor may.
        revoke_all_tokens(user, "made an assessor", actor=actor)
    user.role = role
    db.session.flush()
    by = "cli: " if actor is None else ""
    record(
        "role_changed",
        user,
        summary=f"{by}{user.email}: role {was} → {role}; signed out everywhere",
        before=before,
        after=snapshot(user),
        actor=actor,
    )
    tell_member(user, f"role_{role}")

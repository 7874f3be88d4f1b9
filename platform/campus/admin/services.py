"""Admin write paths for accounts (disable, verification), each logged through campus.audit.

Billing, certificate, catalog and library changes are the actions of those features.

Every function flushes and never commits; the admin view around it commits once, so a change
and its audit entry land together or not at all.
"""

from __future__ import annotations

from flask import Flask, current_app
from flask_login import current_user

from campus.accounts.models import User
from campus.audit import changed_fields, object_label, record, snapshot
from campus.extensions import db
from campus.models.base import utcnow
from campus.models.writes import lock_row

__all__ = ["AdminActionError", "changed_fields", "object_label", "record", "snapshot"]


class AdminActionError(ValueError):
    """An admin action that cannot be done as asked (shown to the admin)."""


# --- members ----------------------------------------------------------------------------------


def set_disabled(user: User, disabled: bool) -> None:
    """Disable (signing out every session) or re-enable an account, and log it."""
    if disabled and user.id == current_user.id:
        raise AdminActionError("You cannot disable your own account.")
    if disabled and user.is_admin:
        # As with their role (accounts/roles.py): an admin whose session was taken over must
        # not be able to lock the other admins out.
        raise AdminActionError(
            f"{user.email} is an admin: only the site's operator takes an admin's access away "
            "(flask set-role, to make the account a student first)."
        )
    # Read again under a row lock held to the commit: a second admin (or click) at once waits,
    # then finds it done, rather than logging the same change twice.
    lock_row(User, user.id)
    db.session.refresh(user)
    before = snapshot(user)
    if disabled:
        if user.disabled_at is not None:
            raise AdminActionError(f"{user.email} is already disabled.")
        user.disabled_at = utcnow()
        from campus.accounts.services import spend_tokens
        from campus.accounts.sessions import end_sessions
        from campus.accounts.tokens import revoke_all_tokens

        end_sessions(user)  # every session and remember-cookie stops working at once
        spend_tokens(user.id)  # and every emailed link: a reset must not outlive the disabling
        # And every API token: refused only while disabled, each would work again on enabling.
        revoke_all_tokens(user, "account disabled", actor=current_user._get_current_object())
    else:
        if user.disabled_at is None:
            raise AdminActionError(f"{user.email} is not disabled.")
        user.disabled_at = None
    db.session.flush()
    if installed("directory"):
        # A disabled account's practitioner profile leaves the directory with it, and returns.
        from campus.directory.services import relist_owner

        relist_owner(user)
    record("disable" if disabled else "enable", user, before=before, after=snapshot(user))


def resend_verification(user: User) -> None:
    """Send a member a new verification link, and log it."""
    from campus.accounts.services import send_verification_email

    if user.is_verified:
        raise AdminActionError(f"{user.email} has already confirmed their address.")
    send_verification_email(user)
    record("resend_verification", user, summary=f"{user.email}: verification email sent")


def installed(feature: str, app: Flask | None = None) -> bool:
    """Tell whether a feature is registered on the app (the admin shows only what exists)."""
    return feature in (app or current_app).extensions.get("campus_features", ())

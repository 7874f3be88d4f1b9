"""Who may use the admin, and the fresh-login rule for sensitive actions."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from flask import flash, redirect, session, url_for
from flask_login import current_user

from campus.urls import referrer_path, safe_local_path

if TYPE_CHECKING:
    from campus.accounts.models import User

# A password confirmation keeps sensitive actions open this long.
FRESH_SECONDS = 10 * 60
_SESSION_KEY = "admin_confirmed_at"


def is_admin() -> bool:
    """Tell whether the signed-in user is an admin whose session passed the second factor."""
    from campus.accounts.sessions import passed_second_factor

    return bool(
        current_user.is_authenticated
        and current_user.is_admin
        and current_user.totp_enabled
        and passed_second_factor()
    )


def is_assessor() -> bool:
    """Tell whether the signed-in user is an assessor whose session passed the second factor."""
    from campus.accounts.sessions import passed_second_factor

    return bool(
        current_user.is_authenticated
        and current_user.is_assessor
        and current_user.totp_enabled
        and passed_second_factor()
    )


def refuse():
    """Send visitors to login, non-admins to 403, admins to their second factor."""
    from flask import abort

    from campus.accounts.access import admin_refusal

    refusal = admin_refusal()
    if refusal is None:
        abort(403)
    return refusal


def is_fresh(now: float | None = None) -> bool:
    """Tell whether the admin confirmed their password within the last ten minutes."""
    confirmed = session.get(_SESSION_KEY)
    if not isinstance(confirmed, int | float):
        return False
    return 0 <= (now or time.time()) - confirmed < FRESH_SECONDS


def mark_fresh() -> None:
    """Remember that the admin has just confirmed their password."""
    session[_SESSION_KEY] = time.time()


def safe_next(target: str | None, default: str) -> str:
    """Return a local path to go back to (never another site)."""
    return safe_local_path(target, default)


def ask_for_password(back_path: str | None = None):
    """Send the admin to confirm their password, then back to `back_path` or the last page."""
    home = url_for("admin.index")
    if back_path is None:
        back_path = referrer_path(home)
    flash("Please confirm your password to continue, then repeat the action.", "warning")
    return redirect(url_for("admin_confirm.index", next=safe_next(back_path, home)))


def confirm(user: User, password: str, code: str | None) -> str | None:
    """Check an admin's password and code before sensitive actions, and log the outcome.

    Returns None when both are right (the caller marks the session fresh and commits), else
    the field that was wrong. A refusal is logged like a failed sign-in: someone at an admin's
    unlocked screen guessing the password leaves a trace; the caller commits that entry too.
    """
    from campus.accounts import mfa
    from campus.accounts.services import verify_password
    from campus.audit import record, record_refusal

    if not verify_password(user, password):
        wrong = "password"
    elif user.totp_enabled and mfa.check_code(user, code or "") is None:
        wrong = "code"
    else:
        record("admin_confirmed", user, summary=f"{user.email}: sensitive actions opened")
        return None
    record_refusal("admin_confirm_failed", user, wrong)
    return wrong

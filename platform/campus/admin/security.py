"""Who may use the admin, and the fresh-login rule for sensitive actions."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

from flask import flash, redirect, request, session, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from campus.urls import referrer_path, safe_local_path

if TYPE_CHECKING:
    from campus.accounts.models import User

# A password confirmation keeps sensitive actions open this long.
FRESH_SECONDS = 10 * 60
_SESSION_KEY = "admin_confirmed_at"
# What the admin typed in a form sent before the confirmation, for the page it was sent from.
KEPT_KEY = "admin_kept_fields"
# The session is a cookie (browsers keep 4 KB of one): a longer text is not kept.
_KEPT_MAX_CHARS = 1500
# Fields never written into the cookie, whatever form they came in.
_NEVER_KEPT = ("csrf", "password", "code", "token", "secret")


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
    back_path = safe_next(back_path, home)
    if request.method == "POST":
        keep_typed_fields(back_path)
    flash("Please confirm your password to continue, then repeat the action.", "warning")
    return redirect(url_for("admin_confirm.index", next=back_path))


def keep_typed_fields(back_path: str) -> None:
    """Remember the text fields of the form being refused, to fill them in again at back_path.

    A reason typed before the confirmation was lost with the refused form: the admin came
    back to an empty form and typed it again.
    """
    fields: list[list[str]] = []
    size = 0
    for name, value in request.form.items(multi=True):
        if not isinstance(value, str) or not value.strip():
            continue
        if any(word in name.lower() for word in _NEVER_KEPT):
            continue
        size += len(json.dumps([name, value]))
        if size > _KEPT_MAX_CHARS:
            break
        fields.append([name, value])
    session.pop(KEPT_KEY, None)
    if fields:
        session[KEPT_KEY] = {"path": back_path, "at": time.time(), "fields": fields}


def take_kept_fields(path: str, now: float | None = None) -> MultiDict | None:
    """Hand over, once, the fields kept for this page (None elsewhere, or once stale)."""
    kept = session.get(KEPT_KEY)
    if not isinstance(kept, dict):
        return None
    age = (now or time.time()) - float(kept.get("at") or 0)
    if not 0 <= age < FRESH_SECONDS:
        session.pop(KEPT_KEY, None)
        return None
    if kept.get("path") != path:
        return None
    session.pop(KEPT_KEY, None)
    return MultiDict([(str(name), str(value)) for name, value in kept.get("fields") or []])


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

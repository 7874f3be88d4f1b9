"""Who may do what: the login loader and role checks, in one place."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import abort, current_app, flash, g, redirect, request, session, url_for
from flask_login import current_user, login_user, logout_user

from campus.accounts.models import User
from campus.extensions import limiter, login_manager
from campus.throttling import by_user, code_wrong, password_wrong, setting
from campus.urls import referrer_path, requested_path

# One budget of wrong passwords per member for every form that checks one while signed in
# (the password change, turning the second factor off, new recovery codes, a new API token,
# the email change, deleting the account, the admin confirmation): a stolen session must not
# try a password on each form in turn. Only a wrong password spends it (audit.record_refusal
# marks one): a mistyped address or a weak new password is no guess.
password_checks = limiter.shared_limit(
    setting("PASSWORD_CHANGE_RATE_LIMIT"),
    scope="password-check",
    key_func=by_user,
    methods=["POST"],
    deduct_when=password_wrong,
)
# And one of wrong second-factor codes for the forms that take one (turning it off, new
# recovery codes, a new API token, the email change, deleting the account, the admin
# confirmation), the same size: whoever has the password too must not guess the code on each
# form in turn.
code_checks = limiter.shared_limit(
    setting("PASSWORD_CHANGE_RATE_LIMIT"),
    scope="code-check",
    key_func=by_user,
    methods=["POST"],
    deduct_when=code_wrong,
)


def wants_json() -> bool:
    """Tell whether this request is answered in JSON (the API, webhooks and .json addresses)."""
    # A verifier reading /verify/<code>.json parses its errors too (a 429 above all).
    return request.path.startswith(("/api/", "/webhooks/")) or request.path.endswith(".json")


@login_manager.user_loader
def load_user(session_token: str) -> User | None:
    """Load the user of a live server-side session from the token the cookies carry."""
    from campus.accounts import sessions

    return sessions.load(session_token)


def end_this_session() -> None:
    """Sign this device out on the server and in the browser (commits: a view-level step)."""
    from campus.accounts import sessions
    from campus.extensions import db

    sessions.sign_out()
    db.session.commit()
    forget_browser_session()


def open_browser_session(user: User, remember: bool = False) -> None:
    """Hand the browser the token of the server-side session just opened for the user."""
    from campus.accounts import sessions

    # A fresh session on every login: nothing from before (or planted) survives it.
    session.clear()
    remember = remember and sessions.may_remember(user)
    duration = timedelta(seconds=current_app.config["REMEMBER_ABSOLUTE_TIMEOUT"])
    login_user(user, remember=remember, duration=duration)


def forget_browser_session() -> None:
    """Drop the signed-in user from this browser's cookies (the server side is done already)."""
    logout_user()
    session.clear()
    # session.clear() dropped Flask-Login's order to delete the remember cookie: give it again.
    session["_remember"] = "clear"


@login_manager.unauthorized_handler
def unauthorized() -> Any:
    """Answer 401 JSON on the API; send browsers to the login page."""
    if wants_json():
        from campus.errors import json_error  # errors imports this module

        return json_error("unauthorized", "Sign in to use this endpoint.", 401)
    if g.get("session_ended"):
        flash("Your session has ended. Please sign in again.", "info")
    return redirect(url_for("accounts.login", next=way_back()))


def way_back() -> str | None:
    """Where to return after signing in: this page, or for a form the page it was sent from.

    A form's address takes only its POST: sent back there, the member signed in to a 405.
    """
    if request.method in ("GET", "HEAD"):
        return requested_path()
    return referrer_path("") or None


def admin_refusal(*, assessors: bool = False) -> Any:
    """Return why this request may not use the admin (a response), or None if it may.

    Anonymous visitors go to login and non-admins get 403 (assessors pass where `assessors`
    says so: the assessment pages). Staff need a second factor: one without it is sent to set
    it up, and a session that did not pass it signs in again.
    """
    from campus.accounts import sessions

    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not (current_user.is_admin or (assessors and current_user.is_assessor)):
        abort(403)
    if not current_user.totp_enabled:
        flash(
            "Staff need a second factor. Set up an authenticator app to open the admin.", "warning"
        )
        return redirect(url_for("accounts.security"))
    if not sessions.passed_second_factor():
        # Opened before the factor was on this account: sign in again with the code.
        end_this_session()
        flash("Sign in again with your authenticator code to open the admin.", "warning")
        return redirect(url_for("accounts.login", next=way_back()))
    return None


def acts_as_admin(user: User | None) -> bool:
    """Tell whether this request may use the user's admin rights outside the admin.

    As in the admin itself: the role, a second factor on the account, and a session that
    passed it. A password alone (or an API token) must not open every member's records.
    """
    from campus.accounts import sessions

    if user is None or not user.is_authenticated or not user.is_admin or not user.totp_enabled:
        return False
    # The standing of this request's own session: asked about another admin (a member list,
    # a billing check), the viewer's second factor says nothing of theirs.
    row = sessions.current_session()
    return row is not None and row.user_id == user.id and row.second_factor_at is not None


def say_tokens_revoked(revoked: int) -> None:
    """Tell the member their API tokens stopped working, so a script's failure is no mystery."""
    if revoked:
        flash(
            f"Your API tokens ({revoked}) were revoked; make new ones on the security page.",
            "info",
        )

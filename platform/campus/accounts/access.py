"""Who may do what: the login loader and role checks, in one place."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import bindparam, select

from campus.accounts.models import User
from campus.extensions import db, login_manager


def wants_json() -> bool:
    """Tell whether this request is answered in JSON (the API and webhooks)."""
    return request.path.startswith(("/api/", "/webhooks/"))


# Built once: the loader runs on every signed-in request (Session.get builds its query anew).
_USER_BY_ID = select(User).where(User.id == bindparam("user_id"))


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """Load the user of a session id "<user id>:<session version>"; a stale version signs out."""
    user_id, _, version = session_id.partition(":")
    if not (user_id.isdigit() and version.isdigit()):
        return None
    user = db.session.execute(_USER_BY_ID, {"user_id": int(user_id)}).scalar()
    if user is None or user.session_version != int(version) or not user.is_active:
        return None
    return user


@login_manager.unauthorized_handler
def unauthorized() -> Any:
    """Answer 401 JSON on the API; send browsers to the login page."""
    if wants_json():
        from campus.errors import json_error  # errors imports this module

        return json_error("unauthorized", "Sign in to use this endpoint.", 401)
    return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))


def admin_required(view: Callable) -> Callable:
    """Let only admins through: anonymous users go to login, others get 403."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped

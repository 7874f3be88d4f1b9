"""Members with API tokens for the API tests."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask

from tests import support


def make_token(
    user_id: int, scope: str = "read", *, expires_in: timedelta | None = None, name: str = "script"
) -> str:
    """Create a token for a user (inside an app context) and return its raw value."""
    from campus.accounts import tokens
    from campus.accounts.models import User
    from campus.extensions import db

    user = db.session.get(User, user_id)
    # With a second factor on, making a token takes a code as well as the password.
    code = support.totp_code(user.totp_secret) if user.totp_enabled else ""
    token, raw = tokens.create_token(user, name, scope, "never", support.DEFAULT_PASSWORD, code)
    if expires_in is not None:
        token.expires_at = token.created_at + expires_in
    db.session.commit()
    return raw


def member_with_token(app: Flask, scope: str = "read", **fields) -> tuple[int, str]:
    """Create a paying member and a token of theirs; return (user id, raw token)."""
    with app.app_context():
        user = support.create_user(**fields)
        support.make_member(user.id)
        return user.id, make_token(user.id, scope)


def bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}

"""Accounts: sign-up, login, sessions, the second factor, passwords and profile."""

from flask import Blueprint

bp = Blueprint("accounts", __name__)

from campus.accounts import security_views, views  # noqa: E402,F401

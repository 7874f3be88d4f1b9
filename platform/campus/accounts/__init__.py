"""Accounts: sign-up, login, email verification, passwords and profile."""

from flask import Blueprint

bp = Blueprint("accounts", __name__)

from campus.accounts import views  # noqa: E402,F401

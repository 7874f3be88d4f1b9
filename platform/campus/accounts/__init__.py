"""Accounts: sign-up, login, email verification, passwords and profile."""

from __future__ import annotations

from flask import Blueprint, Flask

from campus.features import Feature

bp = Blueprint("accounts", __name__)


def _register(app: Flask) -> None:
    from campus.accounts import api, models, views  # noqa: F401  (views: routes on bp)
    from campus.extensions import api as rest

    app.register_blueprint(bp)
    rest.register_blueprint(api.blp, url_prefix="/api/v1")


feature = Feature("accounts", _register)

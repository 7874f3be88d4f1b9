"""Accounts: sign-up, login, sessions, the second factor, passwords and profile."""

from __future__ import annotations

from flask import Blueprint, Flask

from campus.features import Feature

bp = Blueprint("accounts", __name__)


def _register(app: Flask) -> None:
    from campus.accounts import (  # noqa: F401  (views: routes on bp; tasks: Celery)
        api,
        cli,
        email_views,
        models,
        security_views,
        tasks,
        tokens,
        tokens_views,
        views,
    )
    from campus.extensions import api as rest

    app.register_blueprint(bp)
    rest.register_blueprint(api.blp, url_prefix="/api/v1")


def _beat_schedule() -> dict[str, dict]:
    from campus.accounts.tasks import BEAT_SCHEDULE

    return BEAT_SCHEDULE


feature = Feature("accounts", _register, beat_schedule=_beat_schedule)

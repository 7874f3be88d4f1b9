"""Content: the trigger-point article library, its search, feed and free downloads."""

from __future__ import annotations

from flask import Blueprint, Flask

from campus.features import Feature

bp = Blueprint("content", __name__)


def _register(app: Flask) -> None:
    from campus.content import api, cli, models, tasks, views  # noqa: F401  (routes; Celery)
    from campus.extensions import api as rest

    app.register_blueprint(bp)
    rest.register_blueprint(api.blp, url_prefix="/api/v1")


def _seed() -> list[str]:
    from campus.content.demo import seed

    return seed()


def _beat_schedule() -> dict[str, dict]:
    from campus.content.tasks import BEAT_SCHEDULE

    return BEAT_SCHEDULE


feature = Feature("content", _register, seed=_seed, beat_schedule=_beat_schedule)

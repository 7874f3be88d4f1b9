"""The practitioner directory: opt-in profiles found by ZIP and distance, relayed contact."""

from __future__ import annotations

from flask import Blueprint, Flask

from campus.features import Feature

bp = Blueprint("directory", __name__, cli_group="directory")


def _register(app: Flask) -> None:
    from campus.directory import (  # noqa: F401  (routes, commands on bp; the relay task)
        api,
        cli,
        models,
        tasks,
        views,
    )
    from campus.extensions import api as rest

    app.register_blueprint(bp)
    rest.register_blueprint(api.blp, url_prefix="/api/v1")


def _beat_schedule() -> dict[str, dict]:
    from campus.directory.tasks import BEAT_SCHEDULE

    return BEAT_SCHEDULE


def _seed() -> list[str]:
    from campus.directory.demo import seed

    return seed()


feature = Feature("directory", _register, beat_schedule=_beat_schedule, seed=_seed)

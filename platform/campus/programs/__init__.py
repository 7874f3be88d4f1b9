"""Certification programs: courses, a timed exam, a reviewed practical, and a credential."""

from __future__ import annotations

from flask import Blueprint, Flask

from campus.features import Feature

bp = Blueprint("programs", __name__, url_prefix="/programs", cli_group="programs")


def _register(app: Flask) -> None:
    from campus.extensions import api as rest
    from campus.programs import (  # noqa: F401  (tables; routes on bp; receivers; tasks)
        api,
        cli,
        models,
        receivers,
        tasks,
        views,
    )

    app.register_blueprint(bp)
    rest.register_blueprint(api.blp, url_prefix="/api/v1")
    # First of all, so the CSRF check (which reads the body) already sees the larger bound.
    app.before_request_funcs.setdefault(None, []).insert(0, views.allow_video_bodies)


def _beat_schedule() -> dict[str, dict]:
    from campus.programs.tasks import BEAT_SCHEDULE

    return BEAT_SCHEDULE


def _seed() -> list[str]:
    from campus.programs.demo import seed

    return seed()


feature = Feature("programs", _register, beat_schedule=_beat_schedule, seed=_seed)

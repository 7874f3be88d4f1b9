"""CE courses: catalog, enrollment, lessons, progress, the final quiz and completion."""

from __future__ import annotations

from flask import Blueprint, Flask

from campus.features import Feature

bp = Blueprint("learning", __name__)


def _register(app: Flask) -> None:
    from campus.extensions import api as rest
    from campus.learning import (  # noqa: F401  (routes, commands on bp; tables)
        api,
        cli,
        evaluation_views,
        models,
        quiz_api,
        records,
        seattime_views,
        views,
    )

    app.register_blueprint(bp)
    rest.register_blueprint(api.blp, url_prefix="/api/v1")


def _seed() -> list[str]:
    from campus.learning.demo import seed

    return seed()


feature = Feature("learning", _register, seed=_seed)

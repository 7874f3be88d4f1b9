"""CE certificates: issued by the worker, downloadable, verifiable by anyone, revocable."""

from __future__ import annotations

from flask import Blueprint, Flask

from campus.features import Feature

bp = Blueprint("certificates", __name__, cli_group="certificates")


def _register(app: Flask) -> None:
    from campus.certificates import (  # noqa: F401  (routes, commands on bp; signal receivers)
        api,
        cli,
        models,
        receivers,
        tasks,
        views,
    )
    from campus.extensions import api as rest

    app.register_blueprint(bp)
    rest.register_blueprint(api.blp, url_prefix="/api/v1")


def _beat_schedule() -> dict[str, dict]:
    from campus.certificates.tasks import BEAT_SCHEDULE

    return BEAT_SCHEDULE


feature = Feature("certificates", _register, beat_schedule=_beat_schedule)

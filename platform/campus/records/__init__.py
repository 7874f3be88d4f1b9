"""Records that outlive the account: data archives, account deletion and retention holds."""

from __future__ import annotations

from flask import Blueprint, Flask

from campus.features import Feature

bp = Blueprint("records", __name__)


def _register(app: Flask) -> None:
    from campus.records import models, tasks, views  # noqa: F401  (tables; Celery; routes)

    app.register_blueprint(bp)


def _beat_schedule() -> dict[str, dict]:
    from campus.records.tasks import BEAT_SCHEDULE

    return BEAT_SCHEDULE


feature = Feature("records", _register, beat_schedule=_beat_schedule)

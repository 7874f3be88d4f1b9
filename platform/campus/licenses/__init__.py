"""Licenses: the credentials a member holds and what each needs for its next renewal."""

from __future__ import annotations

from flask import Blueprint, Flask

from campus.features import Feature

bp = Blueprint("licenses", __name__, cli_group="licenses")


def _register(app: Flask) -> None:
    from campus.extensions import api as rest
    from campus.licenses import (  # noqa: F401  (tables, routes and commands on bp, tasks)
        api,
        cli,
        models,
        tasks,
        views,
    )

    app.register_blueprint(bp)
    rest.register_blueprint(api.blp, url_prefix="/api/v1")


def _beat_schedule() -> dict[str, dict]:
    from campus.licenses.tasks import BEAT_SCHEDULE

    return BEAT_SCHEDULE


def _seed() -> list[str]:
    """Add the shipped renewal rules that are missing (rules edited in the admin stay)."""
    from campus.licenses.rules import import_rules, read_rules

    report = import_rules(read_rules(), replace=False)
    return [f"added renewal rule {label}" for label in report["created"]]


feature = Feature("licenses", _register, beat_schedule=_beat_schedule, seed=_seed)

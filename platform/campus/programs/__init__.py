"""Certification programs: courses, a timed exam, a reviewed practical, and a credential."""

from __future__ import annotations

from flask import Blueprint, Flask

from campus.features import Feature

bp = Blueprint("programs", __name__, url_prefix="/programs")


def _register(app: Flask) -> None:
    from campus.programs import models, views  # noqa: F401  (tables; routes on bp)

    app.register_blueprint(bp)


feature = Feature("programs", _register)

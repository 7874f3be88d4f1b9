"""The home page and the health check."""

from __future__ import annotations

from flask import Blueprint, Flask

from campus.features import Feature

bp = Blueprint("main", __name__)


def _register(app: Flask) -> None:
    from campus.main import views  # noqa: F401  (routes on bp)

    app.register_blueprint(bp)


feature = Feature("main", _register)

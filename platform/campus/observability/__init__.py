"""Operating Campus: request ids and structured logs, Prometheus metrics at /metrics."""

from __future__ import annotations

from flask import Blueprint, Flask

from campus.features import Feature

bp = Blueprint("observability", __name__)


def _register(app: Flask) -> None:
    from campus.observability import hooks, views  # noqa: F401  (routes on bp, signal receivers)

    hooks.install(app)
    app.register_blueprint(bp)


feature = Feature("observability", _register)

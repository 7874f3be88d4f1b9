"""Admin: run the catalog, the members and the money from the browser (Flask-Admin at /admin/)."""

from __future__ import annotations

from flask import Blueprint, Flask

from campus.features import Feature

# Registering this (empty) blueprint installs Flask-Admin on the app: one Admin per app, so
# every app the factory builds (one per test) gets its own views.
bp = Blueprint("admin_setup", __name__)


@bp.record_once
def _install(state) -> None:
    from campus.admin.setup import init_admin

    init_admin(state.app)


def _register(app: Flask) -> None:
    from campus.admin import models  # noqa: F401

    app.register_blueprint(bp)


feature = Feature("admin", _register)

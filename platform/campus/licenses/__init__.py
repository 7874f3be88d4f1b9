"""Licenses: the credentials a member holds and what each needs for its next renewal."""

from __future__ import annotations

from flask import Blueprint, Flask

from campus.features import Feature

bp = Blueprint("licenses", __name__, cli_group="licenses")


def _register(app: Flask) -> None:
    from campus.licenses import models, views  # noqa: F401  (tables, routes on bp)

    app.register_blueprint(bp)


feature = Feature("licenses", _register)

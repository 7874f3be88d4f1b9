"""CE courses: catalog, enrollment, lessons, progress, the final quiz and completion."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("learning", __name__)

from campus.learning import cli, views  # noqa: E402,F401

"""Content: the trigger-point article library, its search, feed and free downloads."""

from flask import Blueprint

bp = Blueprint("content", __name__)

from campus.content import cli, views  # noqa: E402,F401

"""CE certificates: issued by the worker, downloadable, verifiable by anyone, revocable."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("certificates", __name__, cli_group="certificates")

from campus.certificates import cli, receivers, views  # noqa: E402,F401

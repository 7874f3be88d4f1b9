"""Home page and health check."""

from __future__ import annotations

from flask import jsonify, render_template
from werkzeug.wrappers import Response

from campus.extensions import csrf, limiter
from campus.main import bp, services


@bp.get("/")
def home() -> str:
    """Present the campus and the membership."""
    return render_template("main/home.html")


@bp.get("/healthz")
@limiter.exempt
@csrf.exempt
def healthz() -> tuple[Response, int]:
    """Report whether the database and the broker answer (503 if one does not)."""
    ok, checks = services.health()
    return jsonify(status="ok" if ok else "error", checks=checks), 200 if ok else 503

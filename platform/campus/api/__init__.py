"""The JSON API under /api/v1: flask-smorest blueprints from each feature and a docs page."""

from __future__ import annotations

from flask import Blueprint, Flask, render_template

from campus.extensions import api

docs_bp = Blueprint("api_docs", __name__)


@docs_bp.get("/api/v1/docs")
def docs() -> str:
    """Render the OpenAPI document as a readable page."""
    return render_template("api/docs.html", spec=api.spec.to_dict())


def register_api_docs(app: Flask) -> None:
    """Serve the readable page of the OpenAPI document (features register their own APIs)."""
    app.register_blueprint(docs_bp)

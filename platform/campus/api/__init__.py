"""The JSON API under /api/v1: flask-smorest blueprints from each feature and a docs page.

This package holds what every API endpoint shares: the error body and its documentation
(spec.py), bounds on JSON bodies (bodies.py) and who is calling (auth.py: sessions or tokens).
"""

from __future__ import annotations

from flask import Blueprint, Flask, render_template

docs_bp = Blueprint("api_docs", __name__)


@docs_bp.get("/api/v1/docs")
def docs() -> str:
    """Render the OpenAPI document as a readable page."""
    from campus.extensions import api

    return render_template("api/docs.html", spec=api.spec.to_dict())


def register_api_docs(app: Flask) -> None:
    """Serve the API docs page and install the checks every request body and API call gets."""
    from campus.api.auth import register_api_auth
    from campus.api.bodies import check_json_body, check_json_size, check_streamed_size

    app.register_blueprint(docs_bp)
    # Before every other before_request hook, in this order: who is calling (tokens; reads no
    # body, so a caller without a valid token hears 401, not how large a body may be, and 401
    # comes before CSRF), a declared length past the limits (nothing is read), an API write's
    # streamed body past the site's limit, then the body's bounds (nothing may parse a body
    # before it is measured).
    hooks = app.before_request_funcs.setdefault(None, [])
    hooks.insert(0, check_json_body)
    hooks.insert(0, check_streamed_size)
    hooks.insert(0, check_json_size)
    register_api_auth(app)

"""Home page and health check."""

from __future__ import annotations

from flask import jsonify, render_template
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from campus.extensions import csrf, db, limiter
from campus.main import bp, services
from campus.main.home import member_home, past_due_notice
from campus.urls import public_url


@bp.get("/")
def home() -> str:
    """Present the campus to visitors; show a signed-in member where they stand."""
    if current_user.is_authenticated:
        return render_template("main/member_home.html", home=member_home(current_user))
    return render_template("main/home.html")


@bp.get("/sitemap.xml")
def sitemap() -> Response:
    """List the public pages for search engines: the sections, articles, courses, programs."""
    from campus.content import services as content
    from campus.learning import services as learning
    from campus.programs import public as programs

    pages: list[tuple[str, object]] = [
        (public_url(endpoint), None)
        for endpoint in (
            "main.home",
            "content.library",
            "learning.catalog",
            "programs.index",
            "billing.membership",
        )
    ]
    for endpoint, entries in (
        ("content.article", content.sitemap_entries()),
        ("learning.course", learning.sitemap_entries()),
        ("programs.detail", programs.sitemap_entries()),
    ):
        pages += [(public_url(endpoint, slug=slug), updated) for slug, updated in entries]
    body = render_template("main/sitemap.xml", pages=pages)
    return Response(body, mimetype="application/xml")


@bp.get("/healthz")
@limiter.exempt
@csrf.exempt
def healthz() -> tuple[Response, int]:
    """Report whether the database and the broker answer (503 if one does not)."""
    ok, checks = services.health()
    return jsonify(status="ok" if ok else "error", checks=checks), 200 if ok else 503


@bp.app_context_processor
def _membership_notice() -> dict:
    # A callable, so only pages that draw the header (every HTML page, no JSON) pay the query.
    def notice() -> dict | None:
        if not current_user.is_authenticated:
            return None
        try:
            return past_due_notice(current_user)
        except SQLAlchemyError:
            # Error pages extend the same layout: with the database down, show them without it.
            db.session.rollback()
            return None

    return {"past_due_notice": notice}

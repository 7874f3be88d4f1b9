"""GET /metrics: Prometheus' text format, off unless enabled, and only for the scraper."""

from __future__ import annotations

import hmac
import ipaddress

from flask import Response, abort, current_app, request

from campus.extensions import csrf, limiter
from campus.observability import bp, metrics


@bp.get("/metrics")
@limiter.exempt
@csrf.exempt
def scrape() -> Response:
    """Answer a scrape with every figure, to a caller with the token or from an allowed address."""
    config = current_app.config
    if not config.get("METRICS_ENABLED"):
        abort(404)
    if not _allowed(config.get("METRICS_TOKEN"), config.get("METRICS_ALLOW_FROM") or ()):
        abort(403)
    body, content_type = metrics.exposition(current_app._get_current_object())  # type: ignore[attr-defined]
    response = Response(body, content_type=content_type)
    response.headers["Cache-Control"] = "no-store"
    return response


def _allowed(token: str | None, networks: tuple[str, ...] | list[str]) -> bool:
    """Tell whether the caller shows the bearer token or comes from an allowed network."""
    sent = request.headers.get("Authorization", "")
    if (
        token
        and sent.startswith("Bearer ")
        and hmac.compare_digest(sent.removeprefix("Bearer ").encode(), token.encode())
    ):
        return True
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(net, strict=False) for net in networks)

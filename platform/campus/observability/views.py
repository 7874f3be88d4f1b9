"""GET /metrics: Prometheus' text format, off unless enabled, and only for the scraper."""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os

from flask import Response, abort, current_app, request

from campus.extensions import csrf, limiter
from campus.observability import bp, metrics

log = logging.getLogger(__name__)

UNSHARED = (
    "This server runs several processes but PROMETHEUS_MULTIPROC_DIR is not set, so a scrape "
    "would see one random process's figures. Set PROMETHEUS_MULTIPROC_DIR to an empty folder "
    "the server can write (cleared at each start) and restart it.\n"
)


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
    # Gunicorn says wsgi.multiprocess when it runs more than one worker: without the shared
    # folder each answers with its own counters, figures that jump about and look plausible.
    if request.environ.get("wsgi.multiprocess") and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        log.error("/metrics refused: several processes and no PROMETHEUS_MULTIPROC_DIR")
        return Response(UNSHARED, status=503, content_type="text/plain; charset=utf-8")
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

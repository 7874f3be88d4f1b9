"""Who is calling the API: a personal token, a browser session, or nobody.

Runs before every other check of an /api/ request, so an unauthenticated write gets 401 JSON,
not a CSRF refusal, and a bad token is refused before anything reads the body.

- `Authorization: Bearer <token>`: the token's user for this request only. Flask-Login's
  loader (which reads and refreshes the browser session) is skipped, so a token request
  never opens or touches a session; no CSRF check (there is no cookie to ride); limited per
  token; a read-only token may not write (403).
- No header: the browser session as everywhere else, with CSRF on writes (X-CSRFToken).
"""

from __future__ import annotations

import time

from flask import Flask, current_app, g, request
from flask_login import current_user
from flask_smorest import Blueprint as ApiBlueprint
from werkzeug.wrappers import Response

from campus.errors import json_error

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CHALLENGE = 'Bearer realm="campus"'


def _refuse_token(message: str) -> Response:
    response = json_error("unauthorized", message, 401)
    response.headers["WWW-Authenticate"] = CHALLENGE
    return response


def add_challenge(response: Response) -> Response:
    """Name the bearer scheme on every API 401, and say every API answer varies by token."""
    if not request.path.startswith("/api/"):
        return response
    # A cache keys an answer on its URL and the headers Vary names: without Authorization, a
    # token's request could be answered with the anonymous answer stored for that URL.
    response.vary.add("Authorization")
    # A 401 without WWW-Authenticate is malformed (RFC 9110 15.5.2); sign-in checks in the
    # views (login_required, abort(401), the learning rules) build theirs without it.
    if response.status_code == 401:
        response.headers.setdefault("WWW-Authenticate", CHALLENGE)
    return response


def _over_limit(token_id: int) -> Response | None:
    """Count this request against the token's limit; return the 429 answer when it is spent."""
    from limits import parse_many

    from campus.extensions import limiter

    if not limiter.enabled:
        return None  # RATELIMIT_ENABLED off: no limit is kept, the token's neither
    strategy = limiter.limiter
    for item in parse_many(current_app.config["API_TOKEN_RATE_LIMIT"]):
        if not strategy.hit(item, "api-token", str(token_id)):
            reset_at, _remaining = strategy.get_window_stats(item, "api-token", str(token_id))
            seconds = max(1, int(reset_at - time.time()))
            response = json_error(
                "rate_limited",
                f"This token made too many requests. Try again in {seconds} seconds.",
                429,
            )
            response.headers["Retry-After"] = str(seconds)
            return response
    return None


def authenticate_api_request() -> Response | None:
    """Authenticate an /api/ request by token or session; refuse it early when it may not pass."""
    if not request.path.startswith("/api/"):
        return None
    header = request.headers.get("Authorization")
    if header is not None:
        return _by_token(header)
    if request.method in SAFE_METHODS or request.url_rule is None:
        return None  # reads check their own rules; an unknown route or method gets its 404/405
    if not current_user.is_authenticated:
        return json_error("unauthorized", "Sign in or send an API token to use this endpoint.", 401)
    from campus.extensions import csrf

    csrf.protect()  # a session's write must come from our pages (the API blueprints are exempt)
    return None


def _by_token(header: str) -> Response | None:
    from campus.accounts import tokens

    scheme, _, raw = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        return _refuse_token("Send the API token as “Authorization: Bearer <token>”.")
    token = tokens.authenticate(raw.strip())
    if token is None:
        return _refuse_token("That API token is unknown, revoked or expired.")
    g._login_user = token.user  # Flask-Login's current_user, without loading any session
    g.api_token = token
    if (refusal := _over_limit(token.id)) is not None:
        return refusal
    if request.url_rule is None:
        return None  # no route or method matched: its 404/405 (with Allow), as for a session
    if request.method not in SAFE_METHODS and not token.can_write:
        return json_error("forbidden", "This API token may only read.", 403)
    return None


def register_api_auth(app: Flask) -> None:
    """Exempt the API blueprints from the global CSRF hook and authenticate /api/ first."""
    from campus.extensions import csrf

    for blueprint in app.blueprints.values():
        if isinstance(blueprint, ApiBlueprint):
            csrf.exempt(blueprint)
    app.before_request_funcs.setdefault(None, []).insert(0, authenticate_api_request)
    app.after_request(add_challenge)

"""Rate-limit keys and settings shared by the features (Flask-Limiter does the counting).

Limits are settings (`*_RATE_LIMIT` in config.py); the storage is RATELIMIT_STORAGE_URI, shared
by every web process in production. Password guesses count only when they fail, per account and
per address separately, so a classroom behind one address can all sign in.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from flask import current_app, request
from flask_limiter.util import get_remote_address
from flask_login import current_user
from werkzeug.wrappers import Response


def setting(name: str) -> Callable[[], str]:
    """Return a callable that reads a limit such as "5 per minute;20 per hour" from the config."""
    return lambda: current_app.config[name]


def client_network() -> str:
    """The client's address, or for IPv6 the /64 network it is in."""
    address = get_remote_address() or "unknown"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 4:
        return address
    if ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    # One subscriber, one server, is handed a whole /64 and may send from any of its 2^64
    # addresses: counted per address, every per-address limit was as good as none.
    return str(ipaddress.IPv6Network((ip, 64), strict=False))


def by_address() -> str:
    """Key a limit on the client's address (its /64 for IPv6)."""
    return "address:" + client_network()


def by_account() -> str:
    """Key a limit on the account named in the form (the normalised email), whoever asks."""
    from campus.accounts.addresses import normalize_email

    # Every form of the address is one account: a new spelling must not be a new budget. (The
    # form refuses an address past 320 characters; a longer text is cut before it is read.)
    typed = (request.form.get("email") or "")[:1000]
    return f"account:{normalize_email(typed)[:320]}"


def by_user() -> str:
    """Key a limit on the signed-in user (falls back to the address for visitors)."""
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return by_address()


_REFUSED = "campus.throttle_refused"


def refused() -> None:
    """Mark this request as a failure for the failures-only limits, whatever its answer is."""
    # On the request, not on g: g belongs to the app context, which requests may share.
    request.environ[_REFUSED] = True


_WRONG = "campus.throttle_wrong_"


def wrong_secret(kind: str) -> None:
    """Mark this request as a wrong `kind` of secret ("password" or "code"), for its budget."""
    request.environ[_WRONG + kind] = True


def password_wrong(response: Response) -> bool:
    """Count a request against the budget of password checks only when its password was wrong."""
    # A mistyped address, a weak new password or a wrong code is no password guess: counted,
    # a member's own typing errors locked them out of every form that asks for the password.
    return bool(request.environ.get(_WRONG + "password"))


def code_wrong(response: Response) -> bool:
    """Count a request against the budget of code checks only when its code was wrong."""
    return bool(request.environ.get(_WRONG + "code"))


_UNCOUNTED = "campus.throttle_uncounted"


def uncounted() -> None:
    """Mark this request as one the limits could not count: their storage is unreachable."""
    request.environ[_UNCOUNTED] = True


def failed(response: Response) -> bool:
    """Count a request against a failures-only limit when it did not succeed."""
    if request.environ.get(_UNCOUNTED):
        return False  # refused as unavailable; counting it would fail on the same storage
    # A refusal may answer with a redirect (a wrong code that sends the sign-in back to the
    # password step): by its status alone it would be a guess for free.
    return response.status_code >= 400 or bool(request.environ.get(_REFUSED))


_DONE = "campus.throttle_done"


def mark_succeeded() -> None:
    """Mark this request as having done what a success-only limit counts (a message taken)."""
    request.environ[_DONE] = True


def succeeded(response: Response) -> bool:
    """Count a request against a success-only limit when it was marked done."""
    if request.environ.get(_UNCOUNTED):
        return False
    return bool(request.environ.get(_DONE))


def once_per(name: str, key: str, seconds: int) -> bool:
    """Tell whether `name` may run now for `key`: once per `seconds`, across every process.

    The mark lives in the rate limiter's storage (Redis in production), so web processes share it.
    """
    from limits import RateLimitItemPerSecond

    from campus.extensions import limiter

    if not limiter.enabled:
        return True  # RATELIMIT_ENABLED=0 keeps no storage: nothing to remember a run by
    return limiter.limiter.hit(RateLimitItemPerSecond(1, seconds), "once", name, key)

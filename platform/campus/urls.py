"""Absolute links for emails, documents and Stripe: always from PUBLIC_BASE_URL, never the Host."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

import click
from flask import current_app, request

F = TypeVar("F", bound=Callable[..., Any])


def public_base_url() -> str:
    """Return PUBLIC_BASE_URL without its trailing slash."""
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/")


def builds_links(command: F) -> F:
    """Refuse to run a CLI command that writes links when PUBLIC_BASE_URL is not set.

    Development configures the address `./dev serve` uses; everywhere else the command would
    otherwise print some other host into QR codes and emails that cannot be taken back.
    """

    @functools.wraps(command)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if not current_app.config.get("PUBLIC_BASE_URL"):
            raise click.ClickException(
                "PUBLIC_BASE_URL is not set: this command writes links (certificate QR codes, "
                "emails). Set it to the site's public address, e.g. "
                "PUBLIC_BASE_URL=https://campus.example"
            )
        return command(*args, **kwargs)

    return guarded  # type: ignore[return-value]


def public_url(endpoint: str, **values: Any) -> str:
    """Build the absolute URL of an endpoint under PUBLIC_BASE_URL.

    The URL map is bound to the configured base rather than to the request, so a forged Host
    header cannot steer a link, and the same call works in a worker with no request at all.
    """
    base = urlsplit(public_base_url())
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "https"
    )
    return adapter.build(endpoint, values, force_external=True)


def safe_local_path(target: str | None, default: str) -> str:
    """Return `target` if it is a path on this site to go back to, else `default`.

    Refused: other sites ("https://...", "//host"), backslashes (browsers read "/\\host" as
    "//host") and control characters (a CR/LF cannot go into a Location header, and browsers
    drop tabs and newlines from URLs, which would join "/\\t/host" into "//host").
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target or any(ord(char) < 0x20 or ord(char) == 0x7F for char in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    # Dot segments are resolved by the browser: "/.//host" arrives as "//host" on this site,
    # and so does "/%2e//host" (a URL parser reads "%2e" in a path as a dot).
    dotted = re.sub("%2e", ".", parts.path, flags=re.IGNORECASE)
    if _browser_path(dotted).startswith("//"):
        return default
    return target


def _browser_path(path: str) -> str:
    """Resolve the dot segments of an absolute path as a browser does (the WHATWG URL rules).

    Not urljoin: it drops the empty segment a ".." at the root leaves, so "/..//host" came
    out as "/host" where a browser goes to "//host".
    """
    segments = path.split("/")[1:]
    resolved: list[str] = []
    for i, segment in enumerate(segments):
        last = i == len(segments) - 1
        if segment == "..":
            if resolved:
                resolved.pop()
            if last:
                resolved.append("")
        elif segment == ".":
            if last:
                resolved.append("")
        else:
            resolved.append(segment)
    return "/" + "/".join(resolved)


def requested_path(*, query: bool = True) -> str:
    """The path this request asked for as the browser sees it: with the site's path prefix.

    What a `next` must hold, like every url_for link: Flask's request.path leaves out the
    prefix a proxy serves the site under, so going back to it would leave the site.
    """
    path = request.full_path.rstrip("?") if query else request.path
    return request.script_root + path


def referrer_path(default: str) -> str:
    """Return the path of the page on this site the request came from, else `default`.

    The Referer header is whatever the client sent: a page of another host, a malformed URL
    ("http://[x/") or a path that browsers read as another host all give `default`.
    """
    try:
        parts = urlsplit(request.referrer or "")
    except ValueError:
        return default
    if not parts.path or (parts.netloc and parts.netloc != request.host):
        return default
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return safe_local_path(path, default)

"""Template helpers shared by every page."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Flask, has_request_context, request

from campus import dates
from campus.accounts.access import acts_as_admin
from campus.cache import VersionedLRU, app_cache
from campus.urls import public_url


def format_date(value: date | datetime | None, fmt: str = "%B %-d, %Y") -> str:
    """Format a date the way people read it: "March 4, 2026" (a moment on the provider's clock)."""
    if value is None:
        return ""
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = dates.local(value)
    return value.strftime(fmt)


def format_money(cents: int | None, currency: str = "usd") -> str:
    """Format cents as dollars: 1995 -> "$19.95"."""
    if cents is None:
        return ""
    return f"${cents / 100:,.2f}"


_URL_MEMO_SIZE = 4096
_MEMO_VALUE_MAX = 120  # longer values (a pasted search, say) are built each time, not kept
_LINK_SETS = 64  # the Host header is the client's to choose: keep the memo small


def _number(value: Any) -> Decimal:
    try:
        return Decimal(str(value if value is not None else 0))
    except InvalidOperation:
        return Decimal(0)


def noun(number: Any, singular: str, plural: str | None = None) -> str:
    """Choose the noun a number takes: singular for exactly one, plural otherwise (1.5 too)."""
    return singular if _number(number) == 1 else (plural or f"{singular}s")


def counted(number: Any, singular: str, plural: str | None = None) -> str:
    """Write a number with its noun in agreement: "1 CE hour", "1.5 CE hours", "4 questions"."""
    text = f"{_number(number):.2f}".rstrip("0").rstrip(".")
    return f"{text} {noun(number, singular, plural)}"


_KB, _MB = 1024, 1024 * 1024


def file_size(size_bytes: int | None) -> str:
    """Write a file's size for people: whole KB under 1 MB (rounded up), MB with one decimal.

    50 KB reads "50 KB", not "0.0 MB"; a byte over nothing still reads "1 KB", not "0 KB".
    """
    size = max(0, int(size_bytes or 0))
    kilobytes = -(-size // _KB)
    if kilobytes < 1024:
        return f"{kilobytes} KB"
    return f"{size / _MB:.1f} MB"


def ends_sentence(text: Any) -> bool:
    """Tell whether text already ends as a sentence does ("s. 480.0415, F.S.": yes)."""
    return str(text or "").rstrip().endswith((".", "!", "?"))


def full_stop(text: Any) -> str:
    """End text with a period unless it has one: a citation ending "F.S." gets no second."""
    text = str(text or "").rstrip()
    return text if not text or ends_sentence(text) else f"{text}."


def memoized_url_for(app: Flask):
    """Wrap app.url_for so a page's many links are built once per process, not per request.

    A link depends only on its endpoint and values and on the request's host and script root,
    so those make the key. External, relative-endpoint and anchored links, links with unusual
    values, and apps with URL defaults or value preprocessors go straight to url_for.
    """
    memo: VersionedLRU[str] = app_cache("templating.urls", _URL_MEMO_SIZE, app=app)
    build = app.url_for

    def url_for(endpoint: str, **values: Any) -> str:
        if not has_request_context() or endpoint.startswith(".") or app.url_default_functions:
            return build(endpoint, **values)
        for name, value in values.items():
            if name.startswith("_") or not (  # _external, _anchor, _method, _scheme
                value is None
                or isinstance(value, bool | int)
                or (isinstance(value, str) and len(value) <= _MEMO_VALUE_MAX)
            ):
                return build(endpoint, **values)
        environ = request.environ
        base = environ.get("campus.url_base")
        if base is None:  # worked out once per request: Request.host parses headers each time
            base = environ["campus.url_base"] = (request.host, request.script_root)
        memo_key = (base, endpoint, *values.items())
        url = memo.get(memo_key)
        if url is None:
            url = memo.put(memo_key, build(endpoint, **values))
        return url

    return url_for


def register_templating(app: Flask) -> None:
    """Install filters and globals used across templates."""
    app.jinja_env.filters["date"] = format_date
    # The provider's calendar day of a moment, to compare days as the |date filter shows them.
    app.jinja_env.filters["day"] = dates.local_date
    app.jinja_env.filters["money"] = format_money
    app.jinja_env.filters["counted"] = counted
    app.jinja_env.filters["noun"] = noun
    app.jinja_env.filters["full_stop"] = full_stop
    app.jinja_env.filters["file_size"] = file_size
    app.jinja_env.tests["sentence_end"] = ends_sentence
    app.jinja_env.globals["url_for"] = memoized_url_for(app)
    # Absolute links (feeds, sitemaps): PUBLIC_BASE_URL already holds any path prefix, which
    # url_for's path repeats when the site is served under one.
    app.jinja_env.globals["public_url"] = public_url
    # What a page offers an admin (full access, previews) follows the admin's standing, as the
    # rules do: the role alone, with a password-only session, is a member's.
    app.jinja_env.globals["acts_as_admin"] = acts_as_admin

    site_name = app.config["SITE_NAME"]
    membership_price = format_money(app.config["MEMBERSHIP_PRICE_CENTS"])
    nav_items = _nav_items(app)
    link_sets: VersionedLRU[dict[str, Any]] = app_cache("templating.links", _LINK_SETS, app=app)

    @app.context_processor
    def _globals() -> dict:
        values = {
            "site_name": site_name,
            "membership_price": membership_price,
            "current_year": dates.today().year,  # the provider's: not UTC's on New Year's Eve
            "nav_items": nav_items,
        }
        if has_request_context():
            values["links"] = _links(app, nav_items, link_sets)
            endpoint = request.endpoint or ""
            # The main menu highlights the reader's section; "My learning" has its own item.
            values["nav_section"] = (
                endpoint.partition(".")[0] if endpoint != "learning.dashboard" else None
            )
        return values


def _links(app: Flask, nav_items: list, link_sets: VersionedLRU) -> dict[str, Any]:
    """The links every page's header and footer carry, built once per host and script root."""
    key = (request.host, request.script_root)
    links = link_sets.get(key)
    if links is None:
        links = {
            name: app.url_for(endpoint)
            for name, endpoint in (
                ("home", "main.home"),
                ("login", "accounts.login"),
                ("signup", "accounts.signup"),
                ("logout", "accounts.logout"),
                ("profile", "accounts.profile"),
                ("resend_verification", "accounts.resend_verification"),
                ("api_docs", "api_docs.docs"),
                ("learning", "learning.dashboard"),
                ("certificates", "certificates.index"),
            )
            if endpoint in app.view_functions
        }
        links["css"] = app.url_for("static", filename="campus.css")
        links["favicon"] = app.url_for("static", filename="favicon.svg")
        links["announce_js"] = app.url_for("static", filename="announce.js")
        links["nav"] = [
            (app.url_for(endpoint), label, endpoint.partition(".")[0])
            for endpoint, label in nav_items
        ]
        link_sets.put(key, links)
    return links


def _nav_items(app: Flask) -> list[tuple[str, str]]:
    """Main navigation: only features that exist in this build are linked."""
    items = []
    for endpoint, label in (
        ("content.library", "Articles"),
        ("learning.catalog", "CE courses"),
        ("programs.index", "Programs"),
        ("billing.membership", "Membership"),
        ("directory.index", "Practitioners"),
    ):
        if endpoint in app.view_functions:
            items.append((endpoint, label))
    return items

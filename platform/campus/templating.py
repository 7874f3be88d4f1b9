"""Template helpers shared by every page."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import Flask


def format_date(value: date | datetime | None, fmt: str = "%B %-d, %Y") -> str:
    """Format a date the way people read it: "March 4, 2026"."""
    if value is None:
        return ""
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime(fmt)


def format_money(cents: int | None, currency: str = "usd") -> str:
    """Format cents as dollars: 1995 -> "$19.95"."""
    if cents is None:
        return ""
    return f"${cents / 100:,.2f}"


def register_templating(app: Flask) -> None:
    """Install filters and globals used across templates."""
    app.jinja_env.filters["date"] = format_date
    app.jinja_env.filters["money"] = format_money

    @app.context_processor
    def _globals() -> dict:
        return {
            "site_name": app.config["SITE_NAME"],
            "membership_price": format_money(app.config["MEMBERSHIP_PRICE_CENTS"]),
            "current_year": datetime.now(UTC).year,
            "nav_items": _nav_items(app),
        }


def _nav_items(app: Flask) -> list[tuple[str, str]]:
    """Main navigation: only features that exist in this build are linked."""
    items = []
    for endpoint, label in (
        ("content.library", "Articles"),
        ("learning.catalog", "CE courses"),
        ("billing.membership", "Membership"),
    ):
        if endpoint in app.view_functions:
            items.append((endpoint, label))
    return items

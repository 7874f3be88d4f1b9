"""A production app for tests: every required setting given, each one valid."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from flask import Flask

BASE_URL = "https://campus.example"


@cache
def _signing_key() -> str:
    from campus.certificates.signing import generate_jwk

    return json.dumps(generate_jwk())


def production_settings(**overrides: Any) -> dict[str, Any]:
    """Return overrides that make create_app("production") start; change any with keywords."""
    settings: dict[str, Any] = {
        "SECRET_KEY": "p" * 48,
        "STRIPE_SECRET_KEY": "sk_live_x",
        "STRIPE_WEBHOOK_SECRET": "whsec_live",
        "STRIPE_PRICE_ID": "price_live",
        "CERTIFICATE_SIGNING_KEY": _signing_key(),
        "PUBLIC_BASE_URL": BASE_URL,
        # Never contacted by these tests: no request they make reaches a rate-limited route.
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/4",
    }
    settings.update(overrides)
    return settings


def production_app(**overrides: Any) -> Flask:
    """Build a production app on the test database."""
    from campus import create_app

    return create_app("production", production_settings(**overrides))

"""Billing fixtures: a local imitation of Stripe's API and an app pointed at it."""

from __future__ import annotations

import pytest

from tests import support
from tests.billing.fake_stripe import PRICE_ID, FakeStripe


@pytest.fixture(scope="session")
def _fake_stripe_server():
    """The local Stripe imitation, on a free port, for the whole session."""
    server = FakeStripe().start()
    yield server
    server.stop()


@pytest.fixture
def fake_stripe(_fake_stripe_server):
    """The local Stripe imitation, with nothing recorded and no objects."""
    _fake_stripe_server.reset()
    return _fake_stripe_server


@pytest.fixture
def stripe_app(_database, fake_stripe):
    """An app using the real Stripe SDK against the local imitation (no simulator)."""
    app = support.shared_app(
        STRIPE_SECRET_KEY="sk_test_campus",
        STRIPE_PRICE_ID=PRICE_ID,
        STRIPE_API_BASE=fake_stripe.url,
        STRIPE_MAX_NETWORK_RETRIES=0,
    )
    assert app.config["SIMULATED_STRIPE"] is False
    yield app
    support.clean_database(app)


@pytest.fixture
def stripe_client(stripe_app):
    return stripe_app.test_client()

"""The billing tests' local Stripe imitation, for deleting an account that pays through it."""

from __future__ import annotations

from tests.billing.conftest import (  # noqa: F401  (fixtures)
    _fake_stripe_server,
    fake_stripe,
    stripe_app,
    stripe_client,
)

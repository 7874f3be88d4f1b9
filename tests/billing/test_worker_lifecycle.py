"""The lifecycle scenario through the real Celery worker (PostgreSQL + Redis on CI)."""

from __future__ import annotations

import random

import pytest

from tests import support
from tests.billing import lifecycle

pytestmark = [pytest.mark.worker, pytest.mark.slow]

PLANS = [
    ["renew", "fail", "recover", "renew"],
    ["fail", "cancel_end", "resume"],
    ["cancel_end"],
    ["fail"],
    ["cancel_now", "resubscribe", "renew"],
    ["renew", "cancel_now"],
    ["fail", "fail", "cancel_now"],
    [],
]


def test_worker_reaches_stripes_final_state_from_duplicated_shuffled_events(live_app):
    lifecycle.run_plans(live_app, PLANS)
    events = lifecycle.stripe_events(live_app)
    deliveries = lifecycle.duplicated_and_shuffled(events, random.Random(20261121), 0.5)
    assert len(deliveries) > len(events)
    lifecycle.deliver(live_app.test_client(), deliveries)
    support.wait_for(
        lambda: lifecycle.all_processed(live_app, len(events)),
        timeout=90,
        message="the worker to process every event",
    )
    support.wait_for(
        lambda: lifecycle.emails_settled(live_app), timeout=60, message="emails to be sent"
    )
    lifecycle.check_outcome(live_app)

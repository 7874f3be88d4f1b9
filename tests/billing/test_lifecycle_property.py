"""Property: however Stripe duplicates and reorders events, access matches its final state."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import support
from tests.billing import lifecycle

plans = st.lists(st.lists(st.sampled_from(lifecycle.ACTIONS), max_size=5), min_size=1, max_size=4)
# 0 s puts events in the same second (settled by a fetch); 1 s and an hour order them.
gaps = st.lists(st.sampled_from([0, 0, 1, 3600]), min_size=40, max_size=40)


@pytest.mark.slow
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    plans=plans, gaps=gaps, seed=st.integers(0, 2**32 - 1), dup_rate=st.sampled_from([0, 0.5, 1])
)
def test_access_matches_stripe_after_duplicated_shuffled_delivery(
    _database, plans, gaps, seed, dup_rate
):
    app = support.shared_app()
    start = datetime.fromtimestamp(int(time.time()), UTC)
    try:
        with time_machine.travel(start, tick=False) as clock:
            steps = iter(gaps * 10)
            lifecycle.run_plans(app, plans, tick=lambda: clock.shift(next(steps)))
            events = lifecycle.stripe_events(app)
            deliveries = lifecycle.duplicated_and_shuffled(events, random.Random(seed), dup_rate)
            clock.shift(1)
            lifecycle.deliver(app.test_client(), deliveries)
            assert lifecycle.all_processed(app, len(events))
            lifecycle.check_outcome(app)
    finally:
        support.clean_database(app)

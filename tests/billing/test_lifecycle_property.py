"""Property: however Stripe duplicates and reorders events, access matches its final state."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime

import pytest
import time_machine
from hypothesis import HealthCheck, example, given, settings
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
# Once found: the events of a cancellation arriving after it, in order, in the same second.
@example(plans=[["cancel_end"]], gaps=[0] * 40, seed=47, dup_rate=0)
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


def _emails_after_late_delivery(plan: list[str], gaps: list[int], first: str = "") -> list[str]:
    """Walk one member through a plan, then deliver its events late, in order (the event type
    `first` ahead of the rest); return the kinds of email sent, after checking the outcome."""
    app = support.shared_app()
    start = datetime.fromtimestamp(int(time.time()), UTC)
    try:
        with time_machine.travel(start, tick=False) as clock:
            steps = iter(gaps)
            lifecycle.run_plans(app, [plan], tick=lambda: clock.shift(next(steps)))
            events = lifecycle.stripe_events(app)
            ahead = [e for e in events if e["type"] == first]
            clock.shift(1)
            lifecycle.deliver(app.test_client(), ahead + [e for e in events if e not in ahead])
        lifecycle.check_outcome(app)
        with app.app_context():
            from sqlalchemy import select

            from campus.extensions import db
            from campus.mail.models import EmailMessage

            keys = db.session.scalars(select(EmailMessage.dedupe_key))
            return sorted(key.split(":")[1] for key in keys)
    finally:
        support.clean_database(app)


def test_late_events_of_a_cancellation_send_one_email_and_no_resume(_database):
    # The checkout's handler fetches the subscription, already set to end; the older "created"
    # event after it must not undo that and "resume" it.
    kinds = _emails_after_late_delivery(["cancel_end"], [0], first="checkout.session.completed")
    assert kinds == ["cancel_scheduled", "started"]


def test_a_state_fetched_for_a_same_second_event_is_not_undone_by_a_later_older_event(_database):
    # A failed payment in the checkout's second, recovered an hour on, then set to end: the
    # failure's same-second event fetches the state already set to end, and the recovery an
    # hour before that fetch must not step the mirror back.
    # Delivered after the recovery, the failure asks for no card: Stripe has it paid by then.
    kinds = _emails_after_late_delivery(["fail", "recover", "cancel_end"], [0, 3600, 1])
    assert kinds == ["cancel_scheduled", "started"]

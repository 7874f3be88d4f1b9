"""Joining again later: earlier Checkout Sessions are expired at Stripe before a new one opens.

Stripe keeps a session payable for 24 hours, longer than one is reused here (a double click):
left open in another tab or an email, it could be paid beside the new one.
"""

from __future__ import annotations

from datetime import timedelta

import time_machine
from sqlalchemy import select

from campus.billing.models import CheckoutSession, Subscription
from campus.billing.services import CHECKOUT_REUSE_MINUTES
from campus.extensions import db
from tests import support
from tests.billing.fake_stripe import new_id, subscription


def _member_client(app, email: str):
    with app.app_context():
        user = support.create_user(email=email)
        user_id = user.id
    client = app.test_client()
    support.login(client, email)
    return client, user_id


def _join_then_come_back(client, email: str, later: timedelta):
    """Open a Checkout Session; return its id and a clock `later` on, signed in again there."""
    location = support.post_form(client, "/membership/checkout").headers["Location"]
    traveller = time_machine.travel(later)
    traveller.start()
    support.login(client, email)
    return location.rsplit("/", 1)[1], traveller


def _local_statuses(app) -> dict[str, str]:
    with app.app_context():
        rows = db.session.execute(select(CheckoutSession.stripe_session_id, CheckoutSession.status))
        return {session_id: status for session_id, status in rows}


def test_a_session_older_than_the_reuse_window_is_expired_before_a_new_one(stripe_app, fake_stripe):
    # Stripe keeps a session payable for 24 hours: the old one, still open in another tab or an
    # email, would charge the member a second time beside the new one.
    client, _ = _member_client(stripe_app, "later@example.com")
    first, traveller = _join_then_come_back(
        client, "later@example.com", timedelta(minutes=CHECKOUT_REUSE_MINUTES + 5)
    )
    try:
        response = support.post_form(client, "/membership/checkout")
    finally:
        traveller.stop()
    assert response.status_code == 303
    second = response.headers["Location"].rsplit("/", 1)[1]
    assert second != first
    assert len(fake_stripe.calls("POST", f"/v1/checkout/sessions/{first}/expire")) == 1
    assert fake_stripe.sessions[first]["status"] == "expired"
    assert fake_stripe.sessions[second]["status"] == "open"
    assert _local_statuses(stripe_app) == {first: "expired", second: "open"}


def test_a_session_paid_while_the_next_join_was_opening_is_mirrored_not_sold_again(
    stripe_app, fake_stripe
):
    # Paid in the other tab between our look at it and the expiry: Stripe refuses to expire it.
    client, user_id = _member_client(stripe_app, "tab@example.com")
    first, traveller = _join_then_come_back(client, "tab@example.com", timedelta(hours=2))
    customer = fake_stripe.sessions[first]["customer"]
    sub = subscription(new_id("sub"), customer, user_id=user_id)
    fake_stripe.after[f"/v1/checkout/sessions/{first}"] = lambda: fake_stripe.complete_session(
        first, sub
    )
    try:
        response = support.post_form(client, "/membership/checkout")
        page = client.get("/membership").text
    finally:
        traveller.stop()
    assert response.status_code == 303 and response.headers["Location"].endswith("/membership")
    assert "You already have full access" in page
    assert len(fake_stripe.calls("POST", "/v1/checkout/sessions")) == 1
    assert _local_statuses(stripe_app) == {first: "complete"}
    with stripe_app.app_context():
        assert db.session.scalar(select(Subscription.status)) == "active"


def test_when_the_old_session_cannot_be_expired_no_new_one_opens(stripe_app, fake_stripe):
    client, _ = _member_client(stripe_app, "down@example.com")
    first, traveller = _join_then_come_back(client, "down@example.com", timedelta(hours=2))
    fake_stripe.fail_paths.add(f"/v1/checkout/sessions/{first}/expire")
    try:
        response = support.post_form(client, "/membership/checkout")
        page = client.get("/membership").text
    finally:
        traveller.stop()
    assert response.status_code == 303 and response.headers["Location"].endswith("/membership")
    assert "could not reach our payment provider" in page
    assert len(fake_stripe.calls("POST", "/v1/checkout/sessions")) == 1
    assert fake_stripe.sessions[first]["status"] == "open"
    assert _local_statuses(stripe_app) == {first: "open"}


def test_a_session_stripe_no_longer_knows_is_let_go_and_a_new_one_opens(stripe_app, fake_stripe):
    # Made with the test keys before the switch to live ones: it can never be paid.
    client, _ = _member_client(stripe_app, "keys@example.com")
    first, traveller = _join_then_come_back(client, "keys@example.com", timedelta(hours=2))
    del fake_stripe.sessions[first]
    try:
        response = support.post_form(client, "/membership/checkout")
    finally:
        traveller.stop()
    second = response.headers["Location"].rsplit("/", 1)[1]
    assert second != first and second in fake_stripe.sessions
    assert _local_statuses(stripe_app) == {first: "expired", second: "open"}


def test_a_second_click_within_the_reuse_window_reuses_the_session_unexpired(
    stripe_app, fake_stripe
):
    client, _ = _member_client(stripe_app, "soon@example.com")
    first, traveller = _join_then_come_back(
        client, "soon@example.com", timedelta(minutes=CHECKOUT_REUSE_MINUTES - 5)
    )
    try:
        response = support.post_form(client, "/membership/checkout")
    finally:
        traveller.stop()
    assert response.headers["Location"].rsplit("/", 1)[1] == first
    assert len(fake_stripe.calls("POST", "/v1/checkout/sessions")) == 1
    assert fake_stripe.calls("POST", f"/v1/checkout/sessions/{first}/expire") == []
    assert _local_statuses(stripe_app) == {first: "open"}

"""Deleting an account against Stripe's API (the local imitation): cancel first, then delete."""

from __future__ import annotations

from sqlalchemy import func, select

from tests import support
from tests.billing.fake_stripe import subscription
from tests.records.helpers import full_member


def _paying_through_stripe(app, fake_stripe):
    """A member with a certificate whose membership is a live subscription at Stripe."""
    from campus.billing.models import StripeCustomer
    from campus.extensions import db

    m = full_member(app)
    with app.app_context():
        from campus.billing.models import Subscription

        sub = db.session.scalars(
            select(Subscription).where(Subscription.user_id == m.user_id)
        ).one()
        customer_id, sub_id = sub.stripe_customer_id, sub.stripe_subscription_id
        db.session.add(StripeCustomer(user_id=m.user_id, stripe_customer_id=customer_id))
        db.session.commit()
    fake_stripe.customers[customer_id] = {"id": customer_id, "object": "customer"}
    fake_stripe.subscriptions[sub_id] = subscription(sub_id, customer_id, user_id=m.user_id)
    # An older, ended subscription of the same customer: Stripe refuses to cancel it twice.
    fake_stripe.subscriptions["sub_old"] = subscription("sub_old", customer_id, status="canceled")
    return m, customer_id, sub_id


def _delete(client):
    return support.post_form(
        client,
        "/account/delete",
        {"password": support.DEFAULT_PASSWORD, "confirmation": "DELETE"},
    )


def test_the_subscription_is_cancelled_before_the_customer_is_deleted(stripe_app, fake_stripe):
    m, customer_id, sub_id = _paying_through_stripe(stripe_app, fake_stripe)
    client = stripe_app.test_client()
    support.login(client, m.email)
    fake_stripe.requests.clear()
    response = _delete(client)
    assert response.status_code == 302
    calls = [(r["method"], r["path"]) for r in fake_stripe.requests]
    assert calls == [
        ("GET", "/v1/subscriptions"),
        ("DELETE", f"/v1/subscriptions/{sub_id}"),
        ("DELETE", f"/v1/customers/{customer_id}"),
    ]
    assert fake_stripe.subscriptions[sub_id]["status"] == "canceled"
    assert customer_id not in fake_stripe.customers
    with stripe_app.app_context():
        from campus.billing.models import StripeCustomer, Subscription
        from campus.extensions import db

        assert db.session.scalar(select(func.count()).select_from(Subscription)) == 0
        assert db.session.scalar(select(func.count()).select_from(StripeCustomer)) == 0


def test_stripe_down_means_nothing_is_deleted_and_a_retry_finishes(stripe_app, fake_stripe):
    m, customer_id, _sub_id = _paying_through_stripe(stripe_app, fake_stripe)
    client = stripe_app.test_client()
    support.login(client, m.email)
    fake_stripe.fail_paths.add(f"/v1/customers/{customer_id}")
    response = _delete(client)
    assert response.status_code == 503
    assert "nothing was deleted" in response.get_data(as_text=True)
    with stripe_app.app_context():
        from campus.accounts.models import User
        from campus.billing.models import StripeCustomer
        from campus.extensions import db
        from campus.records.models import RetentionHold

        assert db.session.get_one(User, m.user_id).email == m.email
        assert db.session.scalar(select(func.count()).select_from(StripeCustomer)) == 1
        assert db.session.scalar(select(func.count()).select_from(RetentionHold)) == 0
    assert client.get("/account").status_code == 200  # still signed in

    fake_stripe.fail_paths.clear()
    fake_stripe.requests.clear()
    assert _delete(client).status_code == 302
    # The subscription ended in the first attempt; the retry only deletes the customer.
    calls = [(r["method"], r["path"]) for r in fake_stripe.requests]
    assert calls == [("GET", "/v1/subscriptions"), ("DELETE", f"/v1/customers/{customer_id}")]


def test_stripe_failing_after_the_cancellation_says_the_membership_was_cancelled(
    stripe_app, fake_stripe
):
    # The subscription is cancelled, then Stripe times out or answers 500 on the customer's
    # deletion: the member must not be told their membership could not be cancelled.
    m, customer_id, sub_id = _paying_through_stripe(stripe_app, fake_stripe)
    client = stripe_app.test_client()
    support.login(client, m.email)
    fake_stripe.fail_paths.add(f"/v1/customers/{customer_id}")
    response = _delete(client)
    assert response.status_code == 503
    assert fake_stripe.subscriptions[sub_id]["status"] == "canceled"
    text = response.get_data(as_text=True)
    assert "nothing was deleted" in text
    assert "could not reach our payment processor to cancel your membership" not in text
    assert "Your membership is cancelled" in text


def test_a_customer_already_gone_at_stripe_does_not_block_deletion(stripe_app, fake_stripe):
    m, _customer_id, _sub_id = _paying_through_stripe(stripe_app, fake_stripe)
    fake_stripe.customers.clear()
    client = stripe_app.test_client()
    support.login(client, m.email)
    assert _delete(client).status_code == 302


def test_a_customer_stripe_does_not_know_at_all_does_not_block_deletion(stripe_app, fake_stripe):
    m, customer_id, _sub_id = _paying_through_stripe(stripe_app, fake_stripe)
    # Made with the test keys before the switch to live ones: Stripe answers "No such customer".
    fake_stripe.forgotten.add(customer_id)
    fake_stripe.customers.clear()
    client = stripe_app.test_client()
    support.login(client, m.email)
    fake_stripe.requests.clear()
    assert _delete(client).status_code == 302
    assert [(r["method"], r["path"]) for r in fake_stripe.requests] == [
        ("GET", "/v1/subscriptions")
    ]
    with stripe_app.app_context():
        from campus.billing.models import StripeCustomer
        from campus.extensions import db

        assert db.session.scalar(select(func.count()).select_from(StripeCustomer)) == 0


def test_an_event_about_the_deleted_customer_arriving_later_keeps_no_personal_details(
    stripe_app, fake_stripe
):
    # Stripe sends events for a while after the deletion (the cancelled subscription's last
    # invoice): they were stored whole, with the address the deletion had just taken out.
    from tests.billing.fake_stripe import event, invoice, post_event

    m, customer_id, sub_id = _paying_through_stripe(stripe_app, fake_stripe)
    client = stripe_app.test_client()
    support.login(client, m.email)
    assert _delete(client).status_code == 302
    late = invoice(sub_id, customer_id, paid=True)
    late.update(customer_email=m.email, customer_name="Robin Reyes")
    assert post_event(client, event("invoice.paid", late)).status_code == 200
    with stripe_app.app_context():
        from campus.billing.models import WebhookEvent
        from campus.extensions import db

        row = db.session.scalars(
            select(WebhookEvent).where(WebhookEvent.type == "invoice.paid")
        ).one()
        assert row.status == "ignored"
        assert m.email not in row.payload and "Robin Reyes" not in row.payload
        assert customer_id in row.payload  # what was billed, and to which customer, stays

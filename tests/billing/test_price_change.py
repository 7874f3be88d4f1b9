"""The membership's price changes (a new STRIPE_PRICE_ID): members who paid the former one."""

from __future__ import annotations

from sqlalchemy import select

from campus.billing.access import has_paid_access
from campus.billing.models import StripeCustomer, Subscription, WebhookEvent
from campus.extensions import db
from tests import support
from tests.billing.fake_stripe import PRICE_ID, event, new_id, post_event, subscription

NEW_PRICE = "price_new_membership"


def _member_client(app):
    with app.app_context():
        user = support.create_user()
        user_id, email = user.id, user.email
    client = app.test_client()
    support.login(client, email)
    return client, user_id


def _access(app, user_id: int) -> bool:
    from campus.accounts.models import User

    with app.app_context():
        return has_paid_access(db.session.get(User, user_id))


def _paid_at_the_former_price(app, fake_stripe, monkeypatch):
    """A member opens Checkout, the price changes, then they pay: (client, user, session, sub)."""
    client, user_id = _member_client(app)
    location = support.post_form(client, "/membership/checkout").headers["Location"]
    session_id = location.rsplit("/", 1)[1]
    assert fake_stripe.sessions[session_id]["line_items"][0]["price"] == PRICE_ID
    monkeypatch.setitem(app.config, "STRIPE_PRICE_ID", NEW_PRICE)
    customer = fake_stripe.sessions[session_id]["customer"]
    sub = subscription(new_id("sub"), customer, user_id=user_id, price=PRICE_ID)
    session = fake_stripe.complete_session(session_id, sub)
    return client, user_id, session, sub


def test_a_checkout_paid_at_the_former_price_gives_access(stripe_app, fake_stripe, monkeypatch):
    client, user_id, session, sub = _paid_at_the_former_price(stripe_app, fake_stripe, monkeypatch)
    post_event(client, event("checkout.session.completed", dict(session)))
    with stripe_app.app_context():
        row = db.session.scalar(select(WebhookEvent))
        assert (row.status, row.reason) == ("processed", None)
        mirrored = db.session.scalar(select(Subscription))
        assert mirrored.stripe_subscription_id == sub["id"] and mirrored.status == "active"
    assert _access(stripe_app, user_id)
    assert [m["Subject"] for m in support.outbox(stripe_app)] == [
        "Welcome to your Campus membership"
    ]


def test_the_success_page_of_a_checkout_paid_at_the_former_price_shows_it_active(
    stripe_app, fake_stripe, monkeypatch
):
    client, user_id, session, _sub = _paid_at_the_former_price(stripe_app, fake_stripe, monkeypatch)
    page = client.get(f"/membership/success?session_id={session['id']}").get_data(as_text=True)
    assert "Your membership is active" in page
    assert _access(stripe_app, user_id)


def test_a_member_on_the_former_price_is_not_told_they_renew_at_the_new_one(stripe_app):
    client, user_id = _member_client(stripe_app)
    with stripe_app.app_context():
        support.make_member(user_id, "active", price_id="price_former")
    page = client.get("/membership").get_data(as_text=True)
    assert "Your membership renews on" in page
    assert "$19.95" not in page.split("Your membership", 2)[2]  # the plan card may show it
    with stripe_app.app_context():
        db.session.query(Subscription).update({"price_id": PRICE_ID})
        db.session.commit()
    page = client.get("/membership").get_data(as_text=True)
    assert "for $19.95" in page


def test_a_trial_on_the_former_price_is_not_said_to_continue_at_the_new_one(
    stripe_app, stripe_client
):
    import time

    with stripe_app.app_context():
        user = support.create_user()
        customer = new_id("cus")
        from datetime import timedelta

        from campus.billing.models import CheckoutSession
        from campus.models.base import utcnow

        db.session.add(StripeCustomer(user_id=user.id, stripe_customer_id=customer))
        # The checkout the member opened before the price changed.
        db.session.add(
            CheckoutSession(
                user_id=user.id,
                stripe_session_id=new_id("cs"),
                stripe_customer_id=customer,
                url="https://checkout.stripe.test/pay",
                status="complete",
                expires_at=utcnow() + timedelta(hours=23),
            )
        )
        db.session.commit()
        user_id = user.id
    trial_end = int(time.time()) + 3 * 86400
    for price in ("price_former", PRICE_ID):
        sub = subscription(
            new_id("sub"),
            customer,
            status="trialing",
            price=price,
            trial_end=trial_end,
            user_id=user_id,
        )
        post_event(stripe_client, event("customer.subscription.created", sub))
        post_event(stripe_client, event("customer.subscription.trial_will_end", sub))
    former, current = [
        support.body_of(m)
        for m in support.outbox(stripe_app)
        if m["Subject"] == "Your Campus trial ends soon"
    ]
    assert "$" not in former and "unless you cancel" in former
    assert "continues at $19.95 a month" in current


def test_another_products_checkout_naming_a_member_gives_them_no_membership(stripe_app):
    # Another product sold on the same Stripe account may put its own users' ids where Campus
    # puts its members': its checkout is no membership, whatever member it happens to name.
    client, user_id = _member_client(stripe_app)
    customer = new_id("cus")
    foreign = subscription(new_id("sub"), customer, user_id=user_id, price="price_journal")
    session = {
        "id": new_id("cs"),
        "object": "checkout.session",
        "mode": "subscription",
        "client_reference_id": str(user_id),
        "customer": customer,
        "subscription": foreign,
        "status": "complete",
        "payment_status": "paid",
    }
    post_event(client, event("checkout.session.completed", session))
    post_event(client, event("customer.subscription.created", foreign))
    with stripe_app.app_context():
        assert db.session.scalar(select(Subscription)) is None
        assert {row.status for row in db.session.scalars(select(WebhookEvent))} == {"ignored"}
    assert not _access(stripe_app, user_id)
    assert support.outbox(stripe_app) == []


def test_another_products_checkout_naming_a_member_does_not_give_them_its_customer(stripe_app):
    # Linked to the member, that customer's portal (someone else's cards, invoices and address)
    # would open on the member's "Manage billing", and their next checkout would charge it.
    client, user_id = _member_client(stripe_app)
    foreign = subscription(new_id("sub"), new_id("cus"), price="price_journal")
    session = {
        "id": new_id("cs"),
        "object": "checkout.session",
        "mode": "subscription",
        "client_reference_id": str(user_id),
        "customer": foreign["customer"],
        "subscription": foreign,
        "status": "complete",
        "payment_status": "paid",
    }
    post_event(client, event("checkout.session.completed", session))
    with stripe_app.app_context():
        row = db.session.scalar(select(WebhookEvent))
        assert (row.status, row.reason) == ("ignored", "unknown price price_journal")
        assert db.session.scalar(select(StripeCustomer)) is None


def test_the_hourly_sync_mirrors_a_checkout_paid_at_the_former_price(
    stripe_app, fake_stripe, monkeypatch
):
    # Every webhook of the payment lost: the hourly run alone must give the member their access.
    from campus.billing.tasks import reconcile

    _client, user_id, _session, sub = _paid_at_the_former_price(
        stripe_app, fake_stripe, monkeypatch
    )
    with stripe_app.app_context():
        reconcile()
        assert db.session.scalar(select(Subscription.stripe_subscription_id)) == sub["id"]
    assert _access(stripe_app, user_id)


def test_the_portal_return_mirrors_a_checkout_paid_at_the_former_price(
    stripe_app, fake_stripe, monkeypatch
):
    client, user_id, _session, sub = _paid_at_the_former_price(stripe_app, fake_stripe, monkeypatch)
    with client.session_transaction() as flask_session:
        flask_session["billing_portal_visit"] = True
    assert client.get("/membership?from=portal").status_code == 200
    with stripe_app.app_context():
        assert db.session.scalar(select(Subscription.stripe_subscription_id)) == sub["id"]
    assert _access(stripe_app, user_id)

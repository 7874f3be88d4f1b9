"""A first payment still pending: the member is pointed to it, not sold a second membership."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from campus.billing.models import StripeCustomer, Subscription
from campus.extensions import db
from campus.models.base import utcnow
from tests import support
from tests.billing.fake_stripe import new_id, subscription


def _member_with(app, status: str) -> tuple:
    """A signed-in member whose one subscription (on their own customer) has this status."""
    with app.app_context():
        user = support.create_user()
        user_id, email = user.id, user.email
        customer_id = new_id("cus")
        db.session.add(StripeCustomer(user_id=user_id, stripe_customer_id=customer_id))
        db.session.commit()
        support.make_member(
            user_id,
            status,
            stripe_customer_id=customer_id,
            current_period_end=utcnow() + timedelta(days=30),
        )
    client = app.test_client()
    support.login(client, email)
    return client, user_id


def test_a_member_whose_first_payment_is_pending_is_not_offered_to_join_again(
    stripe_app, fake_stripe
):
    # Checkout made the subscription, but its first invoice is still processing (a bank debit)
    # or waits for the member's confirmation: Stripe may yet collect it, so a second
    # subscription beside it would charge them twice.
    client, _ = _member_with(stripe_app, "incomplete")
    page = client.get("/membership").get_data(as_text=True)
    assert "Join again" not in page and 'action="/membership/checkout"' not in page
    assert "first payment" in page and 'action="/membership/portal"' in page
    response = support.post_form(client, "/membership/checkout")
    assert response.status_code == 303 and response.headers["Location"].endswith("/membership")
    assert fake_stripe.calls("POST", "/v1/checkout/sessions") == []
    follow = client.get("/membership").get_data(as_text=True)
    assert "finish it in the billing portal" in follow


def test_a_member_whose_first_payment_never_came_may_join_again(stripe_app, fake_stripe):
    # Stripe gave up on the first invoice (incomplete_expired): nothing more will be charged.
    client, user_id = _member_with(stripe_app, "incomplete_expired")
    with stripe_app.app_context():
        customer_id = db.session.scalar(
            select(StripeCustomer.stripe_customer_id).where(StripeCustomer.user_id == user_id)
        )
    fake_stripe.customers[customer_id] = {"id": customer_id, "object": "customer"}
    page = client.get("/membership").get_data(as_text=True)
    assert "Join again" in page and 'action="/membership/checkout"' in page
    response = support.post_form(client, "/membership/checkout")
    assert response.headers["Location"].startswith("https://checkout.stripe.test/c/pay/cs_")
    [call] = fake_stripe.calls("POST", "/v1/checkout/sessions")
    assert call["params"]["customer"] == customer_id


def test_a_checkout_completed_with_its_payment_pending_is_not_opened_twice(stripe_app, fake_stripe):
    # The member paid by bank debit: Checkout completed with the subscription incomplete until
    # the debit clears, and no webhook got here yet. Clicking Join again must not open another.
    client, user_id = _member_with(stripe_app, "incomplete_expired")
    with stripe_app.app_context():
        db.session.execute(db.delete(Subscription))
        customer_id = db.session.scalar(select(StripeCustomer.stripe_customer_id))
        db.session.commit()
    fake_stripe.customers[customer_id] = {"id": customer_id, "object": "customer"}
    location = support.post_form(client, "/membership/checkout").headers["Location"]
    session_id = location.rsplit("/", 1)[1]
    pending = subscription(new_id("sub"), customer_id, status="incomplete", user_id=user_id)
    fake_stripe.complete_session(session_id, pending)
    fake_stripe.sessions[session_id]["payment_status"] = "unpaid"
    response = support.post_form(client, "/membership/checkout")
    assert response.status_code == 303 and response.headers["Location"].endswith("/membership")
    assert len(fake_stripe.calls("POST", "/v1/checkout/sessions")) == 1
    page = client.get("/membership").get_data(as_text=True)
    assert "finish it in the billing portal" in page and "Join again" not in page
    with stripe_app.app_context():
        assert db.session.scalar(select(Subscription.status)) == "incomplete"


def test_a_paused_membership_is_not_called_overdue(stripe_app, fake_stripe):
    # Stripe pauses a subscription whose trial ended without a card to charge: nothing is
    # overdue, and a new card does not resume it (only joining again restores access).
    client, _ = _member_with(stripe_app, "paused")
    page = client.get("/membership").get_data(as_text=True)
    assert "overdue" not in page and "Update your card to restore access" not in page
    assert "Your membership is paused" in page
    assert "Join again" in page and 'action="/membership/checkout"' in page


def test_a_first_payment_that_never_came_is_not_called_an_ended_membership(stripe_app, fake_stripe):
    # Stripe gave up on the first invoice: the membership never started, so it did not "end"
    # (least of all on the date its unpaid first period would have run to).
    client, _ = _member_with(stripe_app, "incomplete_expired")
    page = client.get("/membership").get_data(as_text=True)
    assert "Your membership ended" not in page and "incomplete expired" not in page
    assert "never started" in page and "Join again" in page
    home = client.get("/").get_data(as_text=True)
    assert "Not started" in home and "Ended" not in home


def test_a_membership_past_its_cancellation_shows_as_ended_not_active(stripe_app, fake_stripe):
    # Cancelled at period end, the period is over and Stripe's deletion event is not here yet:
    # access has ended, and so must the badge.
    with stripe_app.app_context():
        user = support.create_user()
        user_id, email = user.id, user.email
        support.make_member(
            user_id,
            "active",
            cancel_at_period_end=True,
            current_period_end=utcnow() - timedelta(hours=1),
        )
    client = stripe_app.test_client()
    support.login(client, email)
    page = client.get("/membership").get_data(as_text=True)
    status = page[page.index('id="status-heading"') :]
    status = status[: status.index("</h2>")]
    assert "Ended" in status and "active" not in status


def test_a_cancelled_membership_past_its_grace_says_access_is_locked(stripe_app, fake_stripe):
    # The renewal failed, the grace ran out and the member then cancelled: the page must not
    # read as access until the period's end, nor promise no charge while Stripe may still
    # retry the unpaid invoice (the cancellation email says so too).
    client, user_id = _member_with(stripe_app, "active")
    with stripe_app.app_context():
        row = db.session.scalar(select(Subscription).where(Subscription.user_id == user_id))
        row.status = "past_due"
        row.cancel_at_period_end = True
        row.past_due_since = utcnow() - timedelta(days=20)
        db.session.commit()
    page = client.get("/membership").get_data(as_text=True)
    assert "paid articles and courses are locked" in page
    assert "You will not be charged again" not in page
    assert "may still be tried again" in page


def test_a_past_due_member_with_a_comp_is_not_told_access_ends_with_the_grace(
    stripe_app, fake_stripe
):
    # The comp grant keeps access past the card's grace: the page must give that end, as the
    # payment-failed email does, not the grace's.
    from campus.templating import format_date

    client, user_id = _member_with(stripe_app, "active")
    with stripe_app.app_context():
        row = db.session.scalar(select(Subscription).where(Subscription.user_id == user_id))
        row.status = "past_due"
        row.past_due_since = utcnow() - timedelta(days=1)
        db.session.commit()
        comp_end = format_date(support.grant_comp(user_id, days=60).ends_at)
    page = client.get("/membership").get_data(as_text=True)
    assert "while we retry" not in page
    assert f"keeps your access open until <strong>{comp_end}</strong>" in page
    assert "Update your card to keep your membership" in page


def test_a_cancelled_member_with_a_longer_comp_is_told_access_goes_on(stripe_app, fake_stripe):
    # The paid membership ends with its period; the comp grant keeps access well past it. The
    # page must not read as if access stopped at the period's end.
    from campus.templating import format_date

    client, user_id = _member_with(stripe_app, "active")
    with stripe_app.app_context():
        row = db.session.scalar(select(Subscription).where(Subscription.user_id == user_id))
        row.cancel_at_period_end = True
        row.current_period_end = utcnow() + timedelta(days=10)
        db.session.commit()
        comp_end = format_date(support.grant_comp(user_id, days=60).ends_at)
    page = client.get("/membership").get_data(as_text=True)
    assert "After that your membership ends" in page  # the paid one: true
    assert f"keeps your access open until <strong>{comp_end}</strong>" in page
    home = client.get("/").get_data(as_text=True)
    assert "then it ends" not in home
    assert f"keeps your access open until <strong>{comp_end}</strong>" in home


def test_a_trial_is_not_said_to_renew(stripe_app, fake_stripe):
    # Nothing was paid yet: the date is the trial's end and the first charge, not a renewal.
    client, _ = _member_with(stripe_app, "trialing")
    page = client.get("/membership").get_data(as_text=True)
    assert "renews" not in page and "Your trial ends on" in page
    home = client.get("/").get_data(as_text=True)
    assert "Renews on" not in home and "Trial ends on" in home


def test_joining_again_ends_the_paused_subscription_at_stripe(
    stripe_client, stripe_app, fake_stripe
):
    # Paused is not ended at Stripe: left beside the new subscription, the member held two,
    # and resuming the old one (or Stripe's support doing so) would charge them twice.
    from campus.mail.models import EmailMessage
    from tests.billing.fake_stripe import event, post_event

    with stripe_app.app_context():
        user = support.create_user()
        user_id, customer_id = user.id, new_id("cus")
        db.session.add(StripeCustomer(user_id=user_id, stripe_customer_id=customer_id))
        db.session.commit()
    fake_stripe.customers[customer_id] = {"id": customer_id, "object": "customer"}
    paused = subscription("sub_old", customer_id, status="paused", user_id=user_id)
    fake_stripe.subscriptions["sub_old"] = paused
    post_event(stripe_client, event("customer.subscription.updated", paused))
    joined = subscription("sub_new", customer_id, user_id=user_id)
    fake_stripe.subscriptions["sub_new"] = joined
    post_event(stripe_client, event("customer.subscription.created", joined))
    assert [c["path"] for c in fake_stripe.calls("DELETE", "/v1/subscriptions/sub_old")] == [
        "/v1/subscriptions/sub_old"
    ]
    with stripe_app.app_context():
        statuses = dict(
            db.session.execute(
                select(Subscription.stripe_subscription_id, Subscription.status)
            ).all()
        )
    assert statuses == {"sub_old": "canceled", "sub_new": "active"}
    # Its deletion event follows: the member, a member still, hears nothing of an end.
    post_event(
        stripe_client, event("customer.subscription.deleted", fake_stripe.subscriptions["sub_old"])
    )
    with stripe_app.app_context():
        keys = db.session.scalars(select(EmailMessage.dedupe_key)).all()
    assert not any(key.startswith("billing:ended") for key in keys)


def test_a_paused_subscription_stripe_could_not_end_at_the_join_is_ended_by_the_sync(
    stripe_client, stripe_app, fake_stripe
):
    # Stripe failed the cancellation when the new subscription was applied: the new
    # membership went ahead, and the hourly sync (Stripe back) ends the paused one.
    import time

    import time_machine

    from campus.billing import tasks
    from tests.billing.fake_stripe import event, post_event

    with stripe_app.app_context():
        user = support.create_user()
        user_id, customer_id = user.id, new_id("cus")
        db.session.add(StripeCustomer(user_id=user_id, stripe_customer_id=customer_id))
        db.session.commit()
    fake_stripe.customers[customer_id] = {"id": customer_id, "object": "customer"}
    paused = subscription("sub_old", customer_id, status="paused", user_id=user_id)
    fake_stripe.subscriptions["sub_old"] = paused
    post_event(stripe_client, event("customer.subscription.updated", paused))
    joined = subscription("sub_new", customer_id, user_id=user_id)
    fake_stripe.subscriptions["sub_new"] = joined
    fake_stripe.fail_paths.add("/v1/subscriptions/sub_old")
    post_event(stripe_client, event("customer.subscription.created", joined))
    with stripe_app.app_context():
        assert (
            db.session.scalar(
                select(Subscription.status).where(Subscription.stripe_subscription_id == "sub_new")
            )
            == "active"
        )

    fake_stripe.fail_paths.discard("/v1/subscriptions/sub_old")
    with time_machine.travel(time.time() + 3600, tick=False), stripe_app.app_context():
        tasks.reconcile.apply().get()
    assert len(fake_stripe.calls("DELETE", "/v1/subscriptions/sub_old")) == 2
    with stripe_app.app_context():
        statuses = dict(
            db.session.execute(
                select(Subscription.stripe_subscription_id, Subscription.status)
            ).all()
        )
    assert statuses == {"sub_old": "canceled", "sub_new": "active"}


def test_a_paused_subscription_campus_ends_goes_on_the_members_history(
    stripe_client, stripe_app, fake_stripe
):
    # Campus cancels it at Stripe on its own: an admin asked why must find who did, and when.
    from campus.audit import AuditEntry
    from tests.billing.fake_stripe import event, post_event

    with stripe_app.app_context():
        user = support.create_user()
        user_id, customer_id = user.id, new_id("cus")
        db.session.add(StripeCustomer(user_id=user_id, stripe_customer_id=customer_id))
        db.session.commit()
    fake_stripe.customers[customer_id] = {"id": customer_id, "object": "customer"}
    paused = subscription("sub_old", customer_id, status="paused", user_id=user_id)
    fake_stripe.subscriptions["sub_old"] = paused
    post_event(stripe_client, event("customer.subscription.updated", paused))
    joined = subscription("sub_new", customer_id, user_id=user_id)
    fake_stripe.subscriptions["sub_new"] = joined
    post_event(stripe_client, event("customer.subscription.created", joined))
    post_event(
        stripe_client, event("customer.subscription.deleted", fake_stripe.subscriptions["sub_old"])
    )
    with stripe_app.app_context():
        entries = db.session.scalars(
            select(AuditEntry).where(
                AuditEntry.object_type == "User", AuditEntry.object_id == str(user_id)
            )
        ).all()
        assert [(e.action, e.actor_email) for e in entries] == [
            ("paused_subscription_ended", "system")
        ]
        assert "sub_old" in entries[0].summary and "sub_new" in entries[0].summary

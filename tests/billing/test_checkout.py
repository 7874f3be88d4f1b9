"""Checkout, the success page and the Customer Portal through the Stripe SDK (local imitation)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from campus.billing.models import CheckoutSession, StripeCustomer, Subscription
from campus.extensions import db
from tests import support
from tests.billing.fake_stripe import PRICE_ID, new_id, subscription


def _member_client(app, **user_fields):
    with app.app_context():
        user = support.create_user(**user_fields)
        user_id, email = user.id, user.email
    client = app.test_client()
    support.login(client, email)
    return client, user_id


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_checkout_creates_one_customer_and_a_subscription_session(stripe_app, fake_stripe):
    client, user_id = _member_client(stripe_app)
    response = support.post_form(client, "/membership/checkout")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("https://checkout.stripe.test/c/pay/cs_")
    [customer_call] = fake_stripe.calls("POST", "/v1/customers")
    assert customer_call["idempotency_key"].startswith(f"campus-customer-{user_id}-")
    assert customer_call["params"]["metadata"] == {"user_id": str(user_id)}
    assert customer_call["authorization"] == "Bearer sk_test_campus"
    [session_call] = fake_stripe.calls("POST", "/v1/checkout/sessions")
    params = session_call["params"]
    assert params["mode"] == "subscription"
    assert params["client_reference_id"] == str(user_id)
    assert params["subscription_data"] == {"metadata": {"user_id": str(user_id)}}
    assert params["line_items"] == [{"price": PRICE_ID, "quantity": "1"}]
    assert params["customer"].startswith("cus_")
    assert "{CHECKOUT_SESSION_ID}" in params["success_url"]
    with stripe_app.app_context():
        record = db.session.scalar(select(StripeCustomer))
        assert record.user_id == user_id and record.stripe_customer_id == params["customer"]


def test_second_checkout_reuses_the_customer_and_the_open_session(stripe_app, fake_stripe):
    client, _ = _member_client(stripe_app)
    first = support.post_form(client, "/membership/checkout")
    second = support.post_form(client, "/membership/checkout")
    assert first.headers["Location"] == second.headers["Location"]
    assert len(fake_stripe.calls("POST", "/v1/customers")) == 1
    assert len(fake_stripe.calls("POST", "/v1/checkout/sessions")) == 1


def test_concurrent_double_click_gives_one_customer_and_one_session(stripe_app, fake_stripe):
    with stripe_app.app_context():
        user = support.create_user()
        email = user.id and user.email
    clients = [stripe_app.test_client() for _ in range(2)]
    tokens = []
    for c in clients:
        support.login(c, email)
        tokens.append(support.csrf_token(c))
    results: list[int] = []
    barrier = threading.Barrier(2)

    def click(c, token):
        barrier.wait()
        results.append(c.post("/membership/checkout", data={"csrf_token": token}).status_code)

    threads = [
        threading.Thread(target=click, args=pair) for pair in zip(clients, tokens, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results == [303, 303]
    assert _count(stripe_app, StripeCustomer) == 1
    assert _count(stripe_app, CheckoutSession) == 1
    assert len(fake_stripe.calls("POST", "/v1/checkout/sessions")) == 1
    assert len({r["idempotency_key"] for r in fake_stripe.calls("POST", "/v1/customers")}) == 1


def test_stripe_down_during_checkout_shows_a_message_and_leaves_nothing(stripe_app, fake_stripe):
    client, _ = _member_client(stripe_app)
    fake_stripe.fail_paths.add("/v1/checkout/sessions")
    response = support.post_form(client, "/membership/checkout")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/membership")
    page = client.get("/membership").get_data(as_text=True)
    assert "could not reach our payment provider" in page
    assert _count(stripe_app, StripeCustomer) == 0
    assert _count(stripe_app, CheckoutSession) == 0
    fake_stripe.fail_paths.clear()
    retry = support.post_form(client, "/membership/checkout")
    assert retry.status_code == 303 and "checkout.stripe.test" in retry.headers["Location"]
    # The retried customer creation reused the idempotency key: still one customer at Stripe.
    assert len(fake_stripe.customers) == 1
    assert _count(stripe_app, StripeCustomer) == 1


def test_a_member_who_fixes_their_name_after_a_failed_checkout_can_join(stripe_app, fake_stripe):
    from campus.accounts.models import User

    client, user_id = _member_client(stripe_app, full_name="Jane Smiht")
    fake_stripe.fail_paths.add("/v1/checkout/sessions")
    support.post_form(client, "/membership/checkout")  # the customer is made, the session not
    fake_stripe.fail_paths.clear()
    with stripe_app.app_context():
        db.session.get_one(User, user_id).full_name = "Jane Smith"
        db.session.commit()
    # Within the 24 hours Stripe keeps a key: the new name is a new request, not a replay.
    retry = support.post_form(client, "/membership/checkout")
    assert retry.status_code == 303 and "checkout.stripe.test" in retry.headers["Location"]
    customer_id = fake_stripe.calls("POST", "/v1/checkout/sessions")[-1]["params"]["customer"]
    assert fake_stripe.customers[customer_id]["name"] == "Jane Smith"
    with stripe_app.app_context():
        assert db.session.scalars(select(StripeCustomer.stripe_customer_id)).all() == [customer_id]


def test_a_stripe_that_does_not_answer_is_given_up_on_with_a_message(_database, fake_stripe):
    import time

    app = support.make_app(
        STRIPE_SECRET_KEY="sk_test_campus",
        STRIPE_PRICE_ID=PRICE_ID,
        STRIPE_API_BASE=fake_stripe.url,
        STRIPE_MAX_NETWORK_RETRIES=0,
        STRIPE_TIMEOUT=0.2,
    )
    stall = fake_stripe.stalls["/v1/checkout/sessions"] = threading.Event()
    try:
        client, _ = _member_client(app)
        started = time.monotonic()
        response = support.post_form(client, "/membership/checkout")
        waited = time.monotonic() - started
        stall.set()
        assert response.status_code == 303 and response.headers["Location"].endswith("/membership")
        assert waited < 5
        assert "could not reach our payment provider" in client.get("/membership").text
        assert _count(app, StripeCustomer) == 0
        assert _count(app, CheckoutSession) == 0
    finally:
        stall.set()
        support.clean_database(app)


def test_stripe_calls_wait_seconds_not_the_sdks_minutes():
    # A member's click waits on Stripe in a web thread: the SDK's own 80 s (times its retries)
    # would hold it past any proxy's timeout, and a few such clicks would hold them all.
    from config import Config

    assert Config.STRIPE_TIMEOUT <= 15


def test_unreachable_stripe_host_is_a_clear_message(_database):
    app = support.make_app(
        STRIPE_SECRET_KEY="sk_test_campus",
        STRIPE_PRICE_ID=PRICE_ID,
        STRIPE_API_BASE="http://127.0.0.1:9",
        STRIPE_MAX_NETWORK_RETRIES=0,
    )
    try:
        client, _ = _member_client(app)
        response = support.post_form(client, "/membership/checkout", follow_redirects=True)
        assert response.status_code == 200
        assert "could not reach our payment provider" in response.get_data(as_text=True)
        assert _count(app, StripeCustomer) == 0
    finally:
        support.clean_database(app)


def test_a_member_whose_customer_was_deleted_at_stripe_can_join_again(stripe_app, fake_stripe):
    from datetime import timedelta

    import time_machine

    from tests.billing.fake_stripe import event, post_event

    client, user_id = _member_client(stripe_app, email="back@example.com")
    email = "back@example.com"
    support.post_form(client, "/membership/checkout")
    [old] = fake_stripe.customers
    # Deleted in Stripe's dashboard; Stripe cancels its subscriptions and says so.
    del fake_stripe.customers[old]
    gone = {"id": old, "object": "customer", "deleted": True}
    assert post_event(stripe_app.test_client(), event("customer.deleted", gone)).status_code == 200
    # Days later (Stripe keeps an idempotency key for 24 hours) the member wants to come back.
    fake_stripe.idempotent.clear()
    with time_machine.travel(timedelta(days=3)):
        support.login(client, email)
        portal = support.post_form(client, "/membership/portal", follow_redirects=True)
        assert "could not reach our payment provider" not in portal.text
        response = support.post_form(client, "/membership/checkout")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("https://checkout.stripe.test/c/pay/cs_")
    [new] = fake_stripe.customers
    assert new != old
    with stripe_app.app_context():
        record = db.session.scalar(select(StripeCustomer))
        assert record.user_id == user_id and record.stripe_customer_id == new


def test_a_member_whose_customer_was_deleted_at_stripe_the_same_day_can_join_again(
    stripe_app, fake_stripe
):
    # Stripe replays a request's answer for 24 hours under its idempotency key: the customer
    # replacing a deleted one must not be asked for under the key that made the deleted one.
    from datetime import timedelta

    import time_machine

    client, _ = _member_client(stripe_app, email="again@example.com")
    support.post_form(client, "/membership/checkout")
    [old] = fake_stripe.customers
    del fake_stripe.customers[old]  # deleted in Stripe's dashboard, no event here yet
    with time_machine.travel(timedelta(hours=1)):  # an hour on, well within the 24 hours
        support.login(client, "again@example.com")
        response = support.post_form(client, "/membership/checkout")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("https://checkout.stripe.test/c/pay/cs_")
    [new] = fake_stripe.customers
    assert new != old
    with stripe_app.app_context():
        assert db.session.scalars(select(StripeCustomer.stripe_customer_id)).all() == [new]


def test_a_member_whose_customer_stripe_does_not_know_gets_a_new_one(stripe_app, fake_stripe):
    # Made with the test keys before the switch to live ones (or deleted at Stripe without an
    # event reaching us): Stripe refuses a Checkout Session for it.
    client, user_id = _member_client(stripe_app)
    with stripe_app.app_context():
        db.session.add(StripeCustomer(user_id=user_id, stripe_customer_id="cus_testmode"))
        db.session.commit()
    response = support.post_form(client, "/membership/checkout")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("https://checkout.stripe.test/c/pay/cs_")
    [new] = fake_stripe.customers
    with stripe_app.app_context():
        assert db.session.scalars(select(StripeCustomer.stripe_customer_id)).all() == [new]
        assert db.session.scalar(select(CheckoutSession.stripe_customer_id)) == new


def test_member_with_access_is_not_sent_to_checkout(stripe_app, fake_stripe):
    client, user_id = _member_client(stripe_app)
    with stripe_app.app_context():
        support.make_member(user_id, "active")
    response = support.post_form(client, "/membership/checkout")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/membership")
    assert fake_stripe.requests == []


@pytest.mark.parametrize("status", ["past_due", "unpaid"])
def test_a_member_whose_payment_is_awaited_is_sent_to_the_card_not_a_second_plan(
    stripe_app, fake_stripe, status
):
    # Past the grace the member has no access, but Stripe may still collect the invoice: a
    # second subscription beside it would charge them twice.
    from datetime import timedelta

    from campus.models.base import utcnow

    client, user_id = _member_client(stripe_app)
    with stripe_app.app_context():
        support.make_member(user_id, status, past_due_since=utcnow() - timedelta(days=10))
    page = client.get("/membership").get_data(as_text=True)
    assert "Join again" not in page and 'action="/membership/checkout"' not in page
    assert "waiting for a payment" in page
    response = support.post_form(client, "/membership/checkout")
    assert response.status_code == 303 and response.headers["Location"].endswith("/membership")
    assert fake_stripe.calls("POST", "/v1/checkout/sessions") == []
    follow = client.get("/membership").get_data(as_text=True)
    assert "update your card in the billing portal" in follow


def test_a_member_whose_payment_went_through_unseen_is_not_sold_a_second_membership(
    stripe_app, fake_stripe
):
    # Paid, but neither the webhook nor the success page's fetch got through (our worker was
    # down, Stripe's API answered 500): an hour on, the member clicks Join again.
    from datetime import timedelta

    import time_machine

    client, user_id = _member_client(stripe_app, email="paid@example.com")
    location = support.post_form(client, "/membership/checkout").headers["Location"]
    session_id = location.rsplit("/", 1)[1]
    customer = fake_stripe.sessions[session_id]["customer"]
    fake_stripe.complete_session(session_id, subscription(new_id("sub"), customer, user_id=user_id))
    with time_machine.travel(timedelta(hours=1)):
        support.login(client, "paid@example.com")
        response = support.post_form(client, "/membership/checkout")
        assert response.status_code == 303
        assert response.headers["Location"].endswith("/membership")
        page = client.get("/membership").text
    assert len(fake_stripe.calls("POST", "/v1/checkout/sessions")) == 1
    assert "You already have full access" in page
    with stripe_app.app_context():
        assert db.session.scalar(select(CheckoutSession.status)) == "complete"
        assert db.session.scalar(select(Subscription.status)) == "active"


def test_signed_out_checkout_goes_to_login(stripe_client):
    response = support.post_form(stripe_client, "/membership/checkout")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_success_page_syncs_the_session_before_any_webhook(stripe_app, fake_stripe):
    client, user_id = _member_client(stripe_app)
    location = support.post_form(client, "/membership/checkout").headers["Location"]
    session_id = location.rsplit("/", 1)[1]
    customer = fake_stripe.sessions[session_id]["customer"]
    fake_stripe.complete_session(session_id, subscription(new_id("sub"), customer, user_id=user_id))
    page = client.get(f"/membership/success?session_id={session_id}").get_data(as_text=True)
    assert "Your membership is active" in page
    me = client.get("/api/v1/me").get_json()
    assert me["membership"]["status"] == "active" and me["membership"]["has_access"] is True
    with stripe_app.app_context():
        assert db.session.scalar(select(CheckoutSession.status)) == "complete"


def test_success_page_waits_while_the_payment_is_unconfirmed(stripe_app, fake_stripe):
    client, _ = _member_client(stripe_app)
    location = support.post_form(client, "/membership/checkout").headers["Location"]
    session_id = location.rsplit("/", 1)[1]
    page = client.get(f"/membership/success?session_id={session_id}").get_data(as_text=True)
    assert "Activating your membership" in page
    assert f'content="2; url=/membership/success?session_id={session_id}&amp;tries=1"' in page
    assert _count(stripe_app, Subscription) == 0
    # After about a minute of reloads it stops and says what happens next.
    page = client.get(f"/membership/success?session_id={session_id}&tries=30").text
    assert "Still waiting for Stripe" in page and 'http-equiv="refresh"' not in page
    for tries in ("x", "-3", "²", "9" * 5000):
        url = f"/membership/success?session_id={session_id}&tries={tries}"
        assert client.get(url).status_code == 200


def test_success_page_of_a_payment_still_clearing_does_not_promise_seconds(stripe_app, fake_stripe):
    # Paid by bank debit: Checkout completed, the subscription waits incomplete for days while
    # the debit clears. The page must say so, not spin for a minute "usually a few seconds".
    client, user_id = _member_client(stripe_app)
    location = support.post_form(client, "/membership/checkout").headers["Location"]
    session_id = location.rsplit("/", 1)[1]
    customer = fake_stripe.sessions[session_id]["customer"]
    pending = subscription(new_id("sub"), customer, status="incomplete", user_id=user_id)
    fake_stripe.complete_session(session_id, pending)
    page = client.get(f"/membership/success?session_id={session_id}").get_data(as_text=True)
    assert "few seconds" not in page and 'http-equiv="refresh"' not in page
    assert "first payment" in page and "few days" in page


def test_success_page_without_a_session_does_not_wait(stripe_app, fake_stripe):
    client, _ = _member_client(stripe_app)
    page = client.get("/membership/success").get_data(as_text=True)
    assert "No payment to confirm" in page and 'http-equiv="refresh"' not in page


def test_success_page_ignores_another_users_session(stripe_app, fake_stripe):
    owner, _ = _member_client(stripe_app)
    location = support.post_form(owner, "/membership/checkout").headers["Location"]
    session_id = location.rsplit("/", 1)[1]
    customer = fake_stripe.sessions[session_id]["customer"]
    fake_stripe.complete_session(session_id, subscription(new_id("sub"), customer))
    intruder, _ = _member_client(stripe_app)
    page = intruder.get(f"/membership/success?session_id={session_id}").get_data(as_text=True)
    assert "Activating your membership" in page
    assert _count(stripe_app, Subscription) == 0


def test_success_page_with_unknown_session_changes_nothing(stripe_app, fake_stripe):
    client, _ = _member_client(stripe_app)
    response = client.get("/membership/success?session_id=cs_does_not_exist")
    assert response.status_code == 200
    assert _count(stripe_app, Subscription) == 0


def test_portal_redirects_a_customer_to_stripe(stripe_app, fake_stripe):
    client, _ = _member_client(stripe_app)
    support.post_form(client, "/membership/checkout")
    response = support.post_form(client, "/membership/portal")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("https://billing.stripe.test/p/session/")
    [call] = fake_stripe.calls("POST", "/v1/billing_portal/sessions")
    assert call["params"]["return_url"].endswith("/membership?from=portal")
    assert (
        call["params"]["customer"]
        == fake_stripe.calls("POST", "/v1/checkout/sessions")[0]["params"]["customer"]
    )


def test_back_from_the_portal_the_subscription_is_fetched_at_once(stripe_app, fake_stripe):
    from tests.billing.fake_stripe import new_id, subscription

    client, user_id = _member_client(stripe_app)
    support.post_form(client, "/membership/checkout")
    customer = fake_stripe.calls("POST", "/v1/checkout/sessions")[0]["params"]["customer"]
    sub = subscription(new_id("sub"), customer, cancel_at_period_end=True, user_id=user_id)
    sub["created"] -= 3600
    fake_stripe.subscriptions[sub["id"]] = sub
    # An ordinary visit shows the mirror and never calls Stripe.
    assert "Join for $19.95/month" in client.get("/membership").get_data(as_text=True)
    assert fake_stripe.calls("GET", "/v1/subscriptions") == []
    # Back from the portal (its webhooks not here yet), the page shows what was just done.
    page = client.get("/membership?from=portal").get_data(as_text=True)
    assert "You have full access until" in page and "Resume or manage billing" in page
    assert len(fake_stripe.calls("GET", "/v1/subscriptions")) == 1


def test_back_from_the_portal_with_stripe_down_still_shows_the_page(stripe_app, fake_stripe):
    client, _ = _member_client(stripe_app)
    support.post_form(client, "/membership/checkout")
    fake_stripe.fail_paths.add("/v1/subscriptions")
    response = client.get("/membership?from=portal")
    assert response.status_code == 200
    assert "Join for $19.95/month" in response.get_data(as_text=True)


def test_portal_without_a_customer_explains(stripe_app, fake_stripe):
    client, _ = _member_client(stripe_app)
    response = support.post_form(client, "/membership/portal", follow_redirects=True)
    assert "start a membership first" in response.get_data(as_text=True)
    assert fake_stripe.requests == []


def test_a_member_whose_customer_stripe_does_not_know_is_not_told_to_retry_the_portal(
    stripe_app, fake_stripe
):
    # Made with the test keys before the switch to live ones, or deleted at Stripe with no
    # event reaching us: no portal can ever open for it, so "try again in a moment" is wrong.
    client, user_id = _member_client(stripe_app)
    with stripe_app.app_context():
        db.session.add(StripeCustomer(user_id=user_id, stripe_customer_id="cus_testmode"))
        db.session.commit()
    response = support.post_form(client, "/membership/portal", follow_redirects=True)
    assert "could not reach our payment provider" not in response.text
    assert "start a membership first" in response.text
    assert 'action="/membership/portal"' not in response.text
    assert _count(stripe_app, StripeCustomer) == 0


def test_portal_when_stripe_is_down_shows_a_message(stripe_app, fake_stripe):
    client, _ = _member_client(stripe_app)
    support.post_form(client, "/membership/checkout")
    fake_stripe.fail_paths.add("/v1/billing_portal/sessions")
    response = support.post_form(client, "/membership/portal", follow_redirects=True)
    assert "could not reach our payment provider" in response.get_data(as_text=True)


def test_portal_returns_ask_stripe_at_most_once_a_minute_per_member(stripe_app, fake_stripe):
    from datetime import timedelta

    import time_machine

    client, _ = _member_client(stripe_app)
    support.post_form(client, "/membership/checkout")
    for _ in range(5):
        assert client.get("/membership?from=portal").status_code == 200
    assert len(fake_stripe.calls("GET", "/v1/subscriptions")) == 1
    # Another member has their own minute.
    other, _ = _member_client(stripe_app)
    support.post_form(other, "/membership/checkout")
    other.get("/membership?from=portal")
    assert len(fake_stripe.calls("GET", "/v1/subscriptions")) == 2
    with time_machine.travel(timedelta(seconds=61), tick=False):
        client.get("/membership?from=portal")
    assert len(fake_stripe.calls("GET", "/v1/subscriptions")) == 3


def test_success_page_reloads_ask_stripe_at_most_once_a_minute(stripe_app, fake_stripe):
    client, _ = _member_client(stripe_app)
    location = support.post_form(client, "/membership/checkout").headers["Location"]
    session_id = location.rsplit("/", 1)[1]
    for tries in range(4):
        client.get(f"/membership/success?session_id={session_id}&tries={tries}")
    assert len(fake_stripe.calls("GET", f"/v1/checkout/sessions/{session_id}")) == 1


def test_membership_pages_are_rate_limited_per_member(stripe_app, fake_stripe):
    stripe_app.config["BILLING_SYNC_RATE_LIMIT"] = "3 per minute"
    client, _ = _member_client(stripe_app)
    codes = [client.get("/membership?from=portal").status_code for _ in range(2)]
    codes += [client.get("/membership/success?session_id=cs_x").status_code for _ in range(2)]
    assert codes == [200, 200, 200, 429]
    other, _ = _member_client(stripe_app)
    assert other.get("/membership").status_code == 200


@pytest.mark.parametrize("paid", [False, True], ids=["left-open", "paid"])
def test_a_checkout_session_lost_before_it_was_stored_is_settled_before_a_new_one(
    stripe_app, fake_stripe, paid
):
    # The web process was killed between Stripe making the session and storing it: still
    # payable for a day (another tab, the browser's history), beside a new one it could be
    # paid as well, two memberships for one member.
    from sqlalchemy import delete

    client, user_id = _member_client(stripe_app)
    first = support.post_form(client, "/membership/checkout").headers["Location"]
    lost = first.rsplit("/", 1)[1]
    with stripe_app.app_context():
        db.session.execute(delete(CheckoutSession))  # its row went with the killed process
        db.session.commit()
    if paid:
        customer = fake_stripe.sessions[lost]["customer"]
        fake_stripe.complete_session(lost, subscription(new_id("sub"), customer, user_id=user_id))
    second = support.post_form(client, "/membership/checkout")
    if paid:
        assert second.headers["Location"].endswith("/membership")
        assert len(fake_stripe.calls("POST", "/v1/checkout/sessions")) == 1
        with stripe_app.app_context():
            assert db.session.scalar(select(Subscription.status)) == "active"
    else:
        assert second.headers["Location"] != first
        assert fake_stripe.sessions[lost]["status"] == "expired"


def test_a_comp_member_who_joins_is_told_what_their_comp_gives_and_until_when(
    stripe_app, fake_stripe
):
    # They never paid: "no need to pay again" is not their case, and they need the end date.
    from campus.templating import format_date

    client, user_id = _member_client(stripe_app)
    with stripe_app.app_context():
        ends = support.grant_comp(user_id, days=40).ends_at
        ends_on = format_date(ends)
    response = support.post_form(client, "/membership/checkout")
    assert response.headers["Location"].endswith("/membership")
    page = client.get("/membership").text
    assert "pay again" not in page
    assert (
        "Your complimentary membership gives you full access to every article and CE course "
        f"until {ends_on}: there is nothing to pay until then."
    ) in page
    assert fake_stripe.calls("POST", "/v1/checkout/sessions") == []

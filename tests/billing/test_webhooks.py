"""POST /webhooks/stripe: verification, storage, ordering, failures, emails and replay."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select, update

from campus.billing.access import has_paid_access
from campus.billing.models import StripeCustomer, Subscription, WebhookEvent
from campus.extensions import db
from campus.mail.models import EmailMessage
from tests import support
from tests.billing.fake_stripe import (
    event,
    invoice,
    new_id,
    post_event,
    signed_headers,
    subscription,
)


@pytest.fixture
def customer(stripe_app):
    """A user with a Stripe customer record: (user_id, customer_id)."""
    with stripe_app.app_context():
        user = support.create_user()
        customer_id = new_id("cus")
        db.session.add(StripeCustomer(user_id=user.id, stripe_customer_id=customer_id))
        db.session.commit()
        return user.id, customer_id


def _events(app) -> list[WebhookEvent]:
    with app.app_context():
        rows = db.session.scalars(select(WebhookEvent).order_by(WebhookEvent.id)).all()
        db.session.expunge_all()
        return rows


def _sub(app, sub_id: str) -> Subscription | None:
    with app.app_context():
        row = db.session.scalar(
            select(Subscription).where(Subscription.stripe_subscription_id == sub_id)
        )
        if row is not None:
            db.session.expunge(row)
        return row


def _access(app, user_id: int) -> bool:
    from campus.accounts.models import User

    with app.app_context():
        return has_paid_access(db.session.get(User, user_id))


def _emails(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(EmailMessage.dedupe_key).order_by(EmailMessage.id)))


# --- verification --------------------------------------------------------------------------


def _valid_payload() -> str:
    return json.dumps(event("customer.created", {"id": "cus_x", "object": "customer"}))


@pytest.mark.parametrize(
    "make_headers",
    [
        pytest.param(lambda p: {}, id="missing-signature"),
        pytest.param(lambda p: {"Stripe-Signature": "garbage"}, id="garbled-header"),
        pytest.param(lambda p: signed_headers(p, secret="whsec_wrong"), id="wrong-secret"),
        pytest.param(
            lambda p: signed_headers(p, timestamp=int(time.time()) - 3600), id="stale-timestamp"
        ),
        pytest.param(lambda p: signed_headers(p + " "), id="body-changed-after-signing"),
    ],
)
def test_bad_signature_is_rejected_and_nothing_stored(stripe_client, stripe_app, make_headers):
    payload = _valid_payload()
    response = stripe_client.post("/webhooks/stripe", data=payload, headers=make_headers(payload))
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_webhook"
    assert _events(stripe_app) == []


@pytest.mark.parametrize("header", ["t=1,v1=\xe9", "t=1,v1=\xc3\xa9", "t=\xff,v1=ab"])
def test_a_signature_outside_ascii_is_called_a_bad_signature(stripe_client, stripe_app, header):
    response = stripe_client.post(
        "/webhooks/stripe", data=_valid_payload(), headers={"Stripe-Signature": header}
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["message"] == "Invalid or stale signature."
    assert _events(stripe_app) == []


@pytest.mark.parametrize(
    "payload",
    [
        "not json",
        "[1, 2, 3]",
        '"a string"',
        "{}",
        json.dumps({"id": "evt_1", "type": "x", "created": "yesterday", "data": {"object": {}}}),
        json.dumps({"id": "evt_1", "type": "x", "created": 1, "data": {"object": "nope"}}),
        json.dumps({"id": 5, "type": "x", "created": 1, "data": {"object": {}}}),
        b"\xff\xfe\x00".decode("latin-1"),
    ],
)
def test_malformed_but_signed_body_is_rejected(stripe_client, stripe_app, payload):
    response = stripe_client.post(
        "/webhooks/stripe", data=payload.encode("latin-1"), headers=signed_headers(payload)
    )
    assert response.status_code == 400
    assert response.is_json
    assert _events(stripe_app) == []


def test_oversized_body_is_rejected(stripe_client, stripe_app):
    payload = json.dumps({"junk": "x" * 600_000})
    response = stripe_client.post("/webhooks/stripe", data=payload, headers=signed_headers(payload))
    assert response.status_code == 413
    assert _events(stripe_app) == []


def test_webhook_needs_no_csrf_token_and_get_is_not_allowed(stripe_client):
    response = stripe_client.get("/webhooks/stripe")
    assert response.status_code == 405 and response.headers["Allow"] == "POST"
    assert response.get_json()["error"]["code"] == "method_not_allowed"


def _webhook_environ(payload: bytes) -> dict:
    """A WSGI environ for a POST of payload to the webhook, to be altered like a server would."""
    from werkzeug.test import EnvironBuilder

    return EnvironBuilder(path="/webhooks/stripe", method="POST", data=payload).get_environ()


def _answer(app, environ: dict) -> tuple[str, dict]:
    """Run environ through the app's WSGI stack; return the status line and the JSON body."""
    statuses = []
    body = b"".join(app.wsgi_app(environ, lambda status, headers: statuses.append(status)))
    return statuses[0], json.loads(body)


def test_oversized_chunked_body_is_rejected_without_a_length(stripe_app):
    payload = json.dumps({"junk": "x" * 600_000}).encode()
    environ = _webhook_environ(payload)
    # As a chunked request reaches a WSGI server: no length, the server ends the stream.
    del environ["CONTENT_LENGTH"]
    environ["wsgi.input_terminated"] = True
    environ["HTTP_TRANSFER_ENCODING"] = "chunked"
    environ["HTTP_STRIPE_SIGNATURE"] = signed_headers(payload.decode())["Stripe-Signature"]
    status, body = _answer(stripe_app, environ)
    assert status == "413 REQUEST ENTITY TOO LARGE"
    assert body["error"]["code"] == "too_large"
    assert _events(stripe_app) == []


def test_body_cut_short_is_a_clear_400(stripe_app):
    import io

    payload = _valid_payload().encode()
    environ = _webhook_environ(payload)
    environ["wsgi.input"] = io.BytesIO(payload[:10])  # the client went away mid-body
    status, body = _answer(stripe_app, environ)
    assert status == "400 BAD REQUEST"
    assert body["error"]["code"] == "bad_request"
    assert _events(stripe_app) == []


def test_other_paths_still_reach_flask(stripe_client):
    assert stripe_client.post("/webhooks/stripe/").status_code == 404
    assert stripe_client.get("/membership").status_code == 200


def test_unexpected_failure_answers_500_and_stores_nothing(stripe_app, monkeypatch):
    from campus.billing import services

    def bug(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(services, "store_webhook", bug)
    response = post_event(stripe_app.test_client(), event("customer.created", {"id": "cus_x"}))
    assert response.status_code == 500
    assert response.get_json()["error"]["code"] == "internal_error"
    assert _events(stripe_app) == []


def test_unhandled_type_is_stored_and_acknowledged(stripe_client, stripe_app):
    payload = _valid_payload()
    response = stripe_client.post("/webhooks/stripe", data=payload, headers=signed_headers(payload))
    assert response.status_code == 200 and response.get_json() == {
        "received": True,
        "duplicate": False,
    }
    [row] = _events(stripe_app)
    assert row.type == "customer.created" and row.status == "ignored"
    assert "not used" in row.reason


def test_database_down_answers_503_so_stripe_retries(stripe_app, monkeypatch):
    from sqlalchemy import Engine
    from sqlalchemy.exc import OperationalError

    def broken(*args, **kwargs):
        raise OperationalError("connect", {}, Exception("connection refused"))

    client = stripe_app.test_client()
    evt = event("customer.subscription.updated", subscription("sub_x", "cus_x"))
    with monkeypatch.context() as patch:
        patch.setattr(Engine, "raw_connection", broken)
        response = post_event(client, evt)
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "unavailable"
    assert _events(stripe_app) == []
    # When the database is back, Stripe's retry is stored and processed.
    assert post_event(client, evt).status_code == 200
    assert [row.stripe_event_id for row in _events(stripe_app)] == [evt["id"]]


@pytest.mark.skipif(not support.is_postgres(), reason="kills a PostgreSQL server process")
def test_connection_killed_by_the_server_is_replaced(stripe_app):
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    client = stripe_app.test_client()
    with stripe_app.app_context():
        db.engine.dispose()  # from here on the pool holds the one connection the intake uses
    first = event("customer.subscription.updated", subscription("sub_x", "cus_x"))
    assert post_event(client, first).status_code == 200
    with stripe_app.app_context():
        assert db.engine.pool.checkedin() == 1
        pooled = db.engine.raw_connection()
        pid = pooled.driver_connection.info.backend_pid
        pooled.close()
        # The server ends that connection while it sits in the pool, as a restart would.
        killer = create_engine(db.engine.url, poolclass=NullPool)
        with killer.connect() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
        killer.dispose()
    evt = event("customer.subscription.updated", subscription("sub_y", "cus_y"))
    statuses = [post_event(client, evt).status_code for _ in range(3)]
    # The delivery that meets the dead connection gets a 5xx, so Stripe retries it; the dead
    # connection is not handed out again.
    assert statuses == [503, 200, 200]
    assert [row.stripe_event_id for row in _events(stripe_app)] == [first["id"], evt["id"]]


def test_database_unreachable_answers_5xx(_database):
    app = support.make_app(SQLALCHEMY_DATABASE_URI="postgresql+psycopg://nobody@127.0.0.1:9/x")
    evt = event("customer.subscription.updated", subscription("sub_x", "cus_x"))
    response = post_event(app.test_client(), evt)
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "unavailable"


# --- processing ----------------------------------------------------------------------------


def test_subscription_event_mirrors_the_2026_shape(stripe_client, stripe_app, customer):
    user_id, customer_id = customer
    end = int(time.time()) + 20 * 86400
    sub = subscription("sub_a", customer_id, period_end=end)
    assert post_event(stripe_client, event("customer.subscription.created", sub)).status_code == 200
    row = _sub(stripe_app, "sub_a")
    assert row.user_id == user_id and row.status == "active"
    assert row.current_period_end == datetime.fromtimestamp(end, UTC)
    assert _access(stripe_app, user_id)
    [stored] = _events(stripe_app)
    assert stored.status == "processed" and stored.attempts == 1 and stored.processed_at


def test_duplicate_delivery_is_a_no_op(stripe_client, stripe_app, customer):
    _, customer_id = customer
    sub = subscription("sub_a", customer_id)
    evt = event("invoice.payment_failed", invoice("sub_a", customer_id, paid=False))
    post_event(stripe_client, event("customer.subscription.created", sub))
    first = post_event(stripe_client, evt)
    second = post_event(stripe_client, evt)
    assert first.get_json()["duplicate"] is False
    assert second.status_code == 200 and second.get_json()["duplicate"] is True
    assert len(_events(stripe_app)) == 2
    assert [k for k in _emails(stripe_app) if k.startswith("billing:payment_failed")] == [
        f"billing:payment_failed:{evt['data']['object']['id']}:1"
    ]


def test_older_event_never_overwrites_newer_state(stripe_client, stripe_app, customer):
    user_id, customer_id = customer
    now = int(time.time())
    canceled = subscription("sub_a", customer_id, status="canceled")
    active = subscription("sub_a", customer_id, status="active")
    post_event(stripe_client, event("customer.subscription.deleted", canceled, created=now))
    post_event(stripe_client, event("customer.subscription.updated", active, created=now - 60))
    assert _sub(stripe_app, "sub_a").status == "canceled"
    assert not _access(stripe_app, user_id)
    stale = _events(stripe_app)[-1]
    assert stale.status == "ignored" and stale.reason.startswith("stale")


def test_same_second_disagreement_is_settled_by_fetching(
    stripe_client, stripe_app, customer, fake_stripe
):
    _, customer_id = customer
    now = int(time.time())
    past_due = subscription("sub_a", customer_id, status="past_due")
    recovered = subscription("sub_a", customer_id, status="active")
    fake_stripe.subscriptions["sub_a"] = recovered
    post_event(stripe_client, event("customer.subscription.updated", recovered, created=now))
    post_event(stripe_client, event("customer.subscription.updated", past_due, created=now))
    assert _sub(stripe_app, "sub_a").status == "active"
    assert fake_stripe.calls("GET", "/v1/subscriptions/sub_a")


def test_an_ended_subscription_is_never_brought_back_by_an_event_of_its_last_second(
    stripe_client, stripe_app, customer, fake_stripe
):
    # Stripe never revives an ended subscription, so a live state from the second it ended is
    # older, even when Stripe cannot be asked (it answers that it does not know it).
    user_id, customer_id = customer
    now = int(time.time())
    canceled = subscription("sub_a", customer_id, status="canceled")
    active = subscription("sub_a", customer_id, status="active")
    post_event(stripe_client, event("customer.subscription.deleted", canceled, created=now))
    post_event(stripe_client, event("customer.subscription.updated", active, created=now))
    assert _sub(stripe_app, "sub_a").status == "canceled"
    assert not _access(stripe_app, user_id)
    late = _events(stripe_app)[-1]
    assert late.status == "ignored" and late.reason.startswith("stale")


def test_unknown_customer_is_stored_and_ignored_with_reason(stripe_client, stripe_app):
    sub = subscription("sub_a", "cus_nobody")
    assert post_event(stripe_client, event("customer.subscription.created", sub)).status_code == 200
    [row] = _events(stripe_app)
    assert row.status == "ignored" and "unknown customer cus_nobody" in row.reason
    assert _sub(stripe_app, "sub_a") is None


def test_unknown_price_is_stored_and_ignored_with_reason(stripe_client, stripe_app, customer):
    _, customer_id = customer
    sub = subscription("sub_a", customer_id, price="price_other")
    post_event(stripe_client, event("customer.subscription.created", sub))
    [row] = _events(stripe_app)
    assert row.status == "ignored" and "unknown price price_other" in row.reason
    assert _sub(stripe_app, "sub_a") is None


def test_a_members_subscription_on_a_former_price_still_ends(
    stripe_client, stripe_app, customer, fake_stripe
):
    # The price went up: a new STRIPE_PRICE_ID for new members, the old subscriptions kept.
    user_id, customer_id = customer
    now = int(time.time())
    post_event(
        stripe_client,
        event("customer.subscription.created", subscription("sub_a", customer_id), now - 60),
    )
    stripe_app.config["STRIPE_PRICE_ID"] = "price_new_membership"
    ended = subscription("sub_a", customer_id, status="canceled")
    fake_stripe.subscriptions["sub_a"] = ended
    post_event(stripe_client, event("customer.subscription.deleted", ended, now))
    assert _sub(stripe_app, "sub_a").status == "canceled"
    assert not _access(stripe_app, user_id)
    assert _emails(stripe_app) == ["billing:ended:sub_a"]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        pytest.param({"object": "customer"}, "not a subscription object", id="not-a-subscription"),
        pytest.param({"status": None}, "not a subscription object", id="no-status"),
        pytest.param({"status": ["active"]}, "not a subscription object", id="status-not-text"),
        pytest.param({"id": None}, "not a subscription object", id="no-id"),
        pytest.param({"customer": None}, "unknown customer None", id="no-customer"),
        pytest.param({"items": None}, "unknown price None", id="no-items"),
    ],
)
def test_a_signed_subscription_event_missing_what_it_must_say_changes_nothing(
    stripe_client, stripe_app, customer, change, reason
):
    user_id, customer_id = customer
    sub = {**subscription("sub_a", customer_id, user_id=user_id), **change}
    response = post_event(stripe_client, event("customer.subscription.created", sub))
    assert response.status_code == 200  # stored and acknowledged: Stripe would resend it forever
    [row] = _events(stripe_app)
    assert row.status == "ignored" and reason in row.reason
    assert _sub(stripe_app, "sub_a") is None
    assert not _access(stripe_app, user_id)


def test_customer_is_never_matched_by_email(stripe_client, stripe_app):
    with stripe_app.app_context():
        user = support.create_user(email="same@example.com")
        user_id = user.id
    sub = subscription("sub_a", "cus_unknown")
    sub["customer_email"] = "same@example.com"
    post_event(stripe_client, event("customer.subscription.created", sub))
    assert _sub(stripe_app, "sub_a") is None
    assert not _access(stripe_app, user_id)


def test_new_customer_is_linked_through_our_metadata(stripe_client, stripe_app):
    with stripe_app.app_context():
        user_id = support.create_user().id
    sub = subscription("sub_a", "cus_new", user_id=user_id)
    post_event(stripe_client, event("customer.subscription.created", sub))
    assert _sub(stripe_app, "sub_a").user_id == user_id
    with stripe_app.app_context():
        assert db.session.scalar(select(StripeCustomer.stripe_customer_id)) == "cus_new"


@pytest.mark.skipif(not support.is_postgres(), reason="needs PostgreSQL's concurrent writers")
def test_a_new_customers_event_arriving_with_another_of_its_events_is_not_lost(stripe_app):
    # Two events of a customer new to us, processed at the same moment: the other worker links
    # the customer first (held uncommitted here), and this one, waiting on that link, must
    # still apply its newer state rather than ignore it as an unknown customer.
    import threading

    with stripe_app.app_context():
        user_id = support.create_user().id
        engine = db.engine
    other = engine.connect()
    other.begin()
    now = datetime.now(UTC)
    link = StripeCustomer.__table__.insert().values(
        user_id=user_id, stripe_customer_id="cus_new", created_at=now, updated_at=now
    )
    other.execute(link)
    cancelled = subscription("sub_a", "cus_new", user_id=user_id, cancel_at_period_end=True)
    answers: list[int] = []
    delivery = threading.Thread(
        target=lambda: answers.append(
            post_event(
                stripe_app.test_client(), event("customer.subscription.updated", cancelled)
            ).status_code
        )
    )
    delivery.start()
    time.sleep(1)  # the delivery now waits on the other worker's link
    other.commit()
    other.close()
    delivery.join(30)
    assert answers == [200]
    [row] = _events(stripe_app)
    assert (row.status, row.reason) == ("processed", None)
    assert _sub(stripe_app, "sub_a").cancel_at_period_end is True


def test_metadata_cannot_steal_a_user_who_has_a_customer(stripe_client, stripe_app, customer):
    user_id, _ = customer
    sub = subscription("sub_a", "cus_other", user_id=user_id)
    post_event(stripe_client, event("customer.subscription.created", sub))
    assert _sub(stripe_app, "sub_a") is None
    assert not _access(stripe_app, user_id)


def _paid_checkout(user_id: int, customer_id: str, sub_id: str) -> dict:
    """A completed, paid Checkout Session of a subscription, as its event carries it."""
    return {
        "id": "cs_a",
        "object": "checkout.session",
        "mode": "subscription",
        "client_reference_id": str(user_id),
        "customer": customer_id,
        "subscription": sub_id,
        "status": "complete",
        "payment_status": "paid",
    }


def test_checkout_completed_fetches_the_subscription_and_welcomes_once(
    stripe_client, stripe_app, customer, fake_stripe
):
    user_id, customer_id = customer
    fake_stripe.subscriptions["sub_a"] = subscription("sub_a", customer_id, user_id=user_id)
    evt = event("checkout.session.completed", _paid_checkout(user_id, customer_id, "sub_a"))
    post_event(stripe_client, evt)
    post_event(stripe_client, evt)
    assert _access(stripe_app, user_id)
    assert _emails(stripe_app) == ["billing:started:sub_a"]
    [message] = support.outbox(stripe_app)
    assert "membership is active" in support.body_of(message)


def test_a_checkout_completed_after_its_subscription_ended_welcomes_nobody(
    stripe_client, stripe_app, customer
):
    user_id, customer_id = customer
    # Stripe sends events in no set order: the cancellation was processed first.
    ended = subscription("sub_a", customer_id, status="canceled", user_id=user_id)
    post_event(stripe_client, event("customer.subscription.deleted", ended))
    completed = _paid_checkout(user_id, customer_id, "sub_a")
    post_event(stripe_client, event("checkout.session.completed", completed))
    assert not _access(stripe_app, user_id)
    assert _emails(stripe_app) == ["billing:ended:sub_a"]


def test_a_checkout_completed_while_its_subscription_is_incomplete_still_welcomes_once(
    stripe_client, stripe_app, customer
):
    # Checkout creates the subscription incomplete and activates it once the first invoice is
    # paid; the completion can be processed between the two.
    user_id, customer_id = customer
    now = int(time.time())
    incomplete = subscription("sub_a", customer_id, status="incomplete", user_id=user_id)
    active = subscription("sub_a", customer_id, status="active", user_id=user_id)
    completed = event("checkout.session.completed", _paid_checkout(user_id, customer_id, "sub_a"))
    post_event(stripe_client, event("customer.subscription.created", incomplete, created=now - 2))
    post_event(stripe_client, completed)
    post_event(stripe_client, event("customer.subscription.updated", active, created=now - 1))
    post_event(stripe_client, completed)
    assert _access(stripe_app, user_id)
    assert _emails(stripe_app) == ["billing:started:sub_a"]


def test_a_subscription_first_seen_paid_and_already_cancelled_sends_both_emails(
    stripe_client, stripe_app, customer
):
    # The member joined and cancelled at once; the incomplete state was the last one seen here.
    user_id, customer_id = customer
    now = int(time.time())
    incomplete = subscription("sub_a", customer_id, status="incomplete", user_id=user_id)
    ending = subscription("sub_a", customer_id, cancel_at_period_end=True, user_id=user_id)
    post_event(stripe_client, event("customer.subscription.created", incomplete, created=now - 60))
    post_event(stripe_client, event("customer.subscription.updated", ending, created=now - 30))
    assert _access(stripe_app, user_id)
    assert _emails(stripe_app) == [
        "billing:started:sub_a",
        f"billing:cancel_scheduled:sub_a:{now - 30}",
    ]


def test_checkout_completed_for_someone_elses_customer_is_ignored(
    stripe_client, stripe_app, customer, fake_stripe
):
    _, customer_id = customer
    with stripe_app.app_context():
        other_id = support.create_user().id
    session = {
        "id": "cs_a",
        "object": "checkout.session",
        "mode": "subscription",
        "client_reference_id": str(other_id),
        "customer": customer_id,
        "subscription": "sub_a",
        "payment_status": "paid",
    }
    post_event(stripe_client, event("checkout.session.completed", session))
    [row] = _events(stripe_app)
    assert row.status == "ignored" and "another user" in row.reason
    assert not _access(stripe_app, other_id)


def _checkout(user_ref: str, customer_id: str | None, **fields) -> dict:
    return {
        "id": new_id("cs"),
        "object": "checkout.session",
        "mode": "subscription",
        "client_reference_id": user_ref,
        "customer": customer_id,
        "subscription": "sub_a",
        "status": "complete",
        "payment_status": "paid",
        **fields,
    }


def _nothing_granted(app, user_id: int) -> None:
    assert not _access(app, user_id)
    assert _sub(app, "sub_a") is None
    assert _emails(app) == []


def test_checkout_with_a_customer_other_than_the_members_own_is_ignored(
    stripe_client, stripe_app, customer, fake_stripe
):
    user_id, customer_id = customer
    stranger = new_id("cus")  # a customer of another Stripe account, or of nobody here
    fake_stripe.subscriptions["sub_a"] = subscription("sub_a", stranger, user_id=user_id)
    post_event(
        stripe_client, event("checkout.session.completed", _checkout(str(user_id), stranger))
    )
    [row] = _events(stripe_app)
    assert row.status == "ignored" and "is not the user's customer" in row.reason
    _nothing_granted(stripe_app, user_id)
    with stripe_app.app_context():
        kept = db.session.scalars(select(StripeCustomer.stripe_customer_id)).all()
    assert kept == [customer_id]
    assert fake_stripe.calls("GET", "/v1/subscriptions/sub_a") == []


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        pytest.param({"mode": "payment"}, "not a subscription checkout", id="one-time-payment"),
        pytest.param({"subscription": None}, "no subscription yet", id="no-subscription-yet"),
    ],
)
def test_checkout_that_starts_no_subscription_is_ignored(
    stripe_client, stripe_app, customer, fake_stripe, fields, reason
):
    user_id, customer_id = customer
    fake_stripe.subscriptions["sub_a"] = subscription("sub_a", customer_id, user_id=user_id)
    session = _checkout(str(user_id), customer_id, **fields)
    post_event(stripe_client, event("checkout.session.completed", session))
    [row] = _events(stripe_app)
    assert row.status == "ignored" and reason in row.reason
    _nothing_granted(stripe_app, user_id)


@pytest.mark.parametrize("reference", ["999999", "user-7", "", None])
def test_checkout_for_nobody_we_know_is_ignored(
    stripe_client, stripe_app, customer, fake_stripe, reference
):
    user_id, customer_id = customer
    fake_stripe.subscriptions["sub_a"] = subscription("sub_a", customer_id, user_id=user_id)
    post_event(
        stripe_client, event("checkout.session.completed", _checkout(reference, customer_id))
    )
    [row] = _events(stripe_app)
    assert row.status == "ignored" and "unknown user" in row.reason
    _nothing_granted(stripe_app, user_id)


def test_checkout_whose_subscription_stripe_does_not_know_fails_for_a_retry(
    stripe_client, stripe_app, customer
):
    user_id, customer_id = customer
    post_event(
        stripe_client, event("checkout.session.completed", _checkout(str(user_id), customer_id))
    )
    [row] = _events(stripe_app)
    assert row.status == "failed" and "sub_a not found at Stripe" in row.last_error
    _nothing_granted(stripe_app, user_id)


@pytest.mark.parametrize("kind", ["invoice.paid", "invoice.payment_failed"])
def test_invoice_for_a_subscription_stripe_does_not_know_is_ignored(
    stripe_client, stripe_app, customer, kind
):
    user_id, customer_id = customer
    post_event(
        stripe_client, event(kind, invoice("sub_a", customer_id, paid=kind == "invoice.paid"))
    )
    [row] = _events(stripe_app)
    assert row.status == "ignored" and "unknown subscription sub_a" in row.reason
    _nothing_granted(stripe_app, user_id)
    assert support.outbox(stripe_app) == []


def test_trial_ending_notice_after_the_trial_became_paid_sends_nothing(
    stripe_client, stripe_app, customer
):
    user_id, customer_id = customer
    now = int(time.time())
    trial_end = now + 3 * 86400
    post_event(
        stripe_client,
        event("customer.subscription.updated", subscription("sub_a", customer_id), now),
    )
    late = subscription("sub_a", customer_id, status="trialing", trial_end=trial_end)
    post_event(stripe_client, event("customer.subscription.trial_will_end", late, now - 60))
    rows = _events(stripe_app)
    assert rows[-1].status == "ignored" and "no longer trialing" in rows[-1].reason
    assert _sub(stripe_app, "sub_a").status == "active"
    assert _access(stripe_app, user_id)
    assert _emails(stripe_app) == []


def test_payment_failed_emails_a_fix_link_and_grace_then_lapse(stripe_client, stripe_app, customer):
    import time_machine

    user_id, customer_id = customer
    now = int(time.time())
    post_event(
        stripe_client,
        event("customer.subscription.created", subscription("sub_a", customer_id), now - 10),
    )
    post_event(
        stripe_client, event("invoice.payment_failed", invoice("sub_a", customer_id, paid=False))
    )
    post_event(
        stripe_client,
        event(
            "customer.subscription.updated",
            subscription("sub_a", customer_id, status="past_due"),
            now,
        ),
    )
    assert _access(stripe_app, user_id)  # within the grace period
    [message] = support.outbox(stripe_app)
    assert message["Subject"] == "Your Campus membership payment failed"
    assert support.link_in(message) == "/membership"
    with time_machine.travel(datetime.fromtimestamp(now + 8 * 86400, UTC)):
        assert not _access(stripe_app, user_id)


def test_each_retry_email_gives_the_same_end_of_access(stripe_client, stripe_app, customer):
    # The grace runs from the first failure: a retry's email promised a fresh seven days.
    import time_machine

    from campus.templating import format_date

    user_id, customer_id = customer
    now = int(time.time())
    first = datetime.fromtimestamp(now, UTC)
    post_event(
        stripe_client,
        event("customer.subscription.created", subscription("sub_a", customer_id), now - 10),
    )
    failed = invoice("sub_a", customer_id, paid=False, attempt=1)
    post_event(stripe_client, event("invoice.payment_failed", failed, now))
    past_due = subscription("sub_a", customer_id, status="past_due")
    post_event(stripe_client, event("customer.subscription.updated", past_due, now))
    for days, attempt in ((5, 2), (9, 3)):
        later = now + days * 86400
        with time_machine.travel(datetime.fromtimestamp(later, UTC), tick=False):
            retry = invoice("sub_a", customer_id, paid=False, attempt=attempt)
            post_event(stripe_client, event("invoice.payment_failed", retry, later))
    bodies = [support.body_of(m) for m in support.outbox(stripe_app)]
    with stripe_app.app_context():
        end = format_date(first + timedelta(days=7))
    assert [f"continues until {end} while we retry" in body for body in bodies] == [
        True,
        True,
        False,
    ]
    assert "Your access is paused until a payment goes through." in bodies[2]
    with time_machine.travel(first + timedelta(days=7, minutes=1), tick=False):
        assert not _access(stripe_app, user_id)


def test_a_failed_payment_processed_late_gives_the_end_of_access_the_member_really_has(
    stripe_client, stripe_app, customer
):
    # Stripe delivers a failure days late when our endpoint was down (it retries for three
    # days), and its subscription's update may come after it: the grace runs from the failure.
    import time_machine

    from campus.templating import format_date

    user_id, customer_id = customer
    now = int(time.time())
    failed_at = datetime.fromtimestamp(now, UTC)
    post_event(
        stripe_client,
        event("customer.subscription.created", subscription("sub_a", customer_id), now - 10),
    )
    with time_machine.travel(failed_at + timedelta(days=2), tick=False):
        failed = invoice("sub_a", customer_id, paid=False)
        post_event(stripe_client, event("invoice.payment_failed", failed, now))
        past_due = subscription("sub_a", customer_id, status="past_due")
        post_event(stripe_client, event("customer.subscription.updated", past_due, now))
    [message] = support.outbox(stripe_app)
    with stripe_app.app_context():
        end = format_date(failed_at + timedelta(days=7))
    assert f"continues until {end} while we retry" in support.body_of(message)
    with time_machine.travel(failed_at + timedelta(days=7, minutes=1), tick=False):
        assert not _access(stripe_app, user_id)


@pytest.mark.parametrize(
    ("status", "subjects"),
    [
        pytest.param("canceled", ["Your Campus membership has ended"], id="canceled"),
        pytest.param("incomplete_expired", [], id="incomplete-expired"),
        pytest.param("unpaid", ["Your Campus membership payment failed"], id="unpaid"),
        pytest.param("incomplete", ["Your Campus membership payment failed"], id="incomplete"),
    ],
)
def test_a_failed_payment_of_a_subscription_without_access_promises_no_access(
    stripe_client, stripe_app, customer, status, subjects
):
    # Stripe's last retry fails and it ends the subscription (or marks it unpaid), events in
    # either order: the failure must not promise access while "we retry", nor ask for a card
    # that can no longer revive an ended subscription.
    user_id, customer_id = customer
    now = int(time.time())
    ended = subscription("sub_a", customer_id, status=status)
    post_event(stripe_client, event("customer.subscription.updated", ended, now - 1))
    failed = invoice("sub_a", customer_id, paid=False, attempt=4)
    post_event(stripe_client, event("invoice.payment_failed", failed, now))
    assert not _access(stripe_app, user_id)
    messages = support.outbox(stripe_app)
    assert [m["Subject"] for m in messages] == subjects
    for message in messages:
        assert "while we retry" not in support.body_of(message)


@pytest.mark.parametrize("status", ["past_due", "unpaid"])
def test_a_failed_payment_of_a_comped_member_does_not_say_their_access_stops(
    stripe_client, stripe_app, customer, status
):
    # A comp grant keeps the member's access whatever their card does: the email must not
    # tell them access is paused, or ends with the subscription's grace.
    from campus.templating import format_date

    user_id, customer_id = customer
    now = int(time.time())
    with stripe_app.app_context():
        comp_end = format_date(support.grant_comp(user_id, days=60).ends_at)
    failing = subscription("sub_a", customer_id, status=status)
    post_event(stripe_client, event("customer.subscription.updated", failing, now - 1))
    post_event(
        stripe_client, event("invoice.payment_failed", invoice("sub_a", customer_id, paid=False))
    )
    [message] = support.outbox(stripe_app)
    body = support.body_of(message)
    assert "paused" not in body and "while we retry" not in body
    assert f"Your complimentary membership keeps your access open until {comp_end}." in body
    assert support.link_in(message) == "/membership"
    assert _access(stripe_app, user_id)


def test_a_failed_payment_delivered_after_the_member_paid_sends_no_email(
    stripe_client, stripe_app, customer
):
    # Stripe retries a delivery it could not make for days, in no particular order: the
    # failure may come after the card was updated and the invoice paid.
    user_id, customer_id = customer
    now = int(time.time())
    post_event(
        stripe_client,
        event("customer.subscription.created", subscription("sub_a", customer_id), now - 100),
    )
    past_due = subscription("sub_a", customer_id, status="past_due")
    post_event(stripe_client, event("customer.subscription.updated", past_due, now - 50))
    post_event(
        stripe_client,
        event("customer.subscription.updated", subscription("sub_a", customer_id), now - 10),
    )
    failed = invoice("sub_a", customer_id, paid=False)
    post_event(stripe_client, event("invoice.payment_failed", failed, now - 50))
    assert _access(stripe_app, user_id)
    assert support.outbox(stripe_app) == []
    assert _events(stripe_app)[-1].status == "ignored"


def test_cancel_at_period_end_keeps_access_until_the_end(stripe_client, stripe_app, customer):
    import time_machine

    user_id, customer_id = customer
    end = int(time.time()) + 5 * 86400
    sub = subscription("sub_a", customer_id, period_end=end, cancel_at_period_end=True)
    post_event(stripe_client, event("customer.subscription.updated", sub))
    assert _access(stripe_app, user_id)
    assert _sub(stripe_app, "sub_a").cancel_at_period_end is True
    with time_machine.travel(datetime.fromtimestamp(end + 60, UTC)):
        assert not _access(stripe_app, user_id)


def test_a_cancellation_on_a_chosen_date_shows_and_ends_on_that_date(
    stripe_client, stripe_app, customer
):
    import time_machine

    user_id, customer_id = customer
    now = int(time.time())
    period_end, cancel_at = now + 20 * 86400, now + 5 * 86400
    # A cancellation on a date of the admin's choosing sets cancel_at alone.
    sub = subscription("sub_a", customer_id, period_end=period_end)
    sub["cancel_at"] = cancel_at
    post_event(stripe_client, event("customer.subscription.updated", sub))
    mirrored = _sub(stripe_app, "sub_a")
    assert mirrored.cancel_at_period_end is True
    assert mirrored.current_period_end.replace(tzinfo=UTC) == datetime.fromtimestamp(cancel_at, UTC)
    [scheduled] = _emails(stripe_app)
    assert scheduled.startswith("billing:cancel_scheduled:sub_a:")
    assert _access(stripe_app, user_id)
    # The deletion event may be late or lost: access ends on the chosen date anyway.
    with time_machine.travel(datetime.fromtimestamp(cancel_at + 60, UTC)):
        assert not _access(stripe_app, user_id)


def test_a_cancellation_due_after_this_period_leaves_it_renewing(
    stripe_client, stripe_app, customer
):
    import time_machine

    user_id, customer_id = customer
    period_end = int(time.time()) + 5 * 86400
    sub = subscription("sub_a", customer_id, period_end=period_end)
    sub["cancel_at"] = period_end + 90 * 86400
    post_event(stripe_client, event("customer.subscription.updated", sub))
    mirrored = _sub(stripe_app, "sub_a")
    assert mirrored.cancel_at_period_end is False
    assert mirrored.current_period_end.replace(tzinfo=UTC) == datetime.fromtimestamp(
        period_end, UTC
    )
    assert _emails(stripe_app) == []
    with time_machine.travel(datetime.fromtimestamp(period_end + 60, UTC)):
        assert _access(stripe_app, user_id)


def test_deleted_subscription_ends_access_and_says_so_once(stripe_client, stripe_app, customer):
    user_id, customer_id = customer
    evt = event(
        "customer.subscription.deleted", subscription("sub_a", customer_id, status="canceled")
    )
    post_event(stripe_client, evt)
    post_event(stripe_client, evt)
    assert not _access(stripe_app, user_id)
    assert _emails(stripe_app) == ["billing:ended:sub_a"]


def test_trial_will_end_emails_once(stripe_client, stripe_app, customer):
    _, customer_id = customer
    trial_end = int(time.time()) + 3 * 86400
    sub = subscription("sub_a", customer_id, status="trialing", trial_end=trial_end)
    first = event("customer.subscription.trial_will_end", sub)
    again = event("customer.subscription.trial_will_end", sub, created=first["created"])
    post_event(stripe_client, first)
    post_event(stripe_client, again)  # a second event about the same trial end
    assert _emails(stripe_app) == [f"billing:trial:sub_a:{trial_end}"]
    [message] = support.outbox(stripe_app)
    assert "trial ends on" in support.body_of(message)


def test_invoice_paid_for_an_unknown_subscription_fetches_it(
    stripe_client, stripe_app, customer, fake_stripe
):
    user_id, customer_id = customer
    fake_stripe.subscriptions["sub_a"] = subscription("sub_a", customer_id)
    post_event(stripe_client, event("invoice.paid", invoice("sub_a", customer_id, paid=True)))
    assert _access(stripe_app, user_id)
    [row] = _events(stripe_app)
    assert row.status == "processed"


def test_a_payment_that_arrives_before_its_subscriptions_update_restores_access(
    stripe_client, stripe_app, customer, fake_stripe
):
    # Past its grace, the member paid in the portal; Stripe's update of the subscription is late.
    user_id, customer_id = customer
    now = int(time.time())
    unpaid = subscription("sub_a", customer_id, status="unpaid")
    post_event(stripe_client, event("customer.subscription.updated", unpaid, now - 3600))
    assert not _access(stripe_app, user_id)
    fake_stripe.subscriptions["sub_a"] = subscription("sub_a", customer_id, status="active")
    post_event(stripe_client, event("invoice.paid", invoice("sub_a", customer_id, paid=True)))
    assert _sub(stripe_app, "sub_a").status == "active"
    assert _access(stripe_app, user_id)


@pytest.mark.parametrize(
    ("kind", "paid"), [("invoice.paid", True), ("invoice.payment_failed", False)]
)
def test_invoice_without_subscription_is_ignored(stripe_client, stripe_app, kind, paid):
    inv = invoice("sub_a", "cus_a", paid=paid)
    inv["parent"] = None
    post_event(stripe_client, event(kind, inv))
    [row] = _events(stripe_app)
    assert row.status == "ignored" and "not for a subscription" in row.reason
    assert support.outbox(stripe_app) == []


def test_processing_error_is_recorded_then_replay_succeeds(
    stripe_client, stripe_app, customer, fake_stripe
):

    user_id, customer_id = customer
    fake_stripe.fail_paths.add("/v1/subscriptions/sub_a")
    evt = event("invoice.paid", invoice("sub_a", customer_id, paid=True))
    assert post_event(stripe_client, evt).status_code == 200  # acknowledged regardless
    [row] = _events(stripe_app)
    assert row.status == "failed" and row.attempts == 1
    assert "APIError" in row.last_error or "down" in row.last_error
    assert not _access(stripe_app, user_id)

    fake_stripe.fail_paths.clear()
    fake_stripe.subscriptions["sub_a"] = subscription("sub_a", customer_id)
    runner = stripe_app.test_cli_runner()
    result = runner.invoke(args=["billing", "replay", evt["id"]], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "processed" in result.output
    [row] = _events(stripe_app)
    assert row.status == "processed" and row.attempts == 2 and row.last_error is None
    assert _access(stripe_app, user_id)


def test_failed_task_is_retried_with_backoff(stripe_app, customer, fake_stripe, monkeypatch):
    from celery.exceptions import Retry

    from campus.billing import tasks

    _, customer_id = customer
    fake_stripe.fail_paths.add("/v1/subscriptions/sub_a")
    evt = event("invoice.paid", invoice("sub_a", customer_id, paid=True))
    with stripe_app.app_context():
        row = WebhookEvent(
            stripe_event_id=evt["id"],
            type=evt["type"],
            created=evt["created"],
            payload=json.dumps(evt),
        )
        db.session.add(row)
        db.session.commit()
        row_id = row.id
    seen = {}

    def fake_retry(*args, **kwargs):
        seen.update(kwargs)
        raise Retry()

    monkeypatch.setattr(tasks.process_webhook_event, "retry", fake_retry)
    with stripe_app.app_context(), pytest.raises(Retry):
        tasks.process_webhook_event.run(row_id)
    assert 8 <= seen["countdown"] <= 12
    [stored] = _events(stripe_app)
    assert stored.status == "failed" and stored.attempts == 1


def test_events_command_lists_events_with_status(stripe_client, stripe_app):

    post_event(stripe_client, event("customer.subscription.created", subscription("s", "cus_z")))
    result = stripe_app.test_cli_runner().invoke(args=["billing", "events"], catch_exceptions=False)
    assert "customer.subscription.created" in result.output
    assert "ignored" in result.output and "unknown customer cus_z" in result.output


def test_replay_of_unknown_event_is_a_clear_error(stripe_app):

    result = stripe_app.test_cli_runner().invoke(args=["billing", "replay", "evt_nope"])
    assert result.exit_code == 2 and "no stored event evt_nope" in result.output


def test_event_count_matches_deliveries(stripe_client, stripe_app):
    for _ in range(3):
        post_event(stripe_client, event("ping", {"id": "x", "object": "thing"}))
    with stripe_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(WebhookEvent)) == 3


def test_a_customer_stripe_does_not_know_does_not_stop_the_others_repair(stripe_app, fake_stripe):
    with stripe_app.app_context():
        gone, member = support.create_user(), support.create_user()
        # First in line: made with the test keys before a switch to live ones, say.
        db.session.add(StripeCustomer(user_id=gone.id, stripe_customer_id="cus_gone"))
        db.session.add(StripeCustomer(user_id=member.id, stripe_customer_id="cus_kept"))
        db.session.commit()
        member_id = member.id
    fake_stripe.forgotten.add("cus_gone")
    fake_stripe.subscriptions["sub_a"] = subscription("sub_a", "cus_kept", user_id=member_id)
    result = stripe_app.test_cli_runner().invoke(args=["billing", "sync"])
    assert result.exit_code == 0, result.output
    assert "1 repaired" in result.output and "1 customers unknown to Stripe" in result.output
    assert _sub(stripe_app, "sub_a").status == "active"
    assert _access(stripe_app, member_id)


def _mirror_active(app, user_id: int, customer_id: str, sub_id: str) -> None:
    with app.app_context():
        db.session.add(
            Subscription(
                user_id=user_id,
                stripe_subscription_id=sub_id,
                stripe_customer_id=customer_id,
                status="active",
                current_period_end=datetime.now(UTC) + timedelta(days=20),
                source_timestamp=int(time.time()) - 3600,
            )
        )
        db.session.commit()


def test_reconciliation_ends_the_subscription_of_a_customer_deleted_at_stripe_unseen(
    stripe_app, customer, fake_stripe
):
    # Deleting the customer ended its subscription at Stripe; neither event reached us.
    user_id, customer_id = customer
    _mirror_active(stripe_app, user_id, customer_id, "sub_a")
    fake_stripe.forgotten.add(customer_id)
    fake_stripe.subscriptions["sub_a"] = subscription("sub_a", customer_id, status="canceled")
    result = stripe_app.test_cli_runner().invoke(args=["billing", "sync"])
    assert result.exit_code == 0, result.output
    assert _sub(stripe_app, "sub_a").status == "canceled"
    assert not _access(stripe_app, user_id)
    assert _emails(stripe_app) == ["billing:ended:sub_a"]


def test_reconciliation_still_checks_subscriptions_of_a_customer_forgotten_here(
    stripe_client, stripe_app, customer, fake_stripe
):
    # The customer's deletion was processed; its subscription's own deletion never came.
    user_id, customer_id = customer
    _mirror_active(stripe_app, user_id, customer_id, "sub_a")
    post_event(stripe_client, event("customer.deleted", {"id": customer_id, "object": "customer"}))
    fake_stripe.subscriptions["sub_a"] = subscription("sub_a", customer_id, status="canceled")
    result = stripe_app.test_cli_runner().invoke(args=["billing", "sync"])
    assert result.exit_code == 0, result.output
    assert _sub(stripe_app, "sub_a").status == "canceled"
    assert not _access(stripe_app, user_id)


def test_stripe_failing_during_reconciliation_still_requeues_stuck_events(
    stripe_app, customer, fake_stripe
):
    import time_machine

    from campus.billing import tasks

    user_id, customer_id = customer
    fake_stripe.subscriptions["sub_a"] = subscription("sub_a", customer_id)
    # Failed while Stripe was away (its same-second state could not be fetched), retries spent.
    fake_stripe.fail_paths.add("/v1/subscriptions/sub_a")
    with stripe_app.app_context():
        db.session.add(StripeCustomer(user_id=support.create_user().id, stripe_customer_id="cus_b"))
        db.session.commit()
    post_event(
        stripe_app.test_client(), event("invoice.paid", invoice("sub_a", customer_id, paid=True))
    )
    [row] = _events(stripe_app)
    assert row.status == "failed"
    fake_stripe.fail_paths.clear()
    # The hourly run meets a Stripe that answers 500 to its listing (another outage, or busy).
    fake_stripe.fail_paths.add("/v1/subscriptions")
    with time_machine.travel(time.time() + 3600, tick=False), stripe_app.app_context():
        counts = tasks.reconcile.apply().get()
    assert counts["requeued"] == 1 and counts["unreachable"] == 2
    [row] = _events(stripe_app)
    assert row.status == "processed"
    assert _access(stripe_app, user_id)
    result = stripe_app.test_cli_runner().invoke(args=["billing", "sync"])
    assert result.exit_code == 1
    assert "2 customers could not be checked: Stripe could not be reached" in result.output


def test_reconciliation_stops_asking_a_stripe_that_is_down(stripe_app, fake_stripe):
    from campus.billing import reconciling

    with stripe_app.app_context():
        for n in range(5):
            db.session.add(
                StripeCustomer(user_id=support.create_user().id, stripe_customer_id=f"cus_{n}")
            )
        db.session.commit()
        fake_stripe.fail_paths.add("/v1/subscriptions")
        counts = reconciling.reconcile()
    assert counts["unreachable"] == 5
    assert len(fake_stripe.calls("GET", "/v1/subscriptions")) == reconciling.MAX_UNANSWERED_IN_A_ROW


def test_a_reconciliation_cut_short_keeps_the_repairs_it_made(stripe_app, customer, monkeypatch):
    from campus.billing import tasks
    from campus.billing.stripe_api import StripeGateway

    class WorkerKilled(BaseException):
        """The worker process ending mid-task: no handler of the task's runs."""

    user_id, customer_id = customer
    with stripe_app.app_context():
        member = support.create_user()
        db.session.add(StripeCustomer(user_id=member.id, stripe_customer_id="cus_next"))
        db.session.commit()
    # The mirror missed this subscription's events: the reconciliation repairs it first.
    fake_stripe_sub = subscription("sub_a", customer_id, user_id=user_id)
    real_list = StripeGateway.list_subscriptions

    def list_dying_on_the_second(self, customer):
        if customer == "cus_next":
            raise WorkerKilled
        return [fake_stripe_sub] if customer == customer_id else real_list(self, customer)

    monkeypatch.setattr(StripeGateway, "list_subscriptions", list_dying_on_the_second)
    with pytest.raises(WorkerKilled):
        tasks.reconcile.apply()
    # The member whose subscription was synced before the worker died keeps the repair (and
    # no other writer waited on its row while Stripe was asked about everyone else).
    assert _sub(stripe_app, "sub_a") is not None and _sub(stripe_app, "sub_a").status == "active"
    assert _access(stripe_app, user_id)


def test_broker_down_after_storing_still_acknowledges_and_sync_requeues(
    stripe_app, customer, monkeypatch
):
    import time_machine
    from kombu.exceptions import OperationalError

    from campus.billing import tasks

    _, customer_id = customer
    client = stripe_app.test_client()
    evt = event("customer.subscription.created", subscription("sub_a", customer_id))

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to redis")

    with monkeypatch.context() as patch:
        patch.setattr(tasks.process_webhook_event, "apply_async", broker_down)
        response = post_event(client, evt)
    assert response.status_code == 200
    [row] = _events(stripe_app)
    assert row.status == "received"
    with time_machine.travel(time.time() + 3600, tick=False):
        result = stripe_app.test_cli_runner().invoke(args=["billing", "sync"])
    assert "1 stuck events requeued" in result.output
    [row] = _events(stripe_app)
    assert row.status == "processed"
    assert _sub(stripe_app, "sub_a").status == "active"


def test_a_failed_first_payment_does_not_speak_of_a_membership_to_keep(
    stripe_client, stripe_app, customer
):
    # The first invoice of a checkout failed (or awaits the member's confirmation): the
    # membership has not started, so there is no access to pause and no membership to keep.
    user_id, customer_id = customer
    now = int(time.time())
    pending = subscription("sub_a", customer_id, status="incomplete", user_id=user_id)
    post_event(stripe_client, event("customer.subscription.created", pending, now - 1))
    failed = invoice("sub_a", customer_id, paid=False)
    post_event(stripe_client, event("invoice.payment_failed", failed, now))
    [message] = support.outbox(stripe_app)
    body = support.body_of(message)
    assert "paused" not in body and "keep your membership" not in body
    assert "starts as soon as your first payment goes through" in body
    assert support.link_in(message) == "/membership"


def test_a_late_event_of_a_deleted_customer_does_not_bring_the_customer_back(
    stripe_client, stripe_app, customer
):
    # Deleted in Stripe's dashboard: Stripe ends its subscriptions and deletes it, the events in
    # no set order. The ending of a subscription never mirrored here, processed after the
    # customer's deletion, must not link that deleted customer to the member again (its portal
    # and checkouts could only fail), though the ending itself is kept.
    user_id, customer_id = customer
    now = int(time.time())
    gone = {"id": customer_id, "object": "customer", "deleted": True}
    post_event(stripe_client, event("customer.deleted", gone, now - 5))
    ended = subscription("sub_a", customer_id, status="canceled", user_id=user_id)
    post_event(stripe_client, event("customer.subscription.deleted", ended, now))
    with stripe_app.app_context():
        assert db.session.scalar(select(StripeCustomer)) is None
    assert _sub(stripe_app, "sub_a").status == "canceled"
    # Its creation, delivered later still, is older than the ending kept: no access.
    created = subscription("sub_a", customer_id, user_id=user_id)
    post_event(stripe_client, event("customer.subscription.created", created, now - 60))
    assert _sub(stripe_app, "sub_a").status == "canceled"
    assert not _access(stripe_app, user_id)
    with stripe_app.app_context():
        assert db.session.scalar(select(StripeCustomer)) is None


def test_a_renewal_paid_after_a_lost_resume_gives_access_back_at_once(
    stripe_client, stripe_app, customer, fake_stripe
):
    # The member cancelled at period end, then resumed; the resume's event is not here yet (it
    # may come days late), so the mirror still says the subscription ended with its period.
    # Stripe renewed it and the invoice is paid: the member paid, and must not wait an hour
    # (the reconciliation) or days for the subscription's own events to read again.
    user_id, customer_id = customer
    now = int(time.time())
    ending = subscription(
        "sub_a", customer_id, cancel_at_period_end=True, period_end=now - 60, user_id=user_id
    )
    post_event(stripe_client, event("customer.subscription.updated", ending, now - 3600))
    assert not _access(stripe_app, user_id)
    fake_stripe.subscriptions["sub_a"] = subscription("sub_a", customer_id, user_id=user_id)
    post_event(stripe_client, event("invoice.paid", invoice("sub_a", customer_id, paid=True)))
    assert _access(stripe_app, user_id)
    assert not _sub(stripe_app, "sub_a").cancel_at_period_end


def test_a_bank_debit_member_is_welcomed_when_the_activation_came_first(
    stripe_client, stripe_app, customer
):
    # Paid by bank debit: Checkout completes unpaid and the subscription activates days later,
    # once the debit clears. Stripe's events come in no set order: here the activation was
    # processed first (nothing here had seen it incomplete), then the checkout's completion,
    # whose payment status is still the one it had when it completed.
    user_id, customer_id = customer
    now = int(time.time())
    active = subscription("sub_a", customer_id, status="active", user_id=user_id)
    post_event(stripe_client, event("customer.subscription.updated", active, now - 10))
    incomplete = subscription("sub_a", customer_id, status="incomplete", user_id=user_id)
    post_event(stripe_client, event("customer.subscription.created", incomplete, now - 90))
    completed = dict(_paid_checkout(user_id, customer_id, "sub_a"), payment_status="unpaid")
    post_event(stripe_client, event("checkout.session.completed", completed, now - 80))
    post_event(stripe_client, event("checkout.session.completed", completed, now - 80))
    assert _access(stripe_app, user_id)
    assert _emails(stripe_app) == ["billing:started:sub_a"]


def test_a_failed_renewal_shows_past_due_at_once_when_its_update_is_late(
    stripe_client, stripe_app, customer, fake_stripe
):
    # Stripe marks the subscription past due with the failure; its update event can come
    # hours later (or only the hourly check would see it): the failure itself tells.
    user_id, customer_id = customer
    now = int(time.time())
    active = subscription("sub_a", customer_id)
    post_event(stripe_client, event("customer.subscription.created", active, now - 100))
    failed = invoice("sub_a", customer_id, paid=False)
    fake_stripe.subscriptions["sub_a"] = subscription("sub_a", customer_id, status="past_due")
    fake_stripe.subscriptions["sub_a"]["latest_invoice"] = failed["id"]
    post_event(stripe_client, event("invoice.payment_failed", failed, now - 60))
    row = _sub(stripe_app, "sub_a")
    assert row.status == "past_due"
    # The grace runs from the failure, as its email says, not from when the state was fetched.
    assert int(row.past_due_since.replace(tzinfo=UTC).timestamp()) == now - 60
    assert _access(stripe_app, user_id)
    [message] = support.outbox(stripe_app)
    assert message["Subject"] == "Your Campus membership payment failed"
    # The update itself, arriving after, changes nothing more.
    late = event("customer.subscription.updated", fake_stripe.subscriptions["sub_a"], now - 60)
    post_event(stripe_client, late)
    row = _sub(stripe_app, "sub_a")
    assert row.status == "past_due"
    assert int(row.past_due_since.replace(tzinfo=UTC).timestamp()) == now - 60
    assert len(support.outbox(stripe_app)) == 1


def test_a_failure_delivered_after_stripe_was_paid_asks_for_no_card(
    stripe_client, stripe_app, customer, fake_stripe
):
    # The retry went through before the failure's delivery was processed: Stripe's subscription
    # is active again, and the member has nothing to fix.
    _user_id, customer_id = customer
    now = int(time.time())
    post_event(
        stripe_client,
        event("customer.subscription.created", subscription("sub_a", customer_id), now - 100),
    )
    fake_stripe.subscriptions["sub_a"] = subscription("sub_a", customer_id)
    failed = invoice("sub_a", customer_id, paid=False)
    post_event(stripe_client, event("invoice.payment_failed", failed, now - 60))
    assert _sub(stripe_app, "sub_a").status == "active"
    assert support.outbox(stripe_app) == []
    assert _events(stripe_app)[-1].status == "ignored"


def test_a_renewal_failing_in_the_second_of_the_stored_state_still_emails(
    stripe_client, stripe_app, customer, fake_stripe
):
    # The fetched past-due state of the failure's own second is not applied over the stored
    # one (only the update event may settle that), but it is no payment either.
    _user_id, customer_id = customer
    now = int(time.time())
    post_event(
        stripe_client,
        event("customer.subscription.created", subscription("sub_a", customer_id), now),
    )
    fake_stripe.subscriptions["sub_a"] = subscription("sub_a", customer_id, status="past_due")
    post_event(
        stripe_client,
        event("invoice.payment_failed", invoice("sub_a", customer_id, paid=False), now),
    )
    [message] = support.outbox(stripe_app)
    assert message["Subject"] == "Your Campus membership payment failed"
    past_due = event("customer.subscription.updated", fake_stripe.subscriptions["sub_a"], now)
    post_event(stripe_client, past_due)
    assert _sub(stripe_app, "sub_a").status == "past_due"


@pytest.mark.parametrize("same_invoice", [True, False], ids=["awaited", "older-invoice"])
def test_a_failure_processed_after_a_fetch_showed_past_due_dates_the_grace(
    stripe_client, stripe_app, customer, fake_stripe, same_invoice
):
    # Another event (an invoice, the checkout's completion) fetched the subscription already
    # past due, so the grace counted from that fetch: a delivery late by a day gave a day more
    # than the failure's email says. The failure of the invoice still awaited dates it; one of
    # an earlier invoice (paid since) does not.
    user_id, customer_id = customer
    now = int(time.time())
    failed = invoice("sub_a", customer_id, paid=False)
    stripe_sub = subscription("sub_a", customer_id, status="past_due", user_id=user_id)
    stripe_sub["latest_invoice"] = failed["id"] if same_invoice else new_id("in")
    fake_stripe.subscriptions["sub_a"] = stripe_sub
    paid = invoice("sub_a", customer_id, paid=True)
    post_event(stripe_client, event("invoice.paid", paid, now - 90000))
    post_event(stripe_client, event("invoice.payment_failed", failed, now - 86400))
    since = int(_sub(stripe_app, "sub_a").past_due_since.replace(tzinfo=UTC).timestamp())
    assert (since == now - 86400) is same_invoice
    assert _access(stripe_app, user_id)


def test_a_late_failure_of_an_earlier_invoice_does_not_shorten_the_current_grace(
    stripe_client, stripe_app, customer, fake_stripe
):
    # A month-old failure (paid since, its recovery's events lost) is delivered while a newer
    # invoice is failing: the grace is that newer failure's, not a month old and over.
    user_id, customer_id = customer
    now = int(time.time())
    post_event(
        stripe_client,
        event(
            "customer.subscription.created", subscription("sub_a", customer_id), now - 40 * 86400
        ),
    )
    current = subscription("sub_a", customer_id, status="past_due", user_id=user_id)
    current["latest_invoice"] = new_id("in")
    fake_stripe.subscriptions["sub_a"] = current
    old = invoice("sub_a", customer_id, paid=False)
    post_event(stripe_client, event("invoice.payment_failed", old, now - 30 * 86400))
    assert _sub(stripe_app, "sub_a").status == "past_due"
    assert _access(stripe_app, user_id)


def test_a_live_event_of_a_deleted_customer_delivered_late_does_not_link_it_again(
    stripe_client, stripe_app, customer
):
    # Deleting a customer ends its subscriptions: a creation delivered after the customer's
    # deletion (and before the subscription's own ending) is no membership to open.
    user_id, customer_id = customer
    now = int(time.time())
    gone = {"id": customer_id, "object": "customer", "deleted": True}
    post_event(stripe_client, event("customer.deleted", gone, now - 5))
    created = subscription("sub_a", customer_id, user_id=user_id)
    post_event(stripe_client, event("customer.subscription.created", created, now - 60))
    assert not _access(stripe_app, user_id)
    with stripe_app.app_context():
        assert db.session.scalar(select(StripeCustomer)) is None
    ended = subscription("sub_a", customer_id, status="canceled", user_id=user_id)
    post_event(stripe_client, event("customer.subscription.deleted", ended, now))
    assert _sub(stripe_app, "sub_a").status == "canceled"
    assert not _access(stripe_app, user_id)
    with stripe_app.app_context():
        assert db.session.scalar(select(StripeCustomer)) is None


def test_the_checkout_of_a_deleted_customer_is_ignored_as_such(
    stripe_client, stripe_app, customer, fake_stripe
):
    # The reason is what the admin reads: "another user's" would send them looking for one.
    user_id, customer_id = customer
    gone = {"id": customer_id, "object": "customer", "deleted": True}
    post_event(stripe_client, event("customer.deleted", gone))
    fake_stripe.subscriptions["sub_a"] = subscription("sub_a", customer_id, user_id=user_id)
    post_event(
        stripe_client, event("checkout.session.completed", _checkout(str(user_id), customer_id))
    )
    row = _events(stripe_app)[-1]
    assert row.status == "ignored"
    assert row.reason == f"customer {customer_id} was deleted at Stripe"
    _nothing_granted(stripe_app, user_id)


def test_the_checkout_of_a_deleted_account_is_ignored_as_such(
    stripe_client, stripe_app, customer, fake_stripe
):
    from campus.accounts.models import User
    from campus.models.base import utcnow

    user_id, customer_id = customer
    with stripe_app.app_context():
        db.session.execute(delete(StripeCustomer))
        db.session.execute(
            update(User)
            .where(User.id == user_id)
            .values(email=f"deleted-{user_id}@deleted.invalid", deleted_at=utcnow())
        )
        db.session.commit()
    fake_stripe.subscriptions["sub_a"] = subscription("sub_a", customer_id, user_id=user_id)
    post_event(
        stripe_client, event("checkout.session.completed", _checkout(str(user_id), customer_id))
    )
    [row] = _events(stripe_app)
    assert row.status == "ignored"
    assert row.reason == f"the account of user {user_id} is deleted"
    _nothing_granted(stripe_app, user_id)


def test_the_checkout_of_another_users_customer_is_ignored_as_such(
    stripe_client, stripe_app, customer, fake_stripe
):
    _owner_id, customer_id = customer
    with stripe_app.app_context():
        other_id = support.create_user().id
    fake_stripe.subscriptions["sub_a"] = subscription("sub_a", customer_id, user_id=other_id)
    post_event(
        stripe_client, event("checkout.session.completed", _checkout(str(other_id), customer_id))
    )
    [row] = _events(stripe_app)
    assert row.status == "ignored"
    assert row.reason == f"customer {customer_id} belongs to another user"
    _nothing_granted(stripe_app, other_id)

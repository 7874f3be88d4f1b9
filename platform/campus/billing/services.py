"""Billing write logic: checkout, webhook intake and processing, reconciliation, comp grants.

Every function flushes and never commits; views and tasks commit once.

Ordering rule: each mirrored subscription remembers the Stripe timestamp of the state it holds
(`source_timestamp`). An event older than that is ignored as stale; an event from the same second
that disagrees is settled by fetching the subscription from Stripe. State fetched outside an
event is stamped a few seconds before "now", so a change Stripe made just before the fetch (or a
small clock difference) can still be applied by its own event; state always converges to the
newest event.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import stripe
from flask import current_app
from sqlalchemy import Dialect, Engine, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from campus.accounts.models import User
from campus.billing.access import has_paid_access
from campus.billing.models import (
    CheckoutSession,
    CompMembership,
    StripeCustomer,
    Subscription,
    WebhookEvent,
)
from campus.billing.stripe_api import (
    PaymentProviderError,
    gateway,
    membership_price_id,
    webhook_secret,
)
from campus.extensions import db
from campus.jobs import enqueue_after_commit, wake_once
from campus.mail.services import queue_email
from campus.models.base import utcnow
from campus.urls import public_url

log = logging.getLogger(__name__)

# Fetched state is stamped this many seconds before the fetch (see the module docstring).
FETCH_MARGIN_SECONDS = 5
CHECKOUT_REUSE_MINUTES = 30
HANDLED_EVENTS = (
    "checkout.session.completed",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "customer.subscription.trial_will_end",
    "invoice.paid",
    "invoice.payment_failed",
)


class BillingError(Exception):
    """A billing request that cannot be done as asked (shown to the user)."""


class InvalidWebhook(Exception):
    """A webhook whose signature, timestamp or body is not acceptable."""


class WebhookNotConfigured(Exception):
    """No webhook signing secret is configured."""


def _ts_to_dt(value: Any) -> datetime | None:
    if value is None:
        return None
    return datetime.fromtimestamp(int(value), UTC)


def _id_of(value: Any) -> str | None:
    """Return an object id whether Stripe sent the id or the expanded object."""
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) and value else None


def _lock_user(user_id: int) -> None:
    """Serialize billing changes of one user (a row lock; SQLite takes its write lock)."""
    if db.engine.dialect.name == "sqlite":
        db.session.execute(update(User).where(User.id == user_id).values(id=User.id))
    else:
        db.session.scalar(select(User.id).where(User.id == user_id).with_for_update())


# --- customers, checkout and portal ----------------------------------------------------------


def customer_for(user: User) -> StripeCustomer | None:
    """Return the user's Stripe customer record, if one exists."""
    return db.session.scalar(select(StripeCustomer).where(StripeCustomer.user_id == user.id))


def ensure_customer(user: User) -> str:
    """Return the user's one Stripe customer id, creating the customer the first time."""
    existing = customer_for(user)
    if existing is not None:
        return existing.stripe_customer_id
    customer_id = gateway().create_customer(user)
    owner = db.session.scalar(
        select(StripeCustomer).where(StripeCustomer.stripe_customer_id == customer_id)
    )
    if owner is not None and owner.user_id != user.id:
        raise BillingError("This payment account belongs to someone else.")
    db.session.add(StripeCustomer(user_id=user.id, stripe_customer_id=customer_id))
    db.session.flush()
    return customer_id


def start_checkout(user: User, *, success_url: str, cancel_url: str) -> str:
    """Return the URL of the user's Checkout Session, reusing an open one (double clicks)."""
    _lock_user(user.id)
    customer_id = ensure_customer(user)
    now = utcnow()
    reusable = db.session.scalar(
        select(CheckoutSession)
        .where(
            CheckoutSession.user_id == user.id,
            CheckoutSession.status == "open",
            CheckoutSession.stripe_customer_id == customer_id,
            CheckoutSession.created_at > now - timedelta(minutes=CHECKOUT_REUSE_MINUTES),
            CheckoutSession.expires_at > now + timedelta(minutes=5),
        )
        .order_by(CheckoutSession.created_at.desc())
        .limit(1)
    )
    if reusable is not None:
        return reusable.url
    session = gateway().create_checkout_session(
        customer_id=customer_id, user=user, success_url=success_url, cancel_url=cancel_url
    )
    expires = _ts_to_dt(session.get("expires_at")) or now + timedelta(hours=24)
    db.session.add(
        CheckoutSession(
            user_id=user.id,
            stripe_session_id=session["id"],
            stripe_customer_id=customer_id,
            url=session["url"],
            status="open",
            expires_at=expires,
        )
    )
    db.session.flush()
    return session["url"]


def portal_url(user: User, return_url: str) -> str:
    """Return a Customer Portal URL for the user's customer."""
    record = customer_for(user)
    if record is None:
        raise BillingError("There is no billing account yet: start a membership first.")
    return gateway().create_portal_session(
        customer_id=record.stripe_customer_id, return_url=return_url
    )


def sync_checkout_session(user: User, session_id: str) -> bool:
    """Fetch a Checkout Session of this user from Stripe and mirror its subscription.

    Returns False when the session is not the user's; a slow webhook then changes nothing here.
    """
    session = gateway().retrieve_checkout_session(session_id)
    if session is None or session.get("client_reference_id") != str(user.id):
        return False
    record = customer_for(user)
    if record is None or record.stripe_customer_id != _id_of(session.get("customer")):
        return False
    local = db.session.scalar(
        select(CheckoutSession).where(CheckoutSession.stripe_session_id == session_id)
    )
    if local is not None and session.get("status") in ("complete", "expired"):
        local.status = session["status"]
    sub_id = _id_of(session.get("subscription"))
    if session.get("status") == "complete" and sub_id:
        sub = gateway().retrieve_subscription(sub_id)
        if sub is not None:
            apply_subscription(sub, _fetch_stamp(), allow_refetch=False)
    db.session.flush()
    return True


def _fetch_stamp() -> int:
    return gateway().now() - FETCH_MARGIN_SECONDS


# --- webhook intake --------------------------------------------------------------------------

WEBHOOK_TOLERANCE = 300  # seconds: Stripe's default; an older signature is a replay


@lru_cache(maxsize=2)
def _insert_event_statement(dialect_name: str):
    """INSERT ... ON CONFLICT (stripe_event_id) DO NOTHING RETURNING id, built once.

    One statement: a duplicate delivery, even a concurrent one, inserts nothing and raises
    nothing. Built on the table (not the ORM entity) because this is the hot path.
    """
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    table = WebhookEvent.__table__
    return (
        dialect.insert(table)
        .on_conflict_do_nothing(index_elements=[table.c.stripe_event_id])
        .returning(table.c.id)
    )


def verify_webhook(payload: bytes, signature: str | None) -> tuple[str, dict[str, Any]]:
    """Check a delivery's signature, age and shape; return its text and the parsed event."""
    secret = webhook_secret()
    if not secret:
        raise WebhookNotConfigured("STRIPE_WEBHOOK_SECRET is not set")
    if not signature:
        raise InvalidWebhook("Missing Stripe-Signature header.")
    try:
        # The SDK's check of the v1 HMAC over the raw body and of the timestamp's age; the body
        # is then parsed once (construct_event would also build an Event object we never use).
        text = payload.decode("utf-8")
        stripe.WebhookSignature.verify_header(text, signature, secret, WEBHOOK_TOLERANCE)
        event = json.loads(text)
    except stripe.SignatureVerificationError as exc:
        raise InvalidWebhook("Invalid or stale signature.") from exc
    except (ValueError, TypeError) as exc:
        raise InvalidWebhook("The body is not a Stripe event.") from exc
    if not isinstance(event, dict):
        raise InvalidWebhook("The body is not a Stripe event.")
    event_id, event_type, created = event.get("id"), event.get("type"), event.get("created")
    data = event.get("data")
    if not (
        isinstance(event_id, str)
        and 0 < len(event_id) <= 100
        and isinstance(event_type, str)
        and 0 < len(event_type) <= 100
        and isinstance(created, int)
        and not isinstance(created, bool)
        and 0 <= created < 2**31
        and isinstance(data, dict)
        and isinstance(data.get("object"), dict)
    ):
        raise InvalidWebhook("The body is not a Stripe event.")
    return text, event


def store_webhook(engine: Engine, text: str, event: dict[str, Any]) -> int | None:
    """Store a verified event once (its id is unique); return the new row id (None: a duplicate).

    One autocommitted INSERT, outside any session: the database answers it only once the row is
    durable, and there is no BEGIN or COMMIT round trip.
    """
    now = utcnow()
    params = {
        "stripe_event_id": event["id"],
        "type": event["type"],
        "created": event["created"],
        "livemode": bool(event.get("livemode")),
        "payload": text,
        "status": "received",
        "attempts": 0,
        "created_at": now,
        "updated_at": now,
    }
    if engine.dialect.name == "postgresql":
        return _store_on_driver(engine, params)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        return conn.execute(_insert_event_statement(engine.dialect.name), params).scalar()


@lru_cache(maxsize=2)
def _insert_event_sql(dialect: Dialect, keys: tuple[str, ...]) -> str:
    """Compile (once) the INSERT's SQL for these columns, as the driver takes it."""
    return str(_insert_event_statement(dialect.name).compile(dialect=dialect, column_keys=keys))


def _store_on_driver(engine: Engine, params: dict[str, Any]) -> int | None:
    """Run the INSERT on a pooled psycopg connection directly; return the new row id or None.

    The hot path of the intake: SQLAlchemy's Connection (events, isolation switches, result
    wrapping) cost more client time than the round trip. None of the values needs a type
    conversion from SQLAlchemy on psycopg, so the driver gets them as they are.
    """
    pooled = engine.raw_connection()  # the pool's checkout events (the idle ping) still apply
    driver: Any = pooled.driver_connection  # psycopg's Connection: this path is PostgreSQL only
    try:
        driver.autocommit = True
        try:
            sql = _insert_event_sql(engine.dialect, tuple(params))
            row = driver.execute(sql, params).fetchone()
        finally:
            if not driver.broken:
                driver.autocommit = False
    except Exception:
        if driver.broken or driver.closed:
            pooled.invalidate()  # the pool opens a new one rather than hand this one out again
        raise
    finally:
        pooled.close()
    return row[0] if row else None


def wake_event_processing(row_id: int | None) -> None:
    """Get stored events processed: wake the debounced drain, else send this event's task.

    Call it after the event is committed, for a duplicate too: that may be Stripe's retry of a
    delivery whose row was committed but whose wake-up was lost with the answer.
    """
    from campus.billing import tasks

    if wake_once(tasks.drain_webhook_events, tasks.DRAIN_WAKE, tasks.DRAIN_WAKE_TTL):
        return
    # No Redis to debounce with (the embedded default) or eager tasks: one task per event.
    if row_id is not None:
        tasks.process_webhook_event.apply_async(args=(row_id,))


# --- webhook processing ----------------------------------------------------------------------


def process_event(event_row_id: int) -> WebhookEvent | None:
    """Apply one stored event (once): set its status to processed, ignored (with why) or raise."""
    # Writing first takes the lock before anything is read: the row lock on PostgreSQL, the
    # database write lock on SQLite (where FOR UPDATE does nothing), so two workers handling
    # events of one subscription never compare against state the other is changing.
    db.session.execute(
        update(WebhookEvent)
        .where(WebhookEvent.id == event_row_id, WebhookEvent.status.in_(("received", "failed")))
        .values(attempts=WebhookEvent.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    row = db.session.scalar(
        select(WebhookEvent).where(WebhookEvent.id == event_row_id).with_for_update()
    )
    if row is None or row.status in ("processed", "ignored"):
        return row
    event = json.loads(row.payload)
    handler = _HANDLERS.get(row.type)
    reason: str | None
    if handler is None:
        status, reason = "ignored", f"event type {row.type} is not used by Campus"
    else:
        # A failure inside rolls back everything the handler wrote.
        with db.session.begin_nested():
            status, reason = handler(event)
    row.status = status
    row.reason = reason
    row.last_error = None
    row.processed_at = utcnow()
    db.session.flush()
    return row


def claim_next_event() -> int | None:
    """Lock the oldest received event no other transaction holds; return its id (None: none)."""
    # SKIP LOCKED: two drains never take the same event, and neither waits for the other. On
    # SQLite (no row locks) process_event's first write serializes them and the second is a no-op.
    return db.session.scalar(
        select(WebhookEvent.id)
        .where(WebhookEvent.status == "received")
        .order_by(WebhookEvent.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )


def has_waiting_events(older_than: timedelta) -> bool:
    """Tell whether some event has waited longer than `older_than` to be processed."""
    cutoff = utcnow() - older_than
    return (
        db.session.scalar(
            select(WebhookEvent.id)
            .where(WebhookEvent.status == "received", WebhookEvent.updated_at < cutoff)
            .limit(1)
        )
        is not None
    )


def record_failure(event_row_id: int, error: BaseException) -> None:
    """Mark a stored event failed with its error text (the task retries it)."""
    row = db.session.scalar(
        select(WebhookEvent).where(WebhookEvent.id == event_row_id).with_for_update()
    )
    if row is None or row.status in ("processed", "ignored"):
        return
    row.status = "failed"
    row.attempts += 1
    row.last_error = f"{type(error).__name__}: {error}"[:4000]
    db.session.flush()


def reset_for_replay(event_row: WebhookEvent) -> None:
    """Put an event back to received so it is processed again."""
    event_row.status = "received"
    event_row.reason = None
    event_row.processed_at = None
    db.session.flush()


def find_event(identifier: str) -> WebhookEvent | None:
    """Find a stored event by Stripe event id (evt_...) or by our row id."""
    row = db.session.scalar(select(WebhookEvent).where(WebhookEvent.stripe_event_id == identifier))
    if row is None and identifier.isdigit():
        row = db.session.get(WebhookEvent, int(identifier))
    return row


def _user_for_customer(customer_id: str | None, metadata_user_id: Any = None) -> User | None:
    """Find the user of a Stripe customer by our customer record (never by email).

    A customer we have never seen is linked to the user named in the metadata Campus itself
    put there, but only if that user has no customer yet.
    """
    if not customer_id:
        return None
    record = db.session.scalar(
        select(StripeCustomer).where(StripeCustomer.stripe_customer_id == customer_id)
    )
    if record is not None:
        return db.session.get(User, record.user_id)
    if not (isinstance(metadata_user_id, str) and metadata_user_id.isdigit()):
        return None
    user = db.session.get(User, int(metadata_user_id))
    if user is None or customer_for(user) is not None:
        return None
    try:
        with db.session.begin_nested():
            db.session.add(StripeCustomer(user_id=user.id, stripe_customer_id=customer_id))
    except IntegrityError:
        return None
    return user


def _lock_subscription(sub_id: str) -> Subscription | None:
    return db.session.scalar(
        select(Subscription).where(Subscription.stripe_subscription_id == sub_id).with_for_update()
    )


def _period_end(obj: dict[str, Any]) -> datetime | None:
    ends = [
        item.get("current_period_end")
        for item in (obj.get("items") or {}).get("data") or []
        if item.get("current_period_end")
    ]
    return _ts_to_dt(max(ends)) if ends else None


def _price_of(obj: dict[str, Any]) -> str | None:
    items = (obj.get("items") or {}).get("data") or []
    return _id_of(items[0].get("price")) if items else None


def _differs(row: Subscription, obj: dict[str, Any]) -> bool:
    return (
        row.status != obj.get("status")
        or row.cancel_at_period_end != bool(obj.get("cancel_at_period_end"))
        or row.current_period_end != _period_end(obj)
    )


def apply_subscription(
    obj: dict[str, Any], stamp: int, *, allow_refetch: bool = True
) -> tuple[str, str | None, Subscription | None]:
    """Mirror a Stripe subscription as of `stamp` unless newer state is stored."""
    sub_id = _id_of(obj)
    if not sub_id or obj.get("object") != "subscription" or not isinstance(obj.get("status"), str):
        return "ignored", "not a subscription object", None
    price = _price_of(obj)
    if price != membership_price_id():
        return "ignored", f"unknown price {price}", None
    customer_id = _id_of(obj.get("customer"))
    row = _lock_subscription(sub_id)
    if row is None:
        user = _user_for_customer(customer_id, (obj.get("metadata") or {}).get("user_id"))
        if user is None:
            return "ignored", f"unknown customer {customer_id}", None
        try:
            with db.session.begin_nested():
                row = Subscription(
                    user_id=user.id,
                    stripe_subscription_id=sub_id,
                    stripe_customer_id=customer_id,
                    status=obj["status"],
                    source_timestamp=-1,
                )
                db.session.add(row)
        except IntegrityError:
            # Another worker created it a moment ago: wait for its lock and compare.
            row = _lock_subscription(sub_id)
            if row is None:
                raise
    elif row.stripe_customer_id != customer_id:
        return "ignored", f"subscription {sub_id} belongs to another customer", row
    if stamp < row.source_timestamp:
        return "ignored", "stale: newer state is already stored", row
    if stamp == row.source_timestamp and _differs(row, obj):
        if not allow_refetch:
            return "ignored", "stale: same-second state is already stored", row
        # Two states from the same second: only Stripe knows which is current.
        fresh = gateway().retrieve_subscription(sub_id)
        if fresh is not None:
            obj = fresh
    _write_subscription(row, obj, stamp)
    return "processed", None, row


def _write_subscription(row: Subscription, obj: dict[str, Any], stamp: int) -> None:
    previous = row.status if row.source_timestamp >= 0 else None
    row.status = obj["status"]
    row.price_id = _price_of(obj)
    row.current_period_end = _period_end(obj)
    row.cancel_at_period_end = bool(obj.get("cancel_at_period_end"))
    row.trial_end = _ts_to_dt(obj.get("trial_end"))
    row.canceled_at = _ts_to_dt(obj.get("canceled_at"))
    row.ended_at = _ts_to_dt(obj.get("ended_at"))
    if row.status == "past_due":
        if previous != "past_due" or row.past_due_since is None:
            row.past_due_since = _ts_to_dt(stamp) or utcnow()
    else:
        row.past_due_since = None
    row.source_timestamp = stamp
    db.session.flush()
    if row.status == "canceled":
        _email_ended(row)


def _membership_link() -> str:
    return public_url("billing.membership")


def _email_ended(row: Subscription) -> None:
    user = db.session.get_one(User, row.user_id)
    queue_email(
        user.email,
        "Your Campus membership has ended",
        "billing_ended",
        dedupe_key=f"billing:ended:{row.stripe_subscription_id}",
        user=user,
        link=_membership_link(),
    )


def _on_checkout_completed(event: dict[str, Any]) -> tuple[str, str | None]:
    session = event["data"]["object"]
    if session.get("mode") != "subscription":
        return "ignored", "not a subscription checkout"
    ref = session.get("client_reference_id")
    user = db.session.get(User, int(ref)) if isinstance(ref, str) and ref.isdigit() else None
    if user is None:
        return "ignored", f"unknown user {ref!r}"
    customer_id = _id_of(session.get("customer"))
    record = customer_for(user)
    if record is None:
        owner = _user_for_customer(customer_id, str(user.id))
        if owner is None or owner.id != user.id:
            return "ignored", f"customer {customer_id} belongs to another user"
    elif record.stripe_customer_id != customer_id:
        return "ignored", f"customer {customer_id} is not the user's customer"
    local = db.session.scalar(
        select(CheckoutSession).where(CheckoutSession.stripe_session_id == session.get("id"))
    )
    if local is not None:
        local.status = "complete"
    sub_id = _id_of(session.get("subscription"))
    if sub_id is None:
        return "ignored", "the checkout has no subscription yet"
    row = _lock_subscription(sub_id)
    if row is None:
        sub = session["subscription"] if isinstance(session.get("subscription"), dict) else None
        sub = sub or gateway().retrieve_subscription(sub_id)
        if sub is None:
            raise PaymentProviderError(f"subscription {sub_id} not found at Stripe")
        status, reason, row = apply_subscription(sub, _fetch_stamp(), allow_refetch=False)
        if row is None:
            return status, reason
    if session.get("payment_status") in ("paid", "no_payment_required"):
        queue_email(
            user.email,
            "Welcome to your Campus membership",
            "billing_started",
            dedupe_key=f"billing:started:{sub_id}",
            user=user,
            period_end=row.current_period_end,
            link=_membership_link(),
        )
    return "processed", None


def _on_subscription_event(event: dict[str, Any]) -> tuple[str, str | None]:
    status, reason, row = apply_subscription(event["data"]["object"], event["created"])
    if row is not None and row.status == "canceled":
        _email_ended(row)  # also when this deletion arrived after a fetch already showed it
    return status, reason


def _on_trial_will_end(event: dict[str, Any]) -> tuple[str, str | None]:
    obj = event["data"]["object"]
    status, reason, row = apply_subscription(obj, event["created"])
    if row is None:
        return status, reason
    trial_end = obj.get("trial_end")
    if row.status != "trialing" or not trial_end:
        return "ignored", "the subscription is no longer trialing"
    user = db.session.get_one(User, row.user_id)
    queue_email(
        user.email,
        "Your Campus trial ends soon",
        "billing_trial_ending",
        dedupe_key=f"billing:trial:{row.stripe_subscription_id}:{trial_end}",
        user=user,
        trial_end=_ts_to_dt(trial_end),
        link=_membership_link(),
    )
    return "processed", None


def _invoice_subscription(event: dict[str, Any]) -> tuple[str | None, Subscription | None]:
    invoice = event["data"]["object"]
    details = ((invoice.get("parent") or {}).get("subscription_details")) or {}
    sub_id = _id_of(details.get("subscription"))
    if sub_id is None:
        return None, None
    row = _lock_subscription(sub_id)
    if row is None:
        sub = gateway().retrieve_subscription(sub_id)
        if sub is not None:
            _status, _reason, row = apply_subscription(sub, _fetch_stamp(), allow_refetch=False)
    return sub_id, row


def _on_invoice_paid(event: dict[str, Any]) -> tuple[str, str | None]:
    sub_id, row = _invoice_subscription(event)
    if sub_id is None:
        return "ignored", "the invoice is not for a subscription"
    if row is None:
        return "ignored", f"unknown subscription {sub_id}"
    # The subscription's own events carry its new state; the payment needs nothing more here.
    return "processed", None


def _on_payment_failed(event: dict[str, Any]) -> tuple[str, str | None]:
    invoice = event["data"]["object"]
    sub_id, row = _invoice_subscription(event)
    if sub_id is None:
        return "ignored", "the invoice is not for a subscription"
    if row is None:
        return "ignored", f"unknown subscription {sub_id}"
    user = db.session.get_one(User, row.user_id)
    queue_email(
        user.email,
        "Your Campus membership payment failed",
        "billing_payment_failed",
        dedupe_key=f"billing:payment_failed:{invoice.get('id')}:{invoice.get('attempt_count')}",
        user=user,
        amount=invoice.get("amount_due"),
        grace_days=current_app.config["PAST_DUE_GRACE_DAYS"],
        link=_membership_link(),
    )
    return "processed", None


_HANDLERS = {
    "checkout.session.completed": _on_checkout_completed,
    "customer.subscription.created": _on_subscription_event,
    "customer.subscription.updated": _on_subscription_event,
    "customer.subscription.deleted": _on_subscription_event,
    "customer.subscription.trial_will_end": _on_trial_will_end,
    "invoice.paid": _on_invoice_paid,
    "invoice.payment_failed": _on_payment_failed,
}


# --- reconciliation --------------------------------------------------------------------------


def _sync_customer(record: StripeCustomer, stamp: int) -> tuple[int, int]:
    """Mirror a customer's subscriptions as Stripe has them; return (seen, changed)."""
    seen = changed = 0
    for sub in gateway().list_subscriptions(record.stripe_customer_id):
        seen += 1
        existing = db.session.scalar(
            select(Subscription).where(Subscription.stripe_subscription_id == _id_of(sub))
        )
        drift = existing is None or _differs(existing, sub)
        status, _reason, row = apply_subscription(sub, stamp, allow_refetch=False)
        if drift and status == "processed" and row is not None:
            changed += 1
            log.info("synced subscription %s -> %s", row.stripe_subscription_id, row.status)
    return seen, changed


def sync_member(user: User) -> int:
    """Mirror the user's subscriptions from Stripe now (back from the portal); return changes.

    The portal's own events follow as webhooks; fetched state is stamped a little in the past,
    so none of them is lost to it (see the module docstring).
    """
    record = customer_for(user)
    if record is None:
        return 0
    _seen, changed = _sync_customer(record, _fetch_stamp())
    db.session.flush()
    return changed


def reconcile(stale_after_minutes: int = 10) -> dict[str, int]:
    """Compare every customer's subscriptions with Stripe, repair drift, requeue stuck events."""
    from campus.billing.tasks import process_webhook_event

    counts = {"customers": 0, "subscriptions": 0, "repaired": 0, "requeued": 0}
    customers = db.session.scalars(select(StripeCustomer).order_by(StripeCustomer.id)).all()
    stamp = _fetch_stamp()
    for record in customers:
        counts["customers"] += 1
        seen, repaired = _sync_customer(record, stamp)
        counts["subscriptions"] += seen
        counts["repaired"] += repaired
    cutoff = utcnow() - timedelta(minutes=stale_after_minutes)
    stuck = db.session.scalars(
        select(WebhookEvent).where(
            WebhookEvent.status.in_(("received", "failed")), WebhookEvent.updated_at < cutoff
        )
    ).all()
    for row in stuck:
        counts["requeued"] += 1
        row.updated_at = utcnow()
        enqueue_after_commit(process_webhook_event, row.id)
    db.session.flush()
    return counts


def event_counts() -> dict[str, int]:
    """Count stored events by status."""
    rows = db.session.execute(
        select(WebhookEvent.status, func.count()).group_by(WebhookEvent.status)
    ).all()
    return {status: count for status, count in rows}


# --- comp memberships ------------------------------------------------------------------------


def grant_comp(
    user: User, *, days: int, reason: str, granted_by: User | None = None
) -> CompMembership:
    """Give a user access without Stripe for `days` days, for a stated reason."""
    if days < 1 or days > 3660:
        raise BillingError("Days must be between 1 and 3660.")
    reason = (reason or "").strip()
    if not reason:
        raise BillingError("A reason is required.")
    now = utcnow()
    comp = CompMembership(
        user_id=user.id,
        starts_at=now,
        ends_at=now + timedelta(days=days),
        reason=reason,
        granted_by_id=granted_by.id if granted_by else None,
    )
    db.session.add(comp)
    db.session.flush()
    return comp


def open_comps(user: User, now: datetime | None = None) -> list[CompMembership]:
    """Return a user's comp grants that are not revoked and have not ended yet."""
    now = now or utcnow()
    return list(
        db.session.scalars(
            select(CompMembership).where(
                CompMembership.user_id == user.id,
                CompMembership.revoked_at.is_(None),
                CompMembership.ends_at > now,
            )
        )
    )


def end_comp(user: User) -> int:
    """End every comp grant of a user now; return how many were in force."""
    now = utcnow()
    comps = open_comps(user, now)
    for comp in comps:
        comp.revoked_at = now
    db.session.flush()
    return len(comps)


def checkout_allowed(user: User) -> bool:
    """Tell whether the user should be sent to Checkout (not if they already have access)."""
    return not has_paid_access(user)


def success_url() -> str:
    """Absolute URL Stripe returns to after payment ({CHECKOUT_SESSION_ID} is Stripe's)."""
    return public_url("billing.success") + "?session_id={CHECKOUT_SESSION_ID}"

"""Billing write logic for members and the webhook door: checkout, portal, sync, intake.

The subscription mirror and its ordering rule live in `subscriptions`, a customer's sync with
Stripe in `syncing`, closing and settling a member's earlier Checkout Sessions in `checkouts`,
the processing of stored events in `events`, and the changes an admin or operator makes (comp
grants, replays) in `actions`. Every function flushes and never commits; views and tasks commit
once.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from functools import lru_cache
from typing import Any

import stripe
from flask import current_app
from sqlalchemy import Engine, select
from sqlalchemy.dialects import postgresql, sqlite

from campus.accounts.models import User
from campus.billing.access import has_paid_access, membership_state
from campus.billing.checkouts import close_earlier_checkouts
from campus.billing.events import PROCESS_TASK
from campus.billing.models import CheckoutSession, StripeCustomer, Subscription, WebhookEvent
from campus.billing.stripe_api import (
    CustomerMissing,
    gateway,
    webhook_secret,
)
from campus.billing.subscriptions import customer_for, fetch_stamp, to_datetime
from campus.billing.syncing import sync_customer
from campus.extensions import db
from campus.jobs import send_task, wake_once
from campus.models.base import utcnow
from campus.models.writes import lock_row
from campus.templating import format_date
from campus.urls import public_url

CHECKOUT_REUSE_MINUTES = 30
# The drain task, by name (see tasks.py), and its wake-up: the mark's name and how long a lost
# drain message can mute further wake-ups.
DRAIN_TASK = "campus.billing.drain_webhook_events"
DRAIN_WAKE = "billing:drain-webhook-events"
DRAIN_WAKE_TTL = 5


class BillingError(Exception):
    """A billing request that cannot be done as asked (shown to the user)."""


class InvalidWebhook(Exception):
    """A webhook whose signature, timestamp or body is not acceptable."""


class WebhookNotConfigured(Exception):
    """No webhook signing secret is configured."""


# --- customers, checkout and portal ----------------------------------------------------------


def ensure_customer(user: User, replacing: str | None = None) -> str:
    """Return the user's one Stripe customer id, creating the customer the first time.

    `replacing` names the customer Stripe no longer knows that the new one takes over from.
    """
    existing = customer_for(user)
    if existing is not None:
        return existing.stripe_customer_id
    customer_id = gateway().create_customer(user, replacing=replacing)
    owner = db.session.scalar(
        select(StripeCustomer).where(StripeCustomer.stripe_customer_id == customer_id)
    )
    if owner is not None and owner.user_id != user.id:
        raise BillingError("This payment account belongs to someone else.")
    db.session.add(StripeCustomer(user_id=user.id, stripe_customer_id=customer_id))
    db.session.flush()
    return customer_id


def start_checkout(user: User, *, success_url: str, cancel_url: str) -> str:
    """Return the URL of the user's Checkout Session, reusing an open one (double clicks).

    A new session opens only once every earlier one is closed at Stripe (see
    close_earlier_checkouts).
    """
    lock_row(User, user.id)  # one billing change of a member at a time
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
    close_earlier_checkouts(user)
    try:
        session = gateway().create_checkout_session(
            customer_id=customer_id, user=user, success_url=success_url, cancel_url=cancel_url
        )
    except CustomerMissing:
        # Stripe no longer has this customer (deleted there, or made with the test keys before
        # a switch to live ones): a new customer replaces it, or the member could never join.
        db.session.delete(customer_for(user))
        db.session.flush()
        customer_id = ensure_customer(user, replacing=customer_id)
        session = gateway().create_checkout_session(
            customer_id=customer_id, user=user, success_url=success_url, cancel_url=cancel_url
        )
    expires = to_datetime(session.get("expires_at")) or now + timedelta(hours=24)
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


NO_BILLING_ACCOUNT = "There is no billing account yet: start a membership first."


def portal_url(user: User, return_url: str) -> str:
    """Return a Customer Portal URL for the user's customer.

    Raises BillingError when there is no customer to manage, having forgotten (flushed, for the
    caller to commit) a customer Stripe does not know.
    """
    record = customer_for(user)
    if record is None:
        raise BillingError(NO_BILLING_ACCOUNT)
    try:
        return gateway().create_portal_session(
            customer_id=record.stripe_customer_id, return_url=return_url
        )
    except CustomerMissing as exc:
        # Deleted at Stripe with no event reaching us, or made with the test keys before a
        # switch to live ones: no portal can ever open for it. Forgotten, the page offers to
        # join (which makes a new customer) instead of a portal that always fails.
        db.session.delete(record)
        db.session.flush()
        raise BillingError(NO_BILLING_ACCOUNT) from exc


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


# A UTF-16 surrogate alone: JSON's escapes make one, UTF-8 (any database's text) has none.
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# Stripe's events nest a few levels (event, data, object, items, price, ...); far fewer than this.
MAX_EVENT_NESTING = 64


def _unstorable(value: Any) -> bool:
    """Tell whether a parsed event nests too deep or holds a NUL or a lone surrogate in a value.

    Walked without recursion. PostgreSQL refuses NUL in text, and no driver encodes a lone
    surrogate (JSON's "\\ud800" escape, which is no character), so an event naming one (in its
    id, or an object's) could never be stored or applied. Refused with a 400, nothing is
    stored, so no worker retries it forever; Stripe redelivers it (any non-2xx) for up to three
    days, and each delivery is refused the same way.
    """
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            if "\x00" in node or _SURROGATE.search(node):
                return True
        elif isinstance(node, dict | list):
            if depth > MAX_EVENT_NESTING:
                return True
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children)
    return False


def verify_webhook(payload: bytes, signature: str | None) -> tuple[str, dict[str, Any]]:
    """Check a delivery's signature, age and shape; return its text and the parsed event."""
    secret = webhook_secret()
    if not secret:
        raise WebhookNotConfigured("STRIPE_WEBHOOK_SECRET is not set")
    if not signature:
        raise InvalidWebhook("Missing Stripe-Signature header.")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidWebhook("The body is not a Stripe event.") from exc
    try:
        # The SDK's check of the v1 HMAC over the raw body and of the timestamp's age; the body
        # is then parsed once (construct_event would also build an Event object we never use).
        stripe.WebhookSignature.verify_header(text, signature, secret, WEBHOOK_TOLERANCE)
    except (stripe.SignatureVerificationError, TypeError) as exc:
        # TypeError: the SDK compares the signature with hmac.compare_digest, which refuses
        # a header holding characters outside ASCII.
        raise InvalidWebhook("Invalid or stale signature.") from exc
    try:
        event = json.loads(text)
    except (ValueError, RecursionError) as exc:
        # RecursionError: nesting deeper than the parser goes, which no Stripe event has.
        raise InvalidWebhook("The body is not a Stripe event.") from exc
    if not isinstance(event, dict) or _unstorable(event):
        # Parsed, but deeper than the recursive code that reads and scrubs a stored event can
        # walk, or with a NUL: stored, it would fail in the worker on every retry. Refused, it
        # is never stored; Stripe's redeliveries (for up to three days) are each refused too.
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
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        return conn.execute(_insert_event_statement(engine.dialect.name), params).scalar()


def wake_event_processing(row_id: int | None) -> None:
    """Get stored events processed: wake the debounced drain, else send this event's task.

    Call it after the event is committed, for a duplicate too: that may be Stripe's retry of a
    delivery whose row was committed but whose wake-up was lost with the answer.
    """
    if wake_once(DRAIN_TASK, DRAIN_WAKE, DRAIN_WAKE_TTL):
        return
    # No Redis to debounce with (the embedded default) or eager tasks: one task per event.
    if row_id is not None:
        send_task(current_app.extensions["celery"], PROCESS_TASK, args=(row_id,))


# --- a member's own sync ---------------------------------------------------------------------


def sync_member(user: User) -> int:
    """Mirror the user's subscriptions from Stripe now (back from the portal); return changes.

    The portal's own events follow as webhooks; fetched state is stamped a little in the past,
    so none of them is lost to it (see the module docstring).
    """
    record = customer_for(user)
    if record is None:
        return 0
    _seen, changed = sync_customer(record, fetch_stamp())
    db.session.flush()
    return changed


# Stripe still holds these open and may yet collect their invoice (its retries, the member
# paying it in the portal, or a first payment still clearing or awaiting the member's
# confirmation): a second subscription beside one would charge the member twice. A first
# payment Stripe gave up on ends as incomplete_expired, after which the member may join again.
AWAITING_PAYMENT = ("past_due", "unpaid", "incomplete")
FIRST_PAYMENT = "incomplete"


def _awaited_statuses(user: User) -> set[str]:
    """The statuses of the user's subscriptions that Stripe holds open for an unpaid invoice."""
    return set(
        db.session.scalars(
            select(Subscription.status).where(
                Subscription.user_id == user.id, Subscription.status.in_(AWAITING_PAYMENT)
            )
        )
    )


def awaiting_payment(user: User) -> bool:
    """Tell whether the user has a subscription Stripe holds open for an unpaid invoice."""
    return bool(_awaited_statuses(user))


def first_payment_pending(user: User) -> bool:
    """Tell whether the payment awaited is only a first one (clearing, or to be confirmed)."""
    return _awaited_statuses(user) == {FIRST_PAYMENT}


def checkout_refusal(user: User) -> str | None:
    """Say why the user should not be sent to Checkout, or None when they may join."""
    if has_paid_access(user):
        state = membership_state(user)
        if state.status == "comp":
            # Access by a comp alone: they never paid, and their comp's end is what they need.
            return (
                "Your complimentary membership gives you full access to every article and CE "
                f"course until {format_date(state.current_period_end)}: there is nothing to pay "
                "until then."
            )
        return "You already have full access: no need to pay again."
    if first_payment_pending(user):
        return (
            "Your first payment has not gone through yet: if your bank asks you to confirm it, "
            "finish it in the billing portal; otherwise wait while it clears, rather than "
            "joining again."
        )
    if awaiting_payment(user):
        return (
            "Your membership is waiting for a payment: update your card in the billing portal "
            "to restore it, rather than joining again."
        )
    return None


def success_url() -> str:
    """Absolute URL Stripe returns to after payment ({CHECKOUT_SESSION_ID} is Stripe's)."""
    return public_url("billing.success") + "?session_id={CHECKOUT_SESSION_ID}"

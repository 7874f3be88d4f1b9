"""Stored Stripe events: process each once, record failures and replay.

Every function flushes and never commits; the task, command or admin view around it commits.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update

from campus.accounts.models import User
from campus.billing import disputes
from campus.billing.access import (
    ACCESS_STATUSES,
    ENDED_STATUSES,
    LIVE_STATUSES,
    active_comp,
    grace_ends,
    subscription_grants_access,
)
from campus.billing.closing import without_personal_fields
from campus.billing.models import CheckoutSession, StripeCustomer, Subscription, WebhookEvent
from campus.billing.stripe_api import RequestRefused, gateway
from campus.billing.subscriptions import (
    apply_subscription,
    at_membership_price,
    customer_for,
    deleted_at_stripe,
    email_ended,
    email_started,
    fetch_stamp,
    id_of,
    lock_subscription,
    membership_link,
    to_datetime,
    user_for_customer,
)
from campus.extensions import db
from campus.integers import id_from
from campus.mail.services import queue_email
from campus.models.base import utcnow

log = logging.getLogger(__name__)

# The task that processes one stored event, by name (services never import tasks).
PROCESS_TASK = "campus.billing.process_webhook_event"
HANDLED_EVENTS = (
    "checkout.session.completed",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "customer.subscription.trial_will_end",
    "customer.deleted",
    "invoice.paid",
    "invoice.payment_failed",
    "charge.refunded",
    "charge.dispute.created",
    "charge.dispute.closed",
)


def process_event(event_row_id: int, counted: bool = False) -> WebhookEvent | None:
    """Apply one stored event (once): set its status to processed, ignored (with why) or raise.

    `counted`: a drain's claim already counted this try.
    """
    # Writing first takes the lock before anything is read: the row lock on PostgreSQL, the
    # database write lock on SQLite (where FOR UPDATE does nothing), so two workers handling
    # events of one subscription never compare against state the other is changing.
    db.session.execute(
        update(WebhookEvent)
        .where(
            WebhookEvent.id == event_row_id,
            WebhookEvent.status.in_(("received", "processing", "failed")),
        )
        .values(attempts=WebhookEvent.attempts + (0 if counted else 1))
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
    if (
        row.type == "customer.deleted"
        or row.type.startswith("charge.dispute.")
        or not _customer_known(event)
    ):
        # The customer is gone at Stripe (the member's account often too), or Campus no longer
        # knows it (an event arriving after the account's deletion): Campus has no use for
        # their address and name, which the admin's event list would show for good. A dispute
        # names only its charge, so deleting the account could never find it to do so later.
        row.payload = json.dumps(without_personal_fields(event))
    row.status = status
    row.reason = reason
    row.last_error = None
    row.cut_off_tries = 0  # done: no claimed try is left unfinished
    row.processed_at = utcnow()
    db.session.flush()
    return row


def _customer_known(event: dict[str, Any]) -> bool:
    """Tell whether the event's customer has a record here (True when it names none)."""
    obj = event.get("data", {}).get("object") or {}
    if not isinstance(obj, dict):
        return True
    customer_id = obj.get("id") if obj.get("object") == "customer" else id_of(obj.get("customer"))
    if not isinstance(customer_id, str) or not customer_id:
        return True
    found = db.session.scalar(
        select(StripeCustomer.id).where(StripeCustomer.stripe_customer_id == customer_id)
    ) or db.session.scalar(
        select(Subscription.id).where(Subscription.stripe_customer_id == customer_id).limit(1)
    )
    return found is not None


def find_event(identifier: str) -> WebhookEvent | None:
    """Find a stored event by Stripe event id (evt_...) or by our row id."""
    row = db.session.scalar(select(WebhookEvent).where(WebhookEvent.stripe_event_id == identifier))
    if row is None and (row_id := id_from(identifier)) is not None:
        row = db.session.get(WebhookEvent, row_id)
    return row


def _on_checkout_completed(event: dict[str, Any]) -> tuple[str, str | None]:
    session = event["data"]["object"]
    if session.get("mode") != "subscription":
        return "ignored", "not a subscription checkout"
    ref = session.get("client_reference_id")
    user_id = id_from(ref)
    user = db.session.get(User, user_id) if user_id is not None else None
    if user is None:
        return "ignored", f"unknown user {ref!r}"
    customer_id = id_of(session.get("customer"))
    record = customer_for(user)
    if record is None:
        # Not linked here: another product sold on the same Stripe account may name its own
        # users as Campus names its members. The subscription links it, if it is Campus's.
        owner = user_for_customer(customer_id, str(user.id), link=False)
        gone = customer_id is not None and deleted_at_stripe(customer_id)
        if owner is None or owner.id != user.id or gone:
            return "ignored", _not_linked(user, customer_id)
    elif record.stripe_customer_id != customer_id:
        return "ignored", f"customer {customer_id} is not the user's customer"
    local = db.session.scalar(
        select(CheckoutSession).where(CheckoutSession.stripe_session_id == session.get("id"))
    )
    if local is not None:
        local.status = "complete"
    sub_id = id_of(session.get("subscription"))
    if sub_id is None:
        return "ignored", "the checkout has no subscription yet"
    row = lock_subscription(sub_id)
    if row is None:
        sub = session["subscription"] if isinstance(session.get("subscription"), dict) else None
        sub = sub or gateway().retrieve_subscription(sub_id)
        if sub is None:
            # Stripe answered 404 (made with other keys, or in the other mode): it answers the
            # same every time, so the event is given up after its tries (claims), not requeued.
            raise RequestRefused(f"subscription {sub_id} not found at Stripe")
        status, reason, row = apply_subscription(sub, fetch_stamp(), allow_refetch=False)
        if row is None:
            return status, reason
    # Not for a subscription already over (its deletion came first): the ended email said so.
    # One still incomplete is welcomed when its first invoice is paid (see _write_subscription);
    # one already active was paid, whatever the session said when it completed (a bank debit
    # completes unpaid, and its activation may have been processed first, seen by nobody).
    if subscription_grants_access(row, utcnow()):
        email_started(row)
    return "processed", None


def _not_linked(user: User, customer_id: str | None) -> str:
    """Say why a checkout's customer could not be linked to its member, for the admin."""
    if user.deleted_at is not None:
        return f"the account of user {user.id} is deleted"
    if customer_id is None:
        return "the checkout names no customer"
    if deleted_at_stripe(customer_id):
        return f"customer {customer_id} was deleted at Stripe"
    return f"customer {customer_id} belongs to another user"


def _on_subscription_event(event: dict[str, Any]) -> tuple[str, str | None]:
    status, reason, row = apply_subscription(event["data"]["object"], event["created"])
    if row is not None and row.status == "canceled":
        email_ended(row)  # also when this deletion arrived after a fetch already showed it
    return status, reason


def _on_trial_will_end(event: dict[str, Any]) -> tuple[str, str | None]:
    obj = event["data"]["object"]
    status, reason, row = apply_subscription(obj, event["created"])
    if row is None:
        return status, reason
    trial_end = obj.get("trial_end")
    if row.status != "trialing" or not trial_end:
        return "ignored", "the subscription is no longer trialing"
    if row.cancel_at_period_end:
        # The member cancelled during the trial: it ends with it and nothing is charged, which
        # the cancellation email said; "continues at the price unless you cancel" would not be.
        return "ignored", "the subscription ends with its trial"
    user = db.session.get_one(User, row.user_id)
    queue_email(
        user.email,
        "Your Campus trial ends soon",
        "billing_trial_ending",
        dedupe_key=f"billing:trial:{row.stripe_subscription_id}:{trial_end}",
        user=user,
        trial_end=to_datetime(trial_end),
        current_price=at_membership_price(row),
        link=membership_link(),
    )
    return "processed", None


def _on_customer_deleted(event: dict[str, Any]) -> tuple[str, str | None]:
    customer_id = id_of(event["data"]["object"])
    record = db.session.scalar(
        select(StripeCustomer)
        .where(StripeCustomer.stripe_customer_id == customer_id)
        .with_for_update()
    )
    if record is None:
        return "ignored", f"unknown customer {customer_id}"
    # Stripe refuses every Checkout and portal session for a deleted customer: forget it, so
    # the member's next checkout creates a new one (its subscriptions' own events end them).
    db.session.execute(
        update(CheckoutSession)
        .where(CheckoutSession.stripe_customer_id == customer_id, CheckoutSession.status == "open")
        .values(status="expired")
        .execution_options(synchronize_session=False)
    )
    db.session.delete(record)
    db.session.flush()
    return "processed", None


def _invoice_subscription(event: dict[str, Any]) -> tuple[str | None, Subscription | None]:
    invoice = event["data"]["object"]
    details = ((invoice.get("parent") or {}).get("subscription_details")) or {}
    sub_id = id_of(details.get("subscription"))
    if sub_id is None:
        return None, None
    row = lock_subscription(sub_id)
    if row is None:
        sub = gateway().retrieve_subscription(sub_id)
        if sub is not None:
            _status, _reason, row = apply_subscription(sub, fetch_stamp(), allow_refetch=False)
    return sub_id, row


def _on_invoice_paid(event: dict[str, Any]) -> tuple[str, str | None]:
    sub_id, row = _invoice_subscription(event)
    if sub_id is None:
        return "ignored", "the invoice is not for a subscription"
    if row is None:
        return "ignored", f"unknown subscription {sub_id}"
    # Paid while the mirror says unpaid, or says it ended with a period that Stripe renewed
    # (a resume whose event is late): the subscription's own update may come hours later.
    lapsed = row.status in ACCESS_STATUSES and not subscription_grants_access(row, utcnow())
    if (
        (row.status not in (*ACCESS_STATUSES, *ENDED_STATUSES) or lapsed)
        and event["created"] >= row.source_timestamp
        and (fresh := gateway().retrieve_subscription(sub_id)) is not None
    ):
        # The payment is recorded either way; a fetched state no newer than the stored one
        # (its update came first after all) leaves the mirror as it is.
        apply_subscription(fresh, max(event["created"], fetch_stamp()), allow_refetch=False)
    return "processed", None


def _on_payment_failed(event: dict[str, Any]) -> tuple[str, str | None]:
    invoice = event["data"]["object"]
    sub_id, row = _invoice_subscription(event)
    if sub_id is None:
        return "ignored", "the invoice is not for a subscription"
    if row is None:
        return "ignored", f"unknown subscription {sub_id}"
    if (
        row.status in ACCESS_STATUSES
        and event["created"] >= row.source_timestamp
        and _fetch_failed_subscription(row, invoice, event["created"]) in ACCESS_STATUSES
    ):
        # Paid by a retry (or a new card) before this delivery was processed: nothing to fix.
        return "ignored", "stale: Stripe has the subscription paid"
    if row.status in ENDED_STATUSES:
        # Stripe gave up and ended it (its deletion may arrive first): the "ended" email says
        # so, and no new card can bring this subscription back.
        return "ignored", f"the subscription is {row.status}"
    if row.status in ("active", "trialing") and event["created"] < row.source_timestamp:
        # Delivered late (Stripe retries in no order): the subscription was paid after this
        # failure, and asking the member to update their card now would be wrong.
        return "ignored", "stale: the subscription has been paid since"
    failed_at = to_datetime(event["created"])
    if row.status == "past_due" and failed_at and failed_at < (row.past_due_since or failed_at):
        _date_grace(row, invoice, failed_at)
    user = db.session.get_one(User, row.user_id)
    now = utcnow()
    # Each retry's email gives the same end: the grace runs from the first failure (this one,
    # when the subscription is not past due yet), from when it happened, as the subscription's
    # own past-due event counts it, not from when a late delivery got here. Only a live
    # subscription has a grace: an unpaid or incomplete one gives no access until a payment
    # goes through.
    first_failure = row.past_due_since or to_datetime(event["created"]) or now
    until = grace_ends(first_failure) if row.status in LIVE_STATUSES else None
    if until is not None and until <= now:
        until = None
    # A comp grant keeps access past the card's grace (or without one): that end is the true one.
    comp = active_comp(user.id, now)
    comp_until = (
        comp.ends_at if comp is not None and (until is None or comp.ends_at > until) else None
    )
    queue_email(
        user.email,
        "Your Campus membership payment failed",
        "billing_payment_failed",
        dedupe_key=f"billing:payment_failed:{invoice.get('id')}:{invoice.get('attempt_count')}",
        user=user,
        # The emails write amounts in dollars: one in another currency is left out, not misstated.
        amount=invoice.get("amount_due") if invoice.get("currency") == "usd" else None,
        access_until=None if comp_until is not None else until,
        comp_until=comp_until,
        # A checkout's first invoice: the membership has not started, so none is "kept".
        first_payment=row.status == "incomplete",
        link=membership_link(),
    )
    return "processed", None


def _fetch_failed_subscription(
    row: Subscription, invoice: dict[str, Any], failed_at: int
) -> str | None:
    """Mirror the subscription of a failure newer than the mirror; return Stripe's status.

    Stripe marks it past due with the failure, but the update event saying so may come hours
    later (Stripe retries its deliveries in no order), leaving the member's page and the grace
    to the hourly check. Fetched state is newer than the update: that event then changes nothing.
    """
    fresh = gateway().retrieve_subscription(row.stripe_subscription_id)
    if fresh is None:
        return None
    # Stripe's status decides, not the mirror's: a state fetched in the second of the stored
    # one is left to its own update event to settle (see apply_subscription).
    apply_subscription(fresh, max(failed_at, fetch_stamp()), allow_refetch=False)
    if row.status == "past_due" and _awaits(fresh, invoice):
        # It was live and paid until now: the grace runs from this failure, as its email says,
        # not from the (later) second the state was fetched.
        row.past_due_since = to_datetime(failed_at)
        db.session.flush()
    status = fresh.get("status")
    return status if isinstance(status, str) else None


def _date_grace(row: Subscription, invoice: dict[str, Any], failed_at: datetime) -> None:
    """Count the grace from this failure if it is of the invoice Stripe still awaits.

    A subscription first seen past due in a fetch (another event came first) has its grace
    counted from that fetch, up to Stripe's delivery delay after the failure. A failure of an
    earlier invoice, paid since, must not shorten the grace of this one.
    """
    fresh = gateway().retrieve_subscription(row.stripe_subscription_id)
    if fresh is not None and fresh.get("status") == "past_due" and _awaits(fresh, invoice):
        row.past_due_since = failed_at
        db.session.flush()


def _awaits(sub: dict[str, Any], invoice: dict[str, Any]) -> bool:
    """Tell whether the invoice is the one a subscription still awaits (its latest).

    A failure of an earlier invoice, paid since, says nothing of when this grace began.
    """
    return id_of(sub.get("latest_invoice")) == invoice.get("id")


_HANDLERS = {
    "checkout.session.completed": _on_checkout_completed,
    "customer.subscription.created": _on_subscription_event,
    "customer.subscription.updated": _on_subscription_event,
    "customer.subscription.deleted": _on_subscription_event,
    "customer.subscription.trial_will_end": _on_trial_will_end,
    "customer.deleted": _on_customer_deleted,
    "invoice.paid": _on_invoice_paid,
    "invoice.payment_failed": _on_payment_failed,
    "charge.refunded": disputes.on_charge_refunded,
    "charge.dispute.created": disputes.on_dispute_created,
    "charge.dispute.closed": disputes.on_dispute_closed,
}


def event_counts() -> dict[str, int]:
    """Count stored events by status."""
    rows = db.session.execute(
        select(WebhookEvent.status, func.count()).group_by(WebhookEvent.status)
    ).all()
    return {status: count for status, count in rows}

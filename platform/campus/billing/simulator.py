"""Offline stand-in for Stripe: Stripe-shaped objects in our database and signed webhook events.

Only used when SIMULATED_STRIPE is on (no Stripe key, never in production). The simulator keeps
customers, Checkout Sessions, subscriptions, invoices and events as JSON in
`simulated_stripe_objects`, so the web process, the worker and the CLI see one "Stripe". Every
change emits events that a task signs and posts to /webhooks/stripe, so the same verification,
storage and processing code runs as with real Stripe.
"""

from __future__ import annotations

import calendar
import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from flask import current_app, url_for
from sqlalchemy import select

from campus.accounts.models import User
from campus.billing import simulated_store as store
from campus.billing.closing import without_personal_fields
from campus.billing.models import SimulatedStripeObject
from campus.billing.simulated_store import SimulatorError, get_object, objects
from campus.billing.stripe_api import CustomerMissing, membership_price_id
from campus.extensions import db


def add_month(ts: int) -> int:
    """Return the same day and time one calendar month later (clamped to the month's end)."""
    moment = datetime.fromtimestamp(ts, UTC)
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return int(moment.replace(year=year, month=month, day=day).timestamp())


# --- customers and checkout ------------------------------------------------------------------


def create_customer(user: User, replacing: str | None = None) -> str:
    """Create the user's customer once: the id is derived from the user, like an idempotency key."""
    secret = current_app.config["SECRET_KEY"].encode()
    seed = f"customer:{user.id}" + (f":after:{replacing}" if replacing else "")
    digest = hashlib.sha256(secret + seed.encode()).hexdigest()[:16]
    customer_id = f"cus_sim{digest}"
    if get_object(customer_id) is None:
        store.save(
            {
                "id": customer_id,
                "object": "customer",
                "created": store.now(),
                "email": user.email,
                "name": user.full_name,
                "metadata": {"user_id": str(user.id)},
                "livemode": False,
            }
        )
    return customer_id


def create_checkout_session(
    *, customer_id: str, user: User, success_url: str, cancel_url: str
) -> dict[str, Any]:
    """Open a subscription-mode Checkout Session that the local payment page completes."""
    if get_object(customer_id) is None:
        raise SimulatorError(f"No such customer: {customer_id}")
    now = store.now()
    session_id = store.new_id("cs")
    session = {
        "id": session_id,
        "object": "checkout.session",
        "created": now,
        "expires_at": now + 24 * 3600,
        "mode": "subscription",
        "customer": customer_id,
        "client_reference_id": str(user.id),
        "status": "open",
        "payment_status": "unpaid",
        "subscription": None,
        "invoice": None,
        "amount_total": current_app.config["MEMBERSHIP_PRICE_CENTS"],
        "currency": "usd",
        "line_items_price": membership_price_id(),
        "subscription_data": {"metadata": {"user_id": str(user.id)}},
        "success_url": success_url,
        "cancel_url": cancel_url,
        "url": url_for("billing_sim.checkout", session_id=session_id),
        "metadata": {},
        "livemode": False,
    }
    return store.save(session)


def expire_checkout_session(session_id: str) -> dict[str, Any] | None:
    """Expire an open Checkout Session as Stripe does; None (a refusal) if it is not open."""
    obj = get_object(session_id)
    if obj is None or obj["object"] != "checkout.session":
        return None
    session = store.lock(session_id)
    if session["status"] != "open":
        return None
    session["status"] = "expired"
    store.save(session)
    store.emit("checkout.session.expired", session)
    return session


def _subscription_item(sub_id: str, start: int, end: int) -> dict[str, Any]:
    return {
        "id": store.new_id("si"),
        "object": "subscription_item",
        "subscription": sub_id,
        "quantity": 1,
        "created": start,
        "current_period_start": start,
        "current_period_end": end,
        "price": {
            "id": membership_price_id(),
            "object": "price",
            "active": True,
            "currency": "usd",
            "unit_amount": current_app.config["MEMBERSHIP_PRICE_CENTS"],
            "recurring": {"interval": "month", "interval_count": 1},
            "product": "prod_campus_membership",
        },
    }


def _invoice(sub: dict[str, Any], *, paid: bool, reason: str) -> dict[str, Any]:
    item = sub["items"]["data"][0]
    now = store.now()
    amount = item["price"]["unit_amount"]
    return {
        "id": store.new_id("in"),
        "object": "invoice",
        "created": now,
        "customer": sub["customer"],
        "status": "paid" if paid else "open",
        "billing_reason": reason,
        "currency": "usd",
        "amount_due": amount,
        "amount_paid": amount if paid else 0,
        "amount_remaining": 0 if paid else amount,
        "attempt_count": 1,
        "attempted": True,
        "period_start": item["current_period_start"],
        "period_end": item["current_period_end"],
        "hosted_invoice_url": None,
        "status_transitions": {"paid_at": now if paid else None},
        "parent": {
            "type": "subscription_details",
            "quote_details": None,
            "subscription_details": {
                "subscription": sub["id"],
                "metadata": dict(sub.get("metadata") or {}),
            },
        },
        "livemode": False,
    }


def complete_checkout(session_id: str) -> dict[str, Any]:
    """Pay a Checkout Session: create the subscription and its first invoice, emit the events."""
    session = store.lock(session_id)
    if session["object"] != "checkout.session":
        raise SimulatorError(f"{session_id} is not a Checkout Session")
    if session["status"] != "open":
        return session  # paying twice (a double submit) does nothing more
    now = store.now()
    sub_id = store.new_id("sub")
    sub = {
        "id": sub_id,
        "object": "subscription",
        "created": now,
        "start_date": now,
        "customer": session["customer"],
        "status": "active",
        "cancel_at_period_end": False,
        "cancel_at": None,
        "canceled_at": None,
        "ended_at": None,
        "trial_start": None,
        "trial_end": None,
        "collection_method": "charge_automatically",
        "currency": "usd",
        "metadata": dict(session["subscription_data"]["metadata"]),
        "items": {
            "object": "list",
            "has_more": False,
            "data": [_subscription_item(sub_id, now, add_month(now))],
        },
        "latest_invoice": None,
        "livemode": False,
    }
    invoice = _invoice(sub, paid=True, reason="subscription_create")
    sub["latest_invoice"] = invoice["id"]
    store.save(sub)
    store.save(invoice)
    session.update(status="complete", payment_status="paid", subscription=sub_id)
    session["invoice"] = invoice["id"]
    store.save(session)
    store.emit("customer.subscription.created", sub)
    store.emit("invoice.paid", invoice)
    store.emit("checkout.session.completed", session)
    return session


# --- the lifecycle ---------------------------------------------------------------------------


def _sub_for_change(sub_id: str) -> dict[str, Any]:
    sub = store.lock(sub_id)
    if sub["object"] != "subscription":
        raise SimulatorError(f"{sub_id} is not a subscription")
    if sub["status"] in ("canceled", "incomplete_expired"):
        raise SimulatorError("This subscription has ended.")
    return sub


def _changed(sub: dict[str, Any], before: dict[str, Any]) -> dict[str, Any]:
    return {key: before[key] for key in before if before[key] != sub.get(key)}


def renew(sub_id: str) -> dict[str, Any]:
    """Start the next period: a paid renewal invoice and a later period end."""
    sub = _sub_for_change(sub_id)
    before = {"status": sub["status"], "latest_invoice": sub["latest_invoice"]}
    item = sub["items"]["data"][0]
    before["items"] = json.loads(json.dumps(sub["items"]))
    start = item["current_period_end"]
    item["current_period_start"] = start
    item["current_period_end"] = add_month(start)
    sub["status"] = "active"
    invoice = _invoice(sub, paid=True, reason="subscription_cycle")
    sub["latest_invoice"] = invoice["id"]
    store.save(invoice)
    store.save(sub)
    store.emit("invoice.paid", invoice)
    store.emit("customer.subscription.updated", sub, _changed(sub, before))
    return sub


def fail_payment(sub_id: str) -> dict[str, Any]:
    """Fail the renewal charge: the next period with an open invoice, and past_due."""
    sub = _sub_for_change(sub_id)
    before = {"status": sub["status"], "latest_invoice": sub["latest_invoice"]}
    latest = get_object(sub["latest_invoice"]) if sub.get("latest_invoice") else None
    if latest is not None and latest["status"] == "open":
        invoice = store.lock(latest["id"])  # another attempt on the same open invoice
        invoice["attempt_count"] += 1
    else:
        # The renewal: the new period starts and its invoice cannot be charged.
        before["items"] = json.loads(json.dumps(sub["items"]))
        item = sub["items"]["data"][0]
        item["current_period_start"] = item["current_period_end"]
        item["current_period_end"] = add_month(item["current_period_end"])
        invoice = _invoice(sub, paid=False, reason="subscription_cycle")
    invoice["next_payment_attempt"] = store.now() + 3 * 24 * 3600
    sub["status"] = "past_due"
    sub["latest_invoice"] = invoice["id"]
    store.save(invoice)
    store.save(sub)
    store.emit("invoice.payment_failed", invoice)
    store.emit("customer.subscription.updated", sub, _changed(sub, before))
    return sub


def pay_open_invoice(sub_id: str) -> dict[str, Any]:
    """Pay the open invoice with a new card: the subscription recovers to active."""
    sub = _sub_for_change(sub_id)
    latest = get_object(sub["latest_invoice"]) if sub.get("latest_invoice") else None
    if latest is None or latest["status"] != "open":
        return sub
    invoice = store.lock(latest["id"])
    invoice.update(status="paid", amount_paid=invoice["amount_due"], amount_remaining=0)
    invoice["status_transitions"] = {"paid_at": store.now()}
    invoice["next_payment_attempt"] = None
    before = {"status": sub["status"]}
    sub["status"] = "active"
    store.save(invoice)
    store.save(sub)
    store.emit("invoice.paid", invoice)
    store.emit("customer.subscription.updated", sub, _changed(sub, before))
    return sub


def cancel_at_period_end(sub_id: str) -> dict[str, Any]:
    """Schedule the cancellation for the end of the paid period."""
    sub = _sub_for_change(sub_id)
    if sub["cancel_at_period_end"]:
        return sub
    before = {"cancel_at_period_end": False, "cancel_at": None, "canceled_at": None}
    sub["cancel_at_period_end"] = True
    sub["cancel_at"] = sub["items"]["data"][0]["current_period_end"]
    sub["canceled_at"] = store.now()
    store.save(sub)
    store.emit("customer.subscription.updated", sub, _changed(sub, before))
    return sub


def resume(sub_id: str) -> dict[str, Any]:
    """Undo a scheduled cancellation."""
    sub = _sub_for_change(sub_id)
    if not sub["cancel_at_period_end"]:
        return sub
    before = {
        "cancel_at_period_end": True,
        "cancel_at": sub["cancel_at"],
        "canceled_at": sub["canceled_at"],
    }
    sub.update(cancel_at_period_end=False, cancel_at=None, canceled_at=None)
    store.save(sub)
    store.emit("customer.subscription.updated", sub, _changed(sub, before))
    return sub


def cancel_now(sub_id: str) -> dict[str, Any]:
    """End the subscription at once (what Stripe does at period end or on immediate cancel)."""
    sub = _sub_for_change(sub_id)
    now = store.now()
    sub.update(status="canceled", ended_at=now, canceled_at=sub.get("canceled_at") or now)
    store.save(sub)
    store.emit("customer.subscription.deleted", sub)
    return sub


def delete_customer(customer_id: str) -> None:
    """Delete a customer, as Stripe does: its object goes and `customer.deleted` is emitted."""
    row = db.session.get(SimulatedStripeObject, customer_id)
    if row is None or row.object != "customer":
        return  # deleted already: Stripe answers 404, which the caller treats as done
    customer = json.loads(row.data)
    db.session.delete(row)
    db.session.flush()
    store.emit("customer.deleted", {**customer, "deleted": True})
    # Our own stored events about the customer lose the person when the account is deleted
    # (campus.billing.closing); so do the objects here, the event just emitted among them.
    quoted = f'"{customer_id}"'
    for other in db.session.scalars(
        select(SimulatedStripeObject).where(SimulatedStripeObject.data.contains(quoted))
    ):
        other.data = json.dumps(without_personal_fields(json.loads(other.data)), sort_keys=True)
    db.session.flush()


def update_customer_contact(customer_id: str, email: str, name: str) -> None:
    """Set a customer's email and name, as Stripe does; CustomerMissing for one that is gone."""
    found = get_object(customer_id)
    if found is None or found["object"] != "customer":
        raise CustomerMissing(f"No such customer: '{customer_id}'")
    customer = store.lock(customer_id)
    customer.update(email=email, name=name)
    store.save(customer)


def trial_will_end(sub_id: str) -> dict[str, Any]:
    """Emit customer.subscription.trial_will_end for a trialing subscription."""
    sub = _sub_for_change(sub_id)
    store.emit("customer.subscription.trial_will_end", sub)
    return sub


def latest_subscription(customer_id: str) -> dict[str, Any] | None:
    """Return the customer's newest subscription that has not ended, else the newest one."""
    subs = objects("subscription", customer_id)
    live = [s for s in subs if s["status"] not in ("canceled", "incomplete_expired")]
    found = live or subs
    return found[-1] if found else None


class SimulatedGateway:
    """The Gateway interface answered from the simulator's store."""

    def now(self) -> int:
        return store.now()

    def create_customer(self, user: User, *, replacing: str | None = None) -> str:
        return create_customer(user, replacing)

    def create_checkout_session(
        self, *, customer_id: str, user: User, success_url: str, cancel_url: str
    ) -> dict[str, Any]:
        return create_checkout_session(
            customer_id=customer_id, user=user, success_url=success_url, cancel_url=cancel_url
        )

    def retrieve_checkout_session(self, session_id: str) -> dict[str, Any] | None:
        obj = get_object(session_id)
        return obj if obj and obj["object"] == "checkout.session" else None

    def expire_checkout_session(self, session_id: str) -> dict[str, Any] | None:
        return expire_checkout_session(session_id)

    def list_checkout_sessions(self, customer_id: str, since: int) -> list[dict[str, Any]]:
        sessions = objects("checkout.session", customer_id)
        return [session for session in sessions if session["created"] >= since]

    def retrieve_subscription(self, subscription_id: str) -> dict[str, Any] | None:
        obj = get_object(subscription_id)
        return obj if obj and obj["object"] == "subscription" else None

    def list_subscriptions(self, customer_id: str) -> list[dict[str, Any]]:
        return objects("subscription", customer_id)

    def retrieve_charge(self, charge_id: str) -> dict[str, Any] | None:
        return None  # the simulator keeps no charges: none is ever refunded or disputed

    def create_portal_session(self, *, customer_id: str, return_url: str) -> str:
        return url_for("billing_sim.portal")

    def cancel_subscription(self, subscription_id: str) -> None:
        obj = get_object(subscription_id)
        if obj is not None and obj["status"] not in ("canceled", "incomplete_expired"):
            cancel_now(subscription_id)

    def delete_customer(self, customer_id: str) -> None:
        delete_customer(customer_id)

    def update_customer_contact(self, customer_id: str, *, email: str, name: str) -> None:
        update_customer_contact(customer_id, email, name)

    def retrieve_customer(self, customer_id: str) -> dict[str, Any] | None:
        obj = get_object(customer_id)
        return obj if obj and obj["object"] == "customer" else None

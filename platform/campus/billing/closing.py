"""A member's billing at the end of their account: what they paid, and closing it at Stripe.

Used by campus.records when a member downloads their data or deletes their account. Stripe is
told first (every live subscription cancelled, then the customer deleted), so a refusal from
Stripe leaves everything here as it was and the member can try again.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import delete, or_, select

from campus.accounts.models import User
from campus.billing.access import ENDED_STATUSES
from campus.billing.models import (
    CheckoutSession,
    CompMembership,
    StripeCustomer,
    Subscription,
    WebhookEvent,
)
from campus.billing.stripe_api import CustomerMissing, PaymentProviderError, gateway
from campus.billing.subscriptions import customer_for
from campus.extensions import db


def payments_summary(user: User) -> dict[str, Any]:
    """Describe the member's billing records (no card data is ever stored here)."""
    customer = customer_for(user)
    subscriptions = db.session.scalars(
        select(Subscription).where(Subscription.user_id == user.id).order_by(Subscription.id)
    ).all()
    comps = db.session.scalars(
        select(CompMembership).where(CompMembership.user_id == user.id).order_by(CompMembership.id)
    ).all()
    return {
        "stripe_customer_id": customer.stripe_customer_id if customer else None,
        "subscriptions": [
            {
                "stripe_subscription_id": s.stripe_subscription_id,
                "status": s.status,
                "price_id": s.price_id,
                "started_at": _iso(s.created_at),
                "current_period_end": _iso(s.current_period_end),
                "cancel_at_period_end": s.cancel_at_period_end,
                "canceled_at": _iso(s.canceled_at),
                "ended_at": _iso(s.ended_at),
            }
            for s in subscriptions
        ],
        "complimentary_memberships": [
            {
                "starts_at": _iso(c.starts_at),
                "ends_at": _iso(c.ends_at),
                "reason": c.reason,
                "revoked_at": _iso(c.revoked_at),
            }
            for c in comps
        ],
        "note": "Card details and invoices are held by Stripe, our payment processor.",
    }


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _customer_ids(user: User) -> list[str]:
    """Every Stripe customer id we know for the user (the record, and any mirrored one)."""
    found: list[str] = []
    customer = customer_for(user)
    if customer is not None:
        found.append(customer.stripe_customer_id)
    for customer_id in db.session.scalars(
        select(Subscription.stripe_customer_id).where(Subscription.user_id == user.id)
    ):
        if customer_id not in found:
            found.append(customer_id)
    return found


class ClosingInterrupted(PaymentProviderError):
    """Stripe failed part way: nothing changed here, but these subscriptions are cancelled."""

    def __init__(self, message: str, cancelled: list[str]) -> None:
        super().__init__(message)
        self.cancelled = cancelled


def close_at_stripe(user: User) -> list[str]:
    """Cancel the member's live subscriptions, then delete their customers; return the calls.

    Raises PaymentProviderError (nothing changed here) when Stripe cannot be reached, as
    ClosingInterrupted once a subscription was cancelled. Both calls accept an object that is
    already gone, so a retry after a half-finished attempt completes.
    """
    done: list[str] = []
    try:
        _close(user, done)
    except PaymentProviderError as exc:
        cancelled = [call for call in done if call.startswith("cancelled ")]
        if cancelled:
            # The member must hear that their membership ended, not that it could not be.
            raise ClosingInterrupted(str(exc), cancelled) from exc
        raise
    return done


def _close(user: User, done: list[str]) -> None:
    """Make close_at_stripe's calls, recording each in `done` as it succeeds."""
    stripe = gateway()
    for customer_id in _customer_ids(user):
        try:
            subscriptions = stripe.list_subscriptions(customer_id)
        except CustomerMissing:
            # Stripe holds nothing of this customer (deleted there, or made with other keys):
            # nothing to cancel or delete, and the member must still be able to leave.
            done.append(f"{customer_id} unknown to Stripe")
            continue
        for sub in subscriptions:
            # An ended one cannot be cancelled again: Stripe refuses it.
            if sub.get("status") not in ENDED_STATUSES:
                stripe.cancel_subscription(sub["id"])
                done.append(f"cancelled {sub['id']}")
        stripe.delete_customer(customer_id)
        done.append(f"deleted {customer_id}")


# What Stripe's objects say about the person (customer, invoice, checkout session, charge,
# payment intent, a dispute's evidence), and the links to Stripe's receipt and invoice pages,
# which show anyone holding them the person's email and address.
PERSONAL_FIELDS = frozenset(
    {
        "email",
        "name",
        "phone",
        "address",
        "shipping",
        "customer_email",
        "customer_name",
        "customer_phone",
        "customer_address",
        "customer_shipping",
        "customer_details",
        "customer_tax_ids",
        "shipping_details",
        "billing_details",
        "collected_information",
        "receipt_email",
        "receipt_url",
        # A dispute's evidence (what is sent to the bank about the person).
        "customer_email_address",
        "customer_purchase_ip",
        "billing_address",
        "shipping_address",
        "hosted_invoice_url",
        "invoice_pdf",
    }
)


def without_personal_fields(value: Any) -> Any:
    """A Stripe payload without the fields that name, reach or locate the person."""
    if isinstance(value, list):
        return [without_personal_fields(item) for item in value]
    if isinstance(value, dict):
        return {
            key: without_personal_fields(item)
            for key, item in value.items()
            if key not in PERSONAL_FIELDS
        }
    return value


def _forget_event_details(customer_ids: list[str]) -> int:
    """Take the person out of the stored events about these customers; return how many."""
    if not customer_ids:
        return 0
    # Quoted so "cus_1" never matches "cus_12". The events stay: what was billed, and when.
    mentions = [WebhookEvent.payload.contains(f'"{value}"') for value in customer_ids]
    changed = 0
    for row in db.session.scalars(select(WebhookEvent).where(or_(*mentions))):
        payload = json.dumps(without_personal_fields(json.loads(row.payload)))
        if payload != row.payload:
            row.payload = payload
            changed += 1
    return changed


def forget_billing(user: User) -> dict[str, int]:
    """Delete the member's billing rows (customer, subscriptions, checkouts, comp grants).

    The stored Stripe events about their customers stay, without the person's details.
    """
    counts = {"webhook_events": _forget_event_details(_customer_ids(user))}
    for model in (Subscription, CheckoutSession, CompMembership, StripeCustomer):
        result = db.session.execute(
            delete(model)
            .where(model.user_id == user.id)
            .execution_options(synchronize_session=False)
        )
        counts[model.__tablename__] = int(getattr(result, "rowcount", 0) or 0)
    return counts

"""A member's billing at the end of their account: what they paid, and closing it at Stripe.

Used by campus.records when a member downloads their data or deletes their account. Stripe is
told first (every live subscription cancelled, then the customer deleted), so a refusal from
Stripe leaves everything here as it was and the member can try again.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select

from campus.accounts.models import User
from campus.billing.access import ENDED_STATUSES
from campus.billing.models import CheckoutSession, CompMembership, StripeCustomer, Subscription
from campus.billing.stripe_api import CustomerMissing, gateway
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


def close_at_stripe(user: User) -> list[str]:
    """Cancel the member's live subscriptions, then delete their customers; return the calls.

    Raises PaymentProviderError (nothing changed here) when Stripe cannot be reached. Both calls
    accept an object that is already gone, so a retry after a half-finished attempt completes.
    """
    stripe = gateway()
    done: list[str] = []
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
    return done


def forget_billing(user: User) -> dict[str, int]:
    """Delete the member's billing rows (customer, subscriptions, checkouts, comp grants)."""
    counts = {}
    for model in (Subscription, CheckoutSession, CompMembership, StripeCustomer):
        result = db.session.execute(
            delete(model)
            .where(model.user_id == user.id)
            .execution_options(synchronize_session=False)
        )
        counts[model.__tablename__] = int(getattr(result, "rowcount", 0) or 0)
    return counts

"""Mirror a customer's subscriptions as Stripe has them now: the member's own sync, reconcile.

Every function flushes and never commits; the view or task around it commits once.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select

from campus.audit import record, snapshot
from campus.billing.access import ENDED_STATUSES
from campus.billing.models import StripeCustomer, Subscription
from campus.billing.stripe_api import gateway
from campus.billing.subscriptions import (
    apply_subscription,
    differs,
    end_paused_beside_access,
    id_of,
    lock_subscription,
)
from campus.extensions import db

log = logging.getLogger(__name__)


def sync_customer(record: StripeCustomer, stamp: int) -> tuple[int, int]:
    """Mirror a customer's subscriptions as Stripe has them; return (seen, changed)."""
    seen = changed = 0
    for sub in gateway().list_subscriptions(record.stripe_customer_id):
        seen += 1
        changed += _mirror(sub, stamp)
    # One that Stripe could not end when another began to give access (it was down then).
    end_paused_beside_access(record.user_id)
    return seen, changed


def _mirror(sub: Any, stamp: int) -> bool:
    """Apply one subscription as Stripe has it; tell whether that repaired a drift."""
    # Compared under the lock: an event applied meanwhile is no drift for the sync to log.
    existing = lock_subscription(id_of(sub))
    drift = existing is None or differs(existing, sub)
    before = snapshot(existing) if existing is not None else None
    status, _reason, row = apply_subscription(sub, stamp, allow_refetch=False)
    if drift and status == "processed" and row is not None:
        log.info("synced subscription %s -> %s", row.stripe_subscription_id, row.status)
        _log_repair(row, before)
        return True
    return False


def _log_repair(row: Subscription, before: dict[str, Any] | None) -> None:
    """Log a repair on the member's history: no stored event explains this change of access."""
    was = before["status"] if before else "not mirrored"
    record(
        "subscription_synced",
        object_type="User",
        object_id=row.user_id,
        summary=f"{row.stripe_subscription_id}: {was} -> {row.status} (synced from Stripe)",
        before=before,
        after=snapshot(row),
        system=True,  # the hourly run, or an operator's `billing sync`: no one's choice
    )


def forgotten_customers() -> list[str]:
    """The customers of live mirrored subscriptions that no customer record names any more."""
    return list(
        db.session.scalars(
            select(Subscription.stripe_customer_id)
            .where(
                Subscription.status.not_in(ENDED_STATUSES),
                Subscription.stripe_customer_id.not_in(select(StripeCustomer.stripe_customer_id)),
            )
            .distinct()
        )
    )


def sync_mirrored(customer_id: str, stamp: int) -> tuple[int, int]:
    """Mirror one by one the live subscriptions held here for a customer Stripe cannot list.

    Deleting a customer ends its subscriptions at Stripe, which still answers for each of them:
    without this, a member whose deletion events were lost would keep access for nothing.
    Returns (seen, changed).
    """
    seen = changed = 0
    sub_ids = db.session.scalars(
        select(Subscription.stripe_subscription_id).where(
            Subscription.stripe_customer_id == customer_id,
            Subscription.status.not_in(ENDED_STATUSES),
        )
    ).all()
    for sub_id in sub_ids:
        sub = gateway().retrieve_subscription(sub_id)
        if sub is None:
            continue  # unknown to Stripe as well (made with other keys): nothing to compare
        seen += 1
        changed += _mirror(sub, stamp)
    return seen, changed

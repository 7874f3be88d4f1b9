"""Reconciliation: requeue stuck events, then compare every customer's subscriptions with Stripe."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select

from campus.billing.claims import given_up
from campus.billing.customer_email import repair_customer_email
from campus.billing.events import PROCESS_TASK
from campus.billing.models import StripeCustomer, WebhookEvent
from campus.billing.stripe_api import CustomerMissing, PaymentProviderError
from campus.billing.subscriptions import fetch_stamp
from campus.billing.syncing import forgotten_customers, sync_customer, sync_mirrored
from campus.extensions import db
from campus.jobs import enqueue_after_commit
from campus.models.base import utcnow

log = logging.getLogger(__name__)

# --- reconciliation --------------------------------------------------------------------------


# After this many customers in a row that Stripe could not answer for, it is down: the rest
# wait for the next run rather than each spending the full timeout.
MAX_UNANSWERED_IN_A_ROW = 3


def reconcile(
    stale_after_minutes: int = 10, settle: Callable[[], None] | None = None
) -> dict[str, int]:
    """Requeue stuck events, then compare every customer's subscriptions and email with Stripe.

    `settle` runs after the requeue and after each customer: the task and the command commit
    there, so what is done is kept (a worker killed halfway loses only the customer in hand)
    and each subscription's row lock is let go before Stripe is asked about the next customer.
    """
    settle = settle or db.session.flush
    counts = {
        "customers": 0,
        "subscriptions": 0,
        "repaired": 0,
        "requeued": 0,
        "unknown": 0,
        "unreachable": 0,
        "emails": 0,
    }
    # First: it needs no Stripe, so neither Stripe being away nor a run cut short stops it.
    counts["requeued"] = _requeue_stuck(stale_after_minutes)
    settle()
    customer_ids = db.session.scalars(select(StripeCustomer.id).order_by(StripeCustomer.id)).all()
    stamp = fetch_stamp()
    in_a_row = 0
    for customer_id in customer_ids:
        record = db.session.get(StripeCustomer, customer_id)
        if record is None:
            continue  # deleted with its account since the list was read
        counts["customers"] += 1
        try:
            seen, repaired = _sync_record(record, stamp, counts)
        except PaymentProviderError as exc:
            # A timeout, a 500 or a 429 (nothing was written for this customer: the listing
            # comes first). It must not undo the repairs made so far; the next run tries again.
            log.warning("reconciliation could not check %s: %s", record.stripe_customer_id, exc)
            counts["unreachable"] += 1
            in_a_row += 1
            if in_a_row >= MAX_UNANSWERED_IN_A_ROW:
                counts["unreachable"] += len(customer_ids) - counts["customers"]
                break
            continue
        in_a_row = 0
        counts["subscriptions"] += seen
        counts["repaired"] += repaired
        settle()
        # One read of the customer each: the sync sent at an email change may have been lost.
        counts["emails"] += repair_customer_email(record, settle)
    else:
        _sync_forgotten_customers(counts, stamp, settle)
    return counts


def _sync_record(record: StripeCustomer, stamp: int, counts: dict[str, int]) -> tuple[int, int]:
    """Sync one customer's subscriptions; return (seen, changed)."""
    try:
        return sync_customer(record, stamp)
    except CustomerMissing as exc:
        # One customer Stripe does not know (made with other keys, deleted unseen) must not
        # stop every other member's repair; its subscriptions are asked about one by one.
        log.warning(
            "reconciliation: Stripe does not know customer %s: %s", record.stripe_customer_id, exc
        )
        counts["unknown"] += 1
        return sync_mirrored(record.stripe_customer_id, stamp)


def _sync_forgotten_customers(
    counts: dict[str, int], stamp: int, settle: Callable[[], None]
) -> None:
    """Check the live subscriptions of customers no longer recorded here (deleted at Stripe)."""
    for customer_id in forgotten_customers():
        try:
            seen, repaired = sync_mirrored(customer_id, stamp)
        except PaymentProviderError as exc:
            log.warning("reconciliation could not check %s: %s", customer_id, exc)
            counts["unreachable"] += 1
            continue
        counts["subscriptions"] += seen
        counts["repaired"] += repaired
        settle()


def _requeue_stuck(stale_after_minutes: int) -> int:
    """Send again the events left received or failed longer than that; return how many.

    Not one given up with its tries spent (claims): only a replay takes it up again.
    """
    cutoff = utcnow() - timedelta(minutes=stale_after_minutes)
    stuck = db.session.scalars(
        select(WebhookEvent).where(
            WebhookEvent.status.in_(("received", "failed")),
            WebhookEvent.updated_at < cutoff,
            ~given_up(),
        )
    ).all()
    for row in stuck:
        row.updated_at = utcnow()
        enqueue_after_commit(PROCESS_TASK, row.id)
    db.session.flush()
    return len(stuck)

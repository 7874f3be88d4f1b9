"""Refunds and disputes of a member's payments: on their history; a lost dispute ends it.

Stripe neither cancels a subscription whose payment was disputed nor one whose payment was
refunded. A refund is an admin's own act at Stripe (a goodwill month, a mistaken charge), so it
is only recorded: ending the membership as well is a second act there, whose deletion event
ends access here. A lost dispute means the bank took the payment back: the member's live
subscriptions are ended at once, or they would keep the paid access and be billed again.

Every function flushes and never commits; the task around it commits once.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from campus.accounts.models import User
from campus.audit import AuditEntry, record
from campus.billing.access import ENDED_STATUSES
from campus.billing.models import Subscription
from campus.billing.stripe_api import gateway
from campus.billing.subscriptions import end_at_stripe, id_of, user_for_customer
from campus.extensions import db

Outcome = tuple[str, str | None]


def _money(amount: Any, currency: Any) -> str:
    """Stripe's minor units as "19.95 USD" (every currency Campus charges in has cents)."""
    cents = amount if isinstance(amount, int) else 0
    return f"{cents / 100:.2f} {str(currency or '').upper()}".strip()


def _noted(user: User, action: str, event: dict[str, Any]) -> bool:
    """Tell whether the event's news is already on the member's history (processed before)."""
    noted = db.session.scalar(
        select(AuditEntry.id)
        .where(
            AuditEntry.action == action,
            AuditEntry.object_type == "User",
            AuditEntry.object_id == str(user.id),
            AuditEntry.after["stripe_event_id"].as_string() == str(event.get("id")),
        )
        .limit(1)
    )
    return noted is not None


def _note(user: User, action: str, summary: str, event: dict[str, Any]) -> Outcome:
    """Put the event's news on the member's history, once however often it is processed."""
    if not _noted(user, action, event):
        # The event's id, which a replay of it (the admin's, or `billing replay`) finds here.
        after = {"stripe_event_id": str(event.get("id"))}
        record(
            action,
            object_type="User",
            object_id=user.id,
            summary=summary,
            after=after,
            system=True,
        )
    return "processed", None


def on_charge_refunded(event: dict[str, Any]) -> Outcome:
    """Record a refund of a member's payment on their history."""
    charge = event["data"]["object"]
    user = user_for_customer(id_of(charge.get("customer")))
    if user is None:
        return "ignored", f"unknown customer {id_of(charge.get('customer'))}"
    refunded = _money(charge.get("amount_refunded"), charge.get("currency"))
    whole = " in full" if charge.get("refunded") is True else ""
    summary = f"{charge.get('id')}: {refunded} refunded{whole}"
    return _note(user, "payment_refunded", summary, event)


def _disputed(dispute: dict[str, Any]) -> tuple[User | None, str | None]:
    """The member whose charge a dispute is about (a dispute names no customer), and why not."""
    charge_id = id_of(dispute.get("charge"))
    charge = gateway().retrieve_charge(charge_id) if charge_id else None
    if charge is None:
        return None, f"unknown charge {charge_id}"
    user = user_for_customer(id_of(charge.get("customer")))
    return user, None if user is not None else f"unknown customer of charge {charge_id}"


def on_dispute_created(event: dict[str, Any]) -> Outcome:
    """Record a member's dispute; access stays until it is lost (it may be won)."""
    dispute = event["data"]["object"]
    user, why = _disputed(dispute)
    if user is None:
        return "ignored", why
    amount = _money(dispute.get("amount"), dispute.get("currency"))
    reason = dispute.get("reason") or "no reason given"
    summary = f"{dispute.get('id')}: {amount} disputed ({reason})"
    return _note(user, "payment_disputed", summary, event)


def on_dispute_closed(event: dict[str, Any]) -> Outcome:
    """Record how a dispute ended; a lost one ends the member's live subscriptions at Stripe."""
    dispute = event["data"]["object"]
    user, why = _disputed(dispute)
    if user is None:
        return "ignored", why
    status = str(dispute.get("status"))
    # Once only: replayed after the member joined again, it must not end the new membership,
    # which the lost payment never paid for. Its first processing ended what it was about.
    first = not _noted(user, "payment_dispute_closed", event)
    lost = status == "lost" and first
    ended = _end_live_subscriptions(user, event["created"]) if lost else []
    tail = f"; ended {', '.join(ended)}" if ended else ""
    summary = f"{dispute.get('id')}: {status}{tail}"
    return _note(user, "payment_dispute_closed", summary, event)


def _end_live_subscriptions(user: User, closed_at: int) -> list[str]:
    """End at Stripe the member's live subscriptions begun by `closed_at`; return their ids."""
    live = db.session.execute(
        select(Subscription.stripe_subscription_id, Subscription.source_timestamp).where(
            Subscription.user_id == user.id, Subscription.status.not_in(ENDED_STATUSES)
        )
    ).all()
    ended = []
    for sub_id, stored in live:
        # A try that failed after ending some (Stripe gone midway) wrote no history entry, so
        # its retry or replay ends what is live then: the member may have joined again since,
        # and that membership the lost payment never paid for.
        found = gateway().retrieve_subscription(sub_id)
        began = found.get("created") if found is not None else None
        if isinstance(began, int) and not isinstance(began, bool) and began > closed_at:
            continue
        end_at_stripe(sub_id, stored)
        ended.append(sub_id)
    return ended

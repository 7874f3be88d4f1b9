"""The mirror of Stripe's subscriptions: apply a subscription's state in the right order.

Ordering rule: each mirrored subscription remembers the Stripe timestamp of the state it holds
(`source_timestamp`). An event older than that is ignored as stale; an event from the same second
that disagrees is settled by fetching the subscription from Stripe. State fetched outside an
event is stamped a few seconds before "now", so a change Stripe made just before the fetch (or a
small clock difference) can still be applied by its own event; an event from those seconds that
disagrees is settled by a fetch too, as it may be older than the fetched state. State always
converges to the newest event, and the mirror never steps back to an older one on the way.

Every function flushes and never commits; the view or task around it commits once.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from campus.accounts.models import User
from campus.audit import record
from campus.billing.access import (
    ACCESS_STATUSES,
    ENDED_STATUSES,
    LIVE_STATUSES,
    PAUSED_STATUS,
    membership_state,
    past_due_grace_ends,
)
from campus.billing.models import CheckoutSession, StripeCustomer, Subscription, WebhookEvent
from campus.billing.stripe_api import PaymentProviderError, gateway, membership_price_id
from campus.extensions import db
from campus.integers import id_from
from campus.mail.services import queue_email
from campus.models.base import utcnow
from campus.models.writes import lock_row
from campus.urls import public_url

log = logging.getLogger(__name__)

# Fetched state is stamped this many seconds before the fetch (see the module docstring).
FETCH_MARGIN_SECONDS = 5


def to_datetime(value: Any) -> datetime | None:
    """Turn a Stripe timestamp (seconds, or None) into an aware UTC datetime."""
    if value is None:
        return None
    return datetime.fromtimestamp(int(value), UTC)


def id_of(value: Any) -> str | None:
    """Return an object id whether Stripe sent the id or the expanded object."""
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) and value else None


def customer_for(user: User) -> StripeCustomer | None:
    """Return the user's Stripe customer record, if one exists."""
    return db.session.scalar(select(StripeCustomer).where(StripeCustomer.user_id == user.id))


def customer_contact(user_id: int) -> tuple[str, str, str] | None:
    """Return (Stripe customer id, email, name) of a user with a customer, as committed now.

    None for a user without a customer, and for a deleted account: its address is a
    placeholder and its name kept only for its CE records; Stripe must never be given either.
    """
    found = db.session.execute(
        select(StripeCustomer.stripe_customer_id, User.email, User.full_name)
        .join(User, User.id == StripeCustomer.user_id)
        .where(StripeCustomer.user_id == user_id, User.deleted_at.is_(None))
    ).first()
    return (found[0], found[1], found[2]) if found is not None else None


def fetch_stamp() -> int:
    """The timestamp state fetched from Stripe now is stamped with (see the module docstring)."""
    return gateway().now() - FETCH_MARGIN_SECONDS


def user_for_customer(
    customer_id: str | None, metadata_user_id: Any = None, *, link: bool = True
) -> User | None:
    """Find the user of a Stripe customer by our customer record (never by email).

    A customer we have never seen is linked to the user named in the metadata Campus itself
    put there, but only if that user has no customer yet; without `link` that user is
    returned but the customer is not recorded as theirs.
    """
    if not customer_id:
        return None
    record = db.session.scalar(
        select(StripeCustomer).where(StripeCustomer.stripe_customer_id == customer_id)
    )
    if record is not None:
        return db.session.get(User, record.user_id)
    user_id = id_from(metadata_user_id)
    if user_id is None:
        return None
    user = db.session.get(User, user_id)
    # A deleted account's late events (its cancellation) must not bring billing data back.
    if user is None or user.deleted_at is not None or customer_for(user) is not None:
        return None
    if not link:
        return user
    if deleted_at_stripe(customer_id):
        # Its deletion ended its subscriptions: a late event showing one live opens nothing,
        # and a customer Stripe refuses every checkout and portal for is no one's to keep.
        return None
    try:
        with db.session.begin_nested():
            db.session.add(StripeCustomer(user_id=user.id, stripe_customer_id=customer_id))
    except IntegrityError:
        # Another event of this customer, processed at the same moment, linked it first: that
        # link is this user's too, and this event must not be lost as an unknown customer's.
        linked = db.session.scalar(
            select(StripeCustomer.user_id).where(StripeCustomer.stripe_customer_id == customer_id)
        )
        return user if linked == user.id else None
    return user


def deleted_at_stripe(customer_id: str) -> bool:
    """Tell whether Stripe told us (a stored customer.deleted event) it deleted this customer."""
    found = db.session.scalar(
        select(WebhookEvent.id)
        .where(
            WebhookEvent.type == "customer.deleted",
            WebhookEvent.payload.contains(f'"{customer_id}"'),  # quoted: not cus_12 for cus_1
        )
        .limit(1)
    )
    return found is not None


def lock_subscription(sub_id: str | None) -> Subscription | None:
    """Hold a mirrored subscription's row lock, then load it by Stripe id as committed now."""
    row_id = db.session.scalar(
        select(Subscription.id).where(Subscription.stripe_subscription_id == sub_id)
    )
    if row_id is None:
        return None
    # The lock first (FOR UPDATE alone takes none on SQLite), then the row read again: a copy
    # this session loaded before (the sync reads the mirror to compare it with Stripe) would
    # hide a newer state an event committed meanwhile, and writing over it would undo it.
    lock_row(Subscription, row_id)
    return db.session.scalar(
        select(Subscription)
        .where(Subscription.id == row_id)
        .execution_options(populate_existing=True)
    )


def _period_end(obj: dict[str, Any]) -> datetime | None:
    ends = [
        item.get("current_period_end")
        for item in (obj.get("items") or {}).get("data") or []
        if item.get("current_period_end")
    ]
    return to_datetime(max(ends)) if ends else None


def _paid_until(obj: dict[str, Any]) -> tuple[datetime | None, bool]:
    """When the paid time ends, and whether the subscription ends for good then.

    Stripe ends a subscription at `cancel_at` whether or not `cancel_at_period_end` is set (a
    cancellation on a chosen date sets only `cancel_at`): one due before the period ends cuts
    the paid time short, and one due later leaves this period renewing as usual.
    """
    period_end = _period_end(obj)
    if obj.get("cancel_at_period_end"):
        return period_end, True  # at the end of the current period, whatever cancel_at says
    raw = obj.get("cancel_at")
    cancel_at = to_datetime(raw) if isinstance(raw, int) and not isinstance(raw, bool) else None
    if cancel_at is not None and (period_end is None or cancel_at <= period_end):
        return cancel_at, True
    return period_end, False


def _price_of(obj: dict[str, Any]) -> str | None:
    items = (obj.get("items") or {}).get("data") or []
    return id_of(items[0].get("price")) if items else None


def at_membership_price(row: Subscription) -> bool:
    """Tell whether a subscription is charged the membership's current price (pages say it).

    One at a former price (the price changed after the member joined) renews at that price,
    which Campus does not know: its amount is left out, not misstated.
    """
    return row.price_id is None or row.price_id == membership_price_id()


def _opened_by_campus(obj: dict[str, Any], customer_id: str | None) -> bool:
    """Tell whether Campus's own Checkout started this subscription, whatever its price.

    Every checkout Campus opens names the member in its subscription's metadata, and is stored
    with its customer. Another product sold on the same Stripe account may name its own users
    there as well: the member must have opened a checkout here with this customer, which must
    be theirs too (or no one's yet).
    """
    named = id_from((obj.get("metadata") or {}).get("user_id"))
    if named is None or customer_id is None:
        return False
    opened = db.session.scalar(
        select(CheckoutSession.id)
        .where(CheckoutSession.user_id == named, CheckoutSession.stripe_customer_id == customer_id)
        .limit(1)
    )
    user = user_for_customer(customer_id, str(named), link=False) if opened else None
    return user is not None and user.id == named


def differs(row: Subscription, obj: dict[str, Any]) -> bool:
    """Tell whether Stripe's state of a subscription changes its status or paid time here."""
    return row.status != obj.get("status") or (
        row.current_period_end,
        row.cancel_at_period_end,
    ) != _paid_until(obj)


def apply_subscription(
    obj: dict[str, Any], stamp: int, *, allow_refetch: bool = True
) -> tuple[str, str | None, Subscription | None]:
    """Mirror a Stripe subscription as of `stamp` unless newer state is stored."""
    sub_id = id_of(obj)
    if not sub_id or obj.get("object") != "subscription" or not isinstance(obj.get("status"), str):
        return "ignored", "not a subscription object", None
    customer_id = id_of(obj.get("customer"))
    row = lock_subscription(sub_id)
    if row is None:
        # Only the membership's price starts a mirror, or a checkout Campus opened at a former
        # one (the price changed while the member paid); one already mirrored follows Stripe
        # whatever its price now (a price change must not keep a cancelled member's access).
        price = _price_of(obj)
        if price is None or (
            price != membership_price_id() and not _opened_by_campus(obj, customer_id)
        ):
            return "ignored", f"unknown price {price}", None
        # An ended subscription is mirrored (an older event must not bring it back) but does
        # not link its customer: often Stripe ended it by deleting the customer, forgotten here.
        user = user_for_customer(
            customer_id,
            (obj.get("metadata") or {}).get("user_id"),
            link=obj["status"] not in ENDED_STATUSES,
        )
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
            row = lock_subscription(sub_id)
            if row is None:
                raise
    elif row.stripe_customer_id != customer_id:
        return "ignored", f"subscription {sub_id} belongs to another customer", row
    if stamp < row.source_timestamp:
        return "ignored", "stale: newer state is already stored", row
    if allow_refetch and row.status in ENDED_STATUSES and obj["status"] not in ENDED_STATUSES:
        # Stripe never brings an ended subscription back: an event showing it live is from
        # before its end, whatever second it carries, and must not reopen access when Stripe
        # cannot settle it. (A state fetched now is Stripe's word: it may repair a drift.)
        return "ignored", "stale: the subscription has ended", row
    if stamp - row.source_timestamp <= FETCH_MARGIN_SECONDS and differs(row, obj):
        # Two states from the same second, or an event from the seconds a fetched state is
        # stamped back: the stored state may be the newer one, and applying the event would
        # undo it for a moment and email a "resumed" and a second "cancel scheduled" that never
        # happened. Only Stripe knows which is current.
        if allow_refetch:
            fresh = gateway().retrieve_subscription(sub_id)
            if fresh is not None:
                # Stripe's state now, stamped as every fetched state is: an event from before
                # the fetch, already part of it, cannot then step the mirror back.
                obj, stamp = fresh, max(stamp, fetch_stamp())
        elif stamp == row.source_timestamp:
            return "ignored", "stale: same-second state is already stored", row
    _write_subscription(row, obj, stamp)
    return "processed", None, row


def _write_subscription(row: Subscription, obj: dict[str, Any], stamp: int) -> None:
    previous = row.status if row.source_timestamp >= 0 else None
    was_ending = bool(row.cancel_at_period_end) and previous is not None
    row.status = obj["status"]
    row.price_id = _price_of(obj)
    row.current_period_end, row.cancel_at_period_end = _paid_until(obj)
    row.trial_end = to_datetime(obj.get("trial_end"))
    row.canceled_at = to_datetime(obj.get("canceled_at"))
    row.ended_at = to_datetime(obj.get("ended_at"))
    if row.status == "past_due":
        if previous != "past_due" or row.past_due_since is None:
            row.past_due_since = to_datetime(stamp) or utcnow()
    else:
        row.past_due_since = None
    row.source_timestamp = stamp
    db.session.flush()
    if previous == "incomplete" and row.status in ACCESS_STATUSES:
        # The first invoice was paid: a checkout's completion processed while the subscription
        # was still incomplete welcomed nobody, so its activation does (once, by the key).
        email_started(row)
    if row.status in ACCESS_STATUSES and previous not in ACCESS_STATUSES:
        _end_paused_beside(row)
    if row.status == "canceled":
        email_ended(row)
    elif row.cancel_at_period_end and not was_ending:
        _email_cancel_change(row, "cancel_scheduled", stamp)
    elif was_ending and not row.cancel_at_period_end and row.status in LIVE_STATUSES:
        _email_cancel_change(row, "resumed", stamp)


def end_paused_beside_access(user_id: int) -> None:
    """End at Stripe the member's paused subscriptions left beside one that gives access.

    Ending them when the other began to give access fails while Stripe is down, and nothing
    would try again: the sync (hourly, or the member's own) does.
    """
    live = db.session.scalar(
        select(Subscription)
        .where(Subscription.user_id == user_id, Subscription.status.in_(ACCESS_STATUSES))
        .limit(1)
    )
    if live is not None:
        _end_paused_beside(live)


def _end_paused_beside(row: Subscription) -> None:
    """End at Stripe the member's paused subscriptions once another one gives access.

    Stripe keeps a paused subscription (a trial that ended without a card) until someone
    resumes or ends it: beside the member's new one, a resume would charge them twice. It is
    mirrored as ended at once, so its deletion event tells a member nothing has ended.
    """
    paused = db.session.execute(
        select(Subscription.stripe_subscription_id, Subscription.source_timestamp).where(
            Subscription.user_id == row.user_id,
            Subscription.status == PAUSED_STATUS,
            Subscription.id != row.id,
        )
    ).all()
    for sub_id, stored in paused:
        try:
            end_at_stripe(sub_id, stored)
        except PaymentProviderError as exc:
            # The new membership must not wait on this: the paused one stays as it was until
            # the next sync ends it (end_paused_beside_access).
            log.warning("could not end paused subscription %s: %s", sub_id, exc)
            continue
        # No one asked for it and its own deletion event changes nothing: the admin's trace.
        summary = f"{sub_id}: paused -> canceled at Stripe (beside {row.stripe_subscription_id})"
        record(
            "paused_subscription_ended",
            object_type="User",
            object_id=row.user_id,
            summary=summary,
            system=True,
        )


def end_at_stripe(sub_id: str, stored: int) -> None:
    """Cancel a subscription at Stripe now and mirror it ended (`stored`: its stored stamp)."""
    gateway().cancel_subscription(sub_id)
    ended = gateway().retrieve_subscription(sub_id)
    if ended is not None:
        # Ended just now by this call, after every state stored (and Stripe never brings an
        # ended subscription back): newer than the stored one, however recent that is.
        apply_subscription(ended, max(fetch_stamp(), stored + 1), allow_refetch=False)


def membership_link() -> str:
    """The absolute link to the membership page, for emails."""
    return public_url("billing.membership")


def _email_cancel_change(row: Subscription, kind: str, stamp: int) -> None:
    # Keyed by the event's timestamp: a duplicate or replayed event sends nothing more, while
    # cancelling again after resuming is news worth a new email.
    user = db.session.get_one(User, row.user_id)
    subject = {
        "cancel_scheduled": "Your Campus membership is cancelled",
        "resumed": "Your Campus membership will continue",
    }[kind]
    # Past due, access lasts the grace from the first failure (subscription_grants_access),
    # which may end well before the period: the email must not promise access until then.
    grace_until = None
    if row.status == "past_due":
        grace_until = past_due_grace_ends(row, utcnow())
        if row.current_period_end is not None and grace_until >= row.current_period_end:
            grace_until = None  # the grace outlasts the period: access runs to its end
    locked = grace_until is not None and grace_until <= utcnow()
    queue_email(
        user.email,
        subject,
        f"billing_{kind}",
        dedupe_key=f"billing:{kind}:{row.stripe_subscription_id}:{stamp}",
        user=user,
        ends_at=row.current_period_end,
        renews_at=row.current_period_end,
        grace_until=None if locked else grace_until,
        locked=locked,
        link=membership_link(),
    )


def email_started(row: Subscription) -> None:
    """Queue the welcome email of a paid subscription (once per subscription)."""
    user = db.session.get_one(User, row.user_id)
    queue_email(
        user.email,
        "Welcome to your Campus membership",
        "billing_started",
        dedupe_key=f"billing:started:{row.stripe_subscription_id}",
        user=user,
        period_end=row.current_period_end,
        # Cancelled before the welcome went (joined and cancelled at once, or its events came
        # in that order): it must not say the membership renews.
        ending=row.cancel_at_period_end,
        link=membership_link(),
    )


def email_ended(row: Subscription) -> None:
    """Queue the "membership has ended" email (once per subscription), unless access goes on."""
    user = db.session.get_one(User, row.user_id)
    if membership_state(user).has_access:
        # A comp or another subscription still gives access: nothing has ended for the member,
        # and when that ends its own email says so.
        return
    queue_email(
        user.email,
        "Your Campus membership has ended",
        "billing_ended",
        dedupe_key=f"billing:ended:{row.stripe_subscription_id}",
        user=user,
        link=membership_link(),
    )

"""The one function that decides paid access (DESIGN.md §4), and the membership summary."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from flask import current_app
from sqlalchemy import bindparam, select

from campus.accounts.access import acts_as_admin
from campus.accounts.models import User
from campus.billing.models import CompMembership, Subscription
from campus.extensions import db
from campus.models.base import utcnow
from campus.models.reads import read

ACCESS_STATUSES = {"active", "trialing"}
NO_ACCESS_STATUSES = {"incomplete", "incomplete_expired", "unpaid", "canceled", "paused"}
# Still running at Stripe (a past-due one is in its grace), and over for good there.
LIVE_STATUSES = ("active", "trialing", "past_due")
ENDED_STATUSES = ("canceled", "incomplete_expired")


@dataclass(frozen=True)
class MembershipState:
    """What a user's membership looks like right now."""

    status: str  # a Stripe status, "comp", or "none"
    has_access: bool
    current_period_end: datetime | None
    cancel_at_period_end: bool
    subscription: Subscription | None
    comp: CompMembership | None


class SubscriptionFacts(Protocol):
    """What the access rule reads of a subscription: a model or a row of those columns."""

    status: str
    cancel_at_period_end: bool
    current_period_end: datetime | None
    past_due_since: datetime | None


def subscription_grants_access(sub: SubscriptionFacts, now: datetime) -> bool:
    """Decide whether one subscription gives paid access at `now`."""
    if sub.status in ACCESS_STATUSES:
        if sub.cancel_at_period_end and sub.current_period_end is not None:
            # The deletion event may be late or lost: access ends with the paid period anyway.
            return now < sub.current_period_end
        return True
    if sub.status == "past_due":
        return now < past_due_grace_ends(sub, now)
    return False


def past_due_grace_ends(sub: SubscriptionFacts, now: datetime) -> datetime:
    """When a past-due subscription's access stops: the grace from its first failure, as known."""
    return grace_ends(sub.past_due_since or sub.current_period_end or now)


def grace_ends(first_failure: datetime) -> datetime:
    """When a failed payment stops access: PAST_DUE_GRACE_DAYS after the first failure.

    However often Stripe retries, the grace runs from the first failure.
    """
    return first_failure + timedelta(days=current_app.config["PAST_DUE_GRACE_DAYS"])


def comp_outlasting(user_id: int, access_ends: datetime) -> datetime | None:
    """When a comp grant in force ends, if it keeps access past `access_ends` (the paid end)."""
    comp = active_comp(user_id, utcnow())
    return comp.ends_at if comp is not None and comp.ends_at > access_ends else None


def active_comp(user_id: int, now: datetime) -> CompMembership | None:
    """Return the comp grant in force for a user, if any."""
    return db.session.scalar(
        select(CompMembership)
        .where(
            CompMembership.user_id == user_id,
            CompMembership.revoked_at.is_(None),
            CompMembership.starts_at <= now,
            CompMembership.ends_at > now,
        )
        .order_by(CompMembership.ends_at.desc())
        .limit(1)
    )


def current_subscription(user_id: int) -> Subscription | None:
    """Return the user's most relevant subscription: one that grants access, else the newest.

    Without access, one Stripe still holds open (a payment awaited, paused) comes before any
    that ended: the order rows were mirrored in is not Stripe's (a sync may find an old one
    late), and the member must be asked for the payment, not told the membership ended.
    """
    subs = db.session.scalars(
        select(Subscription)
        .where(Subscription.user_id == user_id)
        .order_by(Subscription.created_at.desc(), Subscription.id.desc())
    ).all()
    now = utcnow()
    for sub in subs:
        if subscription_grants_access(sub, now):
            return sub
    for sub in subs:
        if sub.status not in ENDED_STATUSES:
            return sub
    return subs[0] if subs else None


def membership_state(user: User | None, now: datetime | None = None) -> MembershipState:
    """Describe a user's membership and whether it gives paid access."""
    now = now or utcnow()
    if user is None or not getattr(user, "is_authenticated", False) or user.id is None:
        return MembershipState("none", False, None, False, None, None)
    sub = current_subscription(user.id)
    sub_access = sub is not None and subscription_grants_access(sub, now)
    comp = None if sub_access else active_comp(user.id, now)
    if sub is not None and (sub_access or comp is None):
        return MembershipState(
            sub.status, sub_access, sub.current_period_end, sub.cancel_at_period_end, sub, None
        )
    if comp is not None:
        return MembershipState("comp", True, comp.ends_at, False, sub, comp)
    return MembershipState("none", False, None, False, None, None)


# Built once: has_paid_access runs on every signed-in page, and building a statement costs more
# than running it. They read only the columns subscription_grants_access looks at.
_ACCESS_FACTS = select(
    Subscription.status,
    Subscription.cancel_at_period_end,
    Subscription.current_period_end,
    Subscription.past_due_since,
).where(Subscription.user_id == bindparam("user_id"))
_HAS_COMP = (
    select(CompMembership.id)
    .where(
        CompMembership.user_id == bindparam("user_id"),
        CompMembership.revoked_at.is_(None),
        CompMembership.starts_at <= bindparam("now"),
        CompMembership.ends_at > bindparam("now"),
    )
    .limit(1)
)


def has_paid_access(user: User | None, now: datetime | None = None) -> bool:
    """Tell whether a user may read paid articles and take CE courses.

    The same decision as membership_state(user).has_access: some subscription grants access,
    or else a comp grant is in force. An admin always may, but only with the admin's standing
    (acts_as_admin); signed in with the password alone, or by API token, as any member.
    """
    if user is None or not getattr(user, "is_authenticated", False) or user.id is None:
        return False
    if user.is_admin and acts_as_admin(user):
        return True
    now = now or utcnow()
    params = {"user_id": user.id, "now": now}
    if any(subscription_grants_access(row, now) for row in read(_ACCESS_FACTS, params)):
        return True
    return read(_HAS_COMP, params).first() is not None


# What holds back a signed-in member without access, and what they are asked to do, in the
# words every page offering paid content uses (an article's paywall, a course page).
FIRST_PAYMENT_STATUS = "incomplete"  # Checkout made it; its first payment is clearing or awaits
UNPAID_STATUSES = ("past_due", "unpaid")
LAPSED_STATUSES = ("canceled", "incomplete_expired")
# Stripe pauses a subscription whose trial ended without a card to charge: it did not end, but
# a new card does not resume it either; joining again does (and ends the paused one).
PAUSED_STATUS = "paused"


@dataclass(frozen=True)
class PaymentHold:
    """Why a member's membership gives no access now, and the step that restores it."""

    kind: str  # first_payment | unpaid | paused | ended
    title: str
    action: str


_HOLDS = {
    "first_payment": PaymentHold(
        "first_payment", "Your first payment is pending", "Finish your payment"
    ),
    "unpaid": PaymentHold("unpaid", "Your last payment did not go through", "Update your payment"),
    "paused": PaymentHold("paused", "Your membership is paused", "Join again"),
    "ended": PaymentHold("ended", "Your membership has ended", "Renew your membership"),
}


def payment_hold(user: User | None, now: datetime | None = None) -> PaymentHold | None:
    """Say what keeps a member's own membership from giving access, or None (access, or none)."""
    state = membership_state(user, now)
    if state.has_access:
        return None
    status = state.status
    if status in ACCESS_STATUSES:
        # Cancelled at period end and past it (Stripe's deletion not here yet): it has ended.
        status = "canceled"
    if status == FIRST_PAYMENT_STATUS:
        return _HOLDS["first_payment"]
    if status in UNPAID_STATUSES:
        return _HOLDS["unpaid"]
    if status == PAUSED_STATUS:
        return _HOLDS["paused"]
    if status in LAPSED_STATUSES:
        return _HOLDS["ended"]
    return None

"""Billing records: the user's Stripe customer, the local subscription mirror and comp grants."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campus.accounts.models import User
from campus.extensions import Model
from campus.models.base import TimestampMixin


class StripeCustomer(TimestampMixin, Model):
    """The one Stripe customer of a user, reused by every checkout."""

    __tablename__ = "stripe_customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    stripe_customer_id: Mapped[str] = mapped_column(String(100), unique=True)

    user: Mapped[User] = relationship()


class Subscription(TimestampMixin, Model):
    """Local mirror of a Stripe subscription, as of the newest event or fetch applied."""

    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    stripe_subscription_id: Mapped[str] = mapped_column(String(100), unique=True)
    stripe_customer_id: Mapped[str] = mapped_column(String(100), index=True)
    status: Mapped[str] = mapped_column(String(30))
    price_id: Mapped[str | None] = mapped_column(String(100))
    current_period_end: Mapped[datetime | None]
    cancel_at_period_end: Mapped[bool] = mapped_column(default=False)
    trial_end: Mapped[datetime | None]
    canceled_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    # When the subscription went past_due: the grace period counts from here.
    past_due_since: Mapped[datetime | None]
    # Stripe's `created` of the newest event applied; older events never overwrite newer state.
    source_timestamp: Mapped[int] = mapped_column(default=0)

    user: Mapped[User] = relationship()


class CompMembership(TimestampMixin, Model):
    """Access granted by an admin without Stripe, until `ends_at`, for a stated reason."""

    __tablename__ = "comp_memberships"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text)
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class WebhookEvent(TimestampMixin, Model):
    """One Stripe event as received: stored once per event id, then processed by the worker."""

    __tablename__ = "webhook_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    stripe_event_id: Mapped[str] = mapped_column(String(100), unique=True)
    type: Mapped[str] = mapped_column(String(100), index=True)
    # Stripe's `created` (unix seconds): the ordering key against the mirror's source_timestamp.
    created: Mapped[int]
    livemode: Mapped[bool] = mapped_column(default=False)
    payload: Mapped[str] = mapped_column(Text)
    # received | processing (claimed by a drain) | processed | ignored | failed
    status: Mapped[str] = mapped_column(String(20), default="received", index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)  # every try, failed ones too
    # Tries spent: each is counted when it starts, kept when cut off by its worker's death or
    # failed other than transiently, taken back otherwise; all spent, the event is given up
    # (claims.CLAIMED_TRIES). A replay starts it at 0. The column keeps its first name.
    cut_off_tries: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    processed_at: Mapped[datetime | None]


class CheckoutSession(TimestampMixin, Model):
    """A Checkout Session we opened for a user; an open one is reused instead of a second."""

    __tablename__ = "checkout_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    stripe_session_id: Mapped[str] = mapped_column(String(200), unique=True)
    stripe_customer_id: Mapped[str] = mapped_column(String(100))
    url: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | complete | expired
    expires_at: Mapped[datetime]


class SimulatedStripeObject(Model):
    """A Stripe-shaped object of the offline simulator (customer, session, subscription, ...)."""

    __tablename__ = "simulated_stripe_objects"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    object: Mapped[str] = mapped_column(String(40), index=True)
    customer: Mapped[str | None] = mapped_column(String(100), index=True)
    created: Mapped[int]
    data: Mapped[str] = mapped_column(Text)

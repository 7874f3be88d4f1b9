"""A member's Checkout Sessions at Stripe: close the earlier ones, and mirror one that was paid.

Every function flushes and never commits; the view around it commits once.
"""

from __future__ import annotations

from sqlalchemy import select

from campus.accounts.models import User
from campus.billing.models import CheckoutSession, Subscription
from campus.billing.stripe_api import CustomerMissing, PaymentProviderError, gateway
from campus.billing.subscriptions import apply_subscription, customer_for, fetch_stamp, id_of
from campus.extensions import db
from campus.models.base import utcnow


class CheckoutAlreadyPaid(Exception):
    """An earlier Checkout Session of the user was paid: mirrored, and no new one is opened."""


def close_earlier_checkouts(user: User) -> None:
    """Expire at Stripe the user's open sessions, before a new one opens beside them.

    Those still open here, and those Stripe made that were never stored here.

    Stripe keeps a session payable for 24 hours, longer than we reuse one: left open in another
    tab or an email, it could be paid as well as the new one. Raises CheckoutAlreadyPaid when
    one was paid meanwhile (mirrored and flushed for the caller to commit), and
    PaymentProviderError when one could not be closed: no new session may open then.
    """
    earlier = db.session.scalars(
        select(CheckoutSession).where(
            CheckoutSession.user_id == user.id, CheckoutSession.status == "open"
        )
    ).all()
    paid = False
    for local in earlier:
        status = _expire_at_stripe(local.stripe_session_id)
        if status == "complete":
            local.status = "complete"
            # False: the session of a customer since replaced, which gives no access here.
            paid = sync_checkout_session(user, local.stripe_session_id) or paid
        elif status == "expired":
            local.status = "expired"
        else:
            raise PaymentProviderError(f"Checkout Session {local.stripe_session_id} stays {status}")
    paid = _settle_unstored_sessions(user) or paid
    db.session.flush()
    if paid:
        raise CheckoutAlreadyPaid(user.id)


def _expire_at_stripe(session_id: str) -> str:
    """Expire one session at Stripe; return its status there afterwards."""
    session = gateway().expire_checkout_session(session_id)
    if session is None:
        # Refused: paid or expired meanwhile, or unknown to Stripe (then never payable).
        session = gateway().retrieve_checkout_session(session_id)
    if session is None:
        return "expired"
    return str(session.get("status"))


def sync_checkout_session(user: User, session_id: str) -> bool:
    """Fetch a Checkout Session of this user from Stripe and mirror its subscription.

    Returns False when the session is not the user's; a slow webhook then changes nothing here.
    """
    session = gateway().retrieve_checkout_session(session_id)
    if session is None or session.get("client_reference_id") != str(user.id):
        return False
    record = customer_for(user)
    if record is None or record.stripe_customer_id != id_of(session.get("customer")):
        return False
    local = db.session.scalar(
        select(CheckoutSession).where(CheckoutSession.stripe_session_id == session_id)
    )
    if local is not None and session.get("status") in ("complete", "expired"):
        local.status = session["status"]
    sub_id = id_of(session.get("subscription"))
    if session.get("status") == "complete" and sub_id:
        sub = gateway().retrieve_subscription(sub_id)
        if sub is not None:
            apply_subscription(sub, fetch_stamp(), allow_refetch=False)
    db.session.flush()
    return True


def settle_open_checkouts(user: User) -> None:
    """Ask Stripe about the user's Checkout Sessions still open here, and mirror any paid one.

    One may have been paid with neither its webhook nor the success page's fetch through yet:
    a new session beside it could charge the member twice.
    """
    pending = db.session.scalars(
        select(CheckoutSession.stripe_session_id).where(
            CheckoutSession.user_id == user.id,
            CheckoutSession.status == "open",
            CheckoutSession.expires_at > utcnow(),
        )
    ).all()
    for session_id in pending:
        sync_checkout_session(user, session_id)


# Stripe keeps a Checkout Session open for 24 hours at most: an older one can no longer be paid.
SESSION_LIFETIME = 24 * 3600


def _settle_unstored_sessions(user: User) -> bool:
    """Close the user's sessions that Stripe made but Campus never stored; tell if one was paid.

    The web process can be killed between Stripe's answer and the commit that stores it: that
    session stays payable from the member's other tab or history, beside the new one.
    """
    record = customer_for(user)
    if record is None:
        return False
    known = set(
        db.session.scalars(
            select(CheckoutSession.stripe_session_id).where(CheckoutSession.user_id == user.id)
        )
    )
    since = gateway().now() - SESSION_LIFETIME - 3600
    try:
        sessions = gateway().list_checkout_sessions(record.stripe_customer_id, since)
    except CustomerMissing:
        # Stripe does not know the customer (deleted there, or made with other keys): it has
        # no session anyone could pay, and start_checkout replaces it with a new one.
        return False
    paid = False
    for session in sessions:
        if session["id"] in known or session.get("client_reference_id") != str(user.id):
            continue
        status = session.get("status")
        if status == "open":
            status = _expire_at_stripe(session["id"])
        if status == "complete" and not _mirrored(id_of(session.get("subscription"))):
            # Paid, and neither its webhook nor the success page got here yet.
            paid = sync_checkout_session(user, session["id"]) or paid
        elif status not in ("complete", "expired"):
            raise PaymentProviderError(f"Checkout Session {session['id']} stays {status}")
    return paid


def _mirrored(sub_id: str | None) -> bool:
    """Tell whether a subscription is mirrored here (its events, or a fetch, got here)."""
    if sub_id is None:
        return True  # nothing to mirror
    found = db.session.scalar(
        select(Subscription.id).where(Subscription.stripe_subscription_id == sub_id)
    )
    return found is not None

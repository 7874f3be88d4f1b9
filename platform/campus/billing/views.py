"""Membership pages and the Checkout and Customer Portal redirects (webhooks: billing.intake)."""

from __future__ import annotations

import logging

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from campus.billing import access, bp, checkouts, services
from campus.billing.access import has_paid_access, membership_state
from campus.billing.stripe_api import PaymentProviderError
from campus.billing.subscriptions import at_membership_price
from campus.extensions import db, limiter
from campus.throttling import by_user, once_per, setting
from campus.urls import public_url

log = logging.getLogger(__name__)

PROVIDER_DOWN = (
    "We could not reach our payment provider, so nothing was charged or changed. "
    "Please try again in a moment."
)

ALREADY_PAID = "Your earlier checkout was paid: your membership is being set up."


def _page_state(user) -> dict:
    state = membership_state(user)
    sub = state.subscription
    grace_ends = access_ends = comp_until = None
    if sub is not None and sub.status == "past_due":
        since = sub.past_due_since or sub.current_period_end
        if since is not None:
            grace_ends = access_ends = access.grace_ends(since)
    elif sub is not None and state.status != "comp" and sub.cancel_at_period_end:
        access_ends = sub.current_period_end
    if access_ends is not None:
        # A comp grant outlasting the paid access is when access really ends (as emails say).
        comp_until = access.comp_outlasting(user.id, access_ends)
    return {
        "state": state,
        "has_access": has_paid_access(user),
        "grace_ends": grace_ends,
        "comp_until": comp_until,
        # The amount it renews at: a subscription at a former price is not given today's.
        "current_price": sub is None or at_membership_price(sub),
        "has_customer": user.is_authenticated and services.customer_for(user) is not None,
        "awaiting_payment": user.is_authenticated and services.awaiting_payment(user),
        "first_payment_pending": user.is_authenticated and services.first_payment_pending(user),
    }


PORTAL_RETURN = "portal"  # ?from=portal: the Customer Portal's return_url
# Set in the session when the member is sent to the portal: the return from that visit fetches
# the subscription even within the once-a-minute limit (a cancel then a resume a few seconds
# apart would otherwise show the state from before the second change until its webhook lands).
_PORTAL_VISIT = "billing_portal_visit"
_page_limit = limiter.shared_limit(
    setting("BILLING_SYNC_RATE_LIMIT"), scope="membership-pages", key_func=by_user
)


def _sync_due(user) -> bool:
    """Let a member's pages ask Stripe at most once per BILLING_SYNC_INTERVAL seconds."""
    return once_per("billing-sync", str(user.id), current_app.config["BILLING_SYNC_INTERVAL"])


@bp.get("/membership")
@_page_limit
def membership() -> str:
    """Show the plan, and for a member their status, renewal or end date and billing links."""
    sync_now = False
    if request.args.get("from") == PORTAL_RETURN and current_user.is_authenticated:
        # The return of a visit the member opened always syncs (and marks the minute); reloads
        # of the return address, and returns with no visit opened, at most once a minute.
        opened_visit = bool(session.pop(_PORTAL_VISIT, False))
        sync_now = _sync_due(current_user) or opened_visit
    if sync_now:
        # Back from the portal, the change was just made but its webhook may be seconds away:
        # fetch the subscription so the page shows what the member just did.
        try:
            services.sync_member(current_user)
            db.session.commit()
        except PaymentProviderError as exc:
            db.session.rollback()
            log.info("portal return sync for user %s deferred: %s", current_user.id, exc)
    return render_template("billing/membership.html", **_page_state(current_user))


@bp.post("/membership/checkout")
@login_required
def checkout() -> Response:
    """Send the user to a Stripe Checkout Session for the membership (303)."""
    try:
        checkouts.settle_open_checkouts(current_user)
        db.session.commit()
    except PaymentProviderError as exc:
        # Whether an earlier checkout was paid is unknown: opening another could charge twice.
        db.session.rollback()
        log.warning("checkout for user %s could not check earlier ones: %s", current_user.id, exc)
        flash(PROVIDER_DOWN, "error")
        return redirect(url_for("billing.membership"), 303)
    refusal = services.checkout_refusal(current_user)
    if refusal:
        flash(refusal, "info")
        return redirect(url_for("billing.membership"), 303)
    try:
        url = services.start_checkout(
            current_user,
            success_url=services.success_url(),
            cancel_url=public_url("billing.membership"),
        )
        db.session.commit()
    except checkouts.CheckoutAlreadyPaid:
        db.session.commit()  # the payment found is mirrored: the member is not sent to pay again
        flash(services.checkout_refusal(current_user) or ALREADY_PAID, "info")
        return redirect(url_for("billing.membership"), 303)
    except PaymentProviderError as exc:
        db.session.rollback()
        log.warning("checkout for user %s failed: %s", current_user.id, exc)
        flash(PROVIDER_DOWN, "error")
        return redirect(url_for("billing.membership"), 303)
    except services.BillingError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("billing.membership"), 303)
    return redirect(url, 303)


SUCCESS_TRIES = 30


@bp.get("/membership/success")
@login_required
@_page_limit
def success() -> str:
    """Show the membership activating; sync the Checkout Session so a slow webhook cannot delay."""
    session_id = request.args.get("session_id", "")
    if (
        session_id
        and len(session_id) <= 200
        and not has_paid_access(current_user)
        and _sync_due(current_user)
    ):
        try:
            checkouts.sync_checkout_session(current_user, session_id)
            db.session.commit()
        except PaymentProviderError as exc:
            db.session.rollback()
            log.info("checkout sync for user %s deferred: %s", current_user.id, exc)
    # The page reloads itself every two seconds while it waits, for about a minute.
    tries = max(0, min(request.args.get("tries", 0, type=int), SUCCESS_TRIES))
    refresh_url = None
    if session_id and tries < SUCCESS_TRIES:
        refresh_url = url_for("billing.success", session_id=session_id, tries=tries + 1)
    return render_template(
        "billing/success.html",
        session_id=session_id,
        refresh_url=refresh_url,
        **_page_state(current_user),
    )


@bp.post("/membership/portal")
@login_required
def portal() -> Response:
    """Send the member to the Stripe Customer Portal to update the card, cancel or resume (303)."""
    try:
        url = services.portal_url(
            current_user,
            public_url("billing.membership", **{"from": PORTAL_RETURN}),
        )
    except services.BillingError as exc:
        db.session.commit()  # a customer Stripe does not know stays forgotten
        flash(str(exc), "info")
        return redirect(url_for("billing.membership"), 303)
    except PaymentProviderError as exc:
        db.session.rollback()
        log.warning("portal for user %s failed: %s", current_user.id, exc)
        flash(PROVIDER_DOWN, "error")
        return redirect(url_for("billing.membership"), 303)
    session[_PORTAL_VISIT] = True
    return redirect(url, 303)


@bp.app_template_filter("timestamp_date")
def timestamp_date(value: int | None) -> str:
    """Format a Stripe unix timestamp like the |date filter."""
    from datetime import UTC, datetime

    from campus.templating import format_date

    return format_date(datetime.fromtimestamp(int(value), UTC)) if value else ""

"""Membership pages, Checkout and Customer Portal redirects, and the Stripe webhook endpoint."""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from campus.billing import bp, services
from campus.billing.access import has_paid_access, membership_state
from campus.billing.stripe_api import PaymentProviderError
from campus.errors import json_error
from campus.extensions import csrf, db, limiter

log = logging.getLogger(__name__)

MAX_WEBHOOK_BYTES = 512 * 1024
PROVIDER_DOWN = (
    "We could not reach our payment provider, so nothing was charged or changed. "
    "Please try again in a moment."
)


def _page_state(user) -> dict:
    state = membership_state(user)
    grace_ends = None
    if state.subscription is not None and state.subscription.status == "past_due":
        since = state.subscription.past_due_since or state.subscription.current_period_end
        if since is not None:
            grace_ends = since + timedelta(days=current_app.config["PAST_DUE_GRACE_DAYS"])
    return {
        "state": state,
        "has_access": has_paid_access(user),
        "grace_ends": grace_ends,
        "has_customer": user.is_authenticated and services.customer_for(user) is not None,
    }


@bp.get("/membership")
def membership() -> str:
    """Show the plan, and for a member their status, renewal or end date and billing links."""
    return render_template("billing/membership.html", **_page_state(current_user))


@bp.post("/membership/checkout")
@login_required
def checkout() -> Response:
    """Send the user to a Stripe Checkout Session for the membership (303)."""
    if not services.checkout_allowed(current_user):
        flash("You already have full access: no need to pay again.", "info")
        return redirect(url_for("billing.membership"), 303)
    try:
        url = services.start_checkout(
            current_user,
            success_url=services.success_url(),
            cancel_url=url_for("billing.membership", _external=True),
        )
        db.session.commit()
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


@bp.get("/membership/success")
@login_required
def success() -> str:
    """Show the membership activating; sync the Checkout Session so a slow webhook cannot delay."""
    session_id = request.args.get("session_id", "")
    if session_id and len(session_id) <= 200 and not has_paid_access(current_user):
        try:
            services.sync_checkout_session(current_user, session_id)
            db.session.commit()
        except PaymentProviderError as exc:
            db.session.rollback()
            log.info("checkout sync for user %s deferred: %s", current_user.id, exc)
    return render_template("billing/success.html", **_page_state(current_user))


@bp.post("/membership/portal")
@login_required
def portal() -> Response:
    """Send the member to the Stripe Customer Portal to update the card, cancel or resume (303)."""
    try:
        url = services.portal_url(current_user, url_for("billing.membership", _external=True))
    except services.BillingError as exc:
        flash(str(exc), "info")
        return redirect(url_for("billing.membership"), 303)
    except PaymentProviderError as exc:
        log.warning("portal for user %s failed: %s", current_user.id, exc)
        flash(PROVIDER_DOWN, "error")
        return redirect(url_for("billing.membership"), 303)
    return redirect(url, 303)


@limiter.request_filter
def _not_rate_limited() -> bool:
    """Tell the rate limiter to skip Stripe's deliveries before it resolves any limit."""
    # @limiter.exempt alone is honoured only after every limit is resolved: a twentieth of
    # the webhook's time.
    return request.endpoint == "billing.stripe_webhook"


@bp.post("/webhooks/stripe")
@csrf.exempt
@limiter.exempt
def stripe_webhook() -> tuple[Response, int]:
    """Verify, store and acknowledge a Stripe event; the worker processes it."""
    if (request.content_length or 0) > MAX_WEBHOOK_BYTES:
        return json_error(413, "The event is too large.")
    payload = request.get_data(cache=False)
    if len(payload) > MAX_WEBHOOK_BYTES:
        return json_error(413, "The event is too large.")
    try:
        text, event = services.verify_webhook(payload, request.headers.get("Stripe-Signature"))
    except services.InvalidWebhook as exc:
        return json_error(400, str(exc), code="invalid_webhook")
    except services.WebhookNotConfigured:
        return json_error(503, "Webhooks are not configured on this server.")
    try:
        # One INSERT on an autocommit connection rather than the session: the database answers
        # it only once the row is durable, and a transaction's BEGIN and COMMIT round trips and
        # the session's bookkeeping are saved (see bench/webhook_pieces.py).
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            row_id = services.store_webhook(conn, text, event)
    except SQLAlchemyError:
        log.exception("could not store a Stripe event")
        # 5xx makes Stripe retry later. Nothing was written, or (the connection lost after the
        # commit) the retry finds the event stored, as a duplicate, and wakes its processing.
        return json_error(503, "The event could not be stored; please retry.")
    _wake_processing(row_id)
    return jsonify(received=True, duplicate=row_id is None), 200


def _wake_processing(row_id: int | None) -> None:
    """Wake the worker for the stored event; a broker failure does not lose the event."""
    try:
        services.wake_event_processing(row_id)
    except Exception:
        # The event is committed: the sweep (or the next event's wake-up) drains it.
        log.exception("stored a Stripe event but could not wake its processing")


@bp.app_template_filter("timestamp_date")
def timestamp_date(value: int | None) -> str:
    """Format a Stripe unix timestamp like the |date filter."""
    from datetime import UTC, datetime

    from campus.templating import format_date

    return format_date(datetime.fromtimestamp(int(value), UTC)) if value else ""

"""The simulated Stripe pages: a local payment page and a local customer portal (dev only)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from campus import dates
from campus.billing import services, simulator
from campus.billing.views import PORTAL_RETURN
from campus.extensions import db

sim_bp = Blueprint("billing_sim", __name__, url_prefix="/membership/simulated")

DECLINED_CARD = "4000000000000002"


@sim_bp.before_request
def _only_when_simulating() -> None:
    if not current_app.config.get("SIMULATED_STRIPE"):
        abort(404)


def _own_session(session_id: str) -> dict:
    session = simulator.get_object(session_id) if len(session_id) <= 100 else None
    if (
        session is None
        or session.get("object") != "checkout.session"
        or session.get("client_reference_id") != str(current_user.id)
    ):
        abort(404)
    return session


@sim_bp.get("/checkout/<session_id>")
@login_required
def checkout(session_id: str) -> str | Response:
    """Show the simulated Stripe payment page for one of the user's Checkout Sessions."""
    session = _own_session(session_id)
    if session["status"] != "open":
        return redirect(url_for("billing.membership"))
    return render_template("billing/sim_checkout.html", session=session)


@sim_bp.post("/checkout/<session_id>")
@login_required
def pay(session_id: str) -> Response | tuple[str, int]:
    """Pay the simulated Checkout Session (the test card 4000 0000 0000 0002 is declined)."""
    session = _own_session(session_id)
    if session["status"] == "expired":
        # Expired when the member joined again from another tab: the newer checkout is the one.
        flash("This checkout has expired, so nothing was charged. Join again to pay.", "info")
        return redirect(url_for("billing.membership"), 303)
    card = "".join(ch for ch in request.form.get("card_number", "") if ch.isdigit())
    message = exp_error = None
    if card == DECLINED_CARD or len(card) < 12:
        message = (
            "Your card was declined. Try another card."
            if card == DECLINED_CARD
            else "Enter a card number (any test number works, e.g. 4242 4242 4242 4242)."
        )
    elif "exp" in request.form:  # the page always sends it; a script may leave it out
        exp_error = expiry_problem(request.form["exp"], dates.today())
    if message or exp_error:
        # What was typed stays, as on Stripe's page: refilled with the card that pays, the
        # refusal read as if that card was declined, and the next press would pay with it.
        typed = {name: request.form.get(name, "")[:40] for name in ("card_number", "exp", "cvc")}
        page = render_template(
            "billing/sim_checkout.html",
            session=session,
            error=message,
            exp_error=exp_error,
            typed=typed,
        )
        return page, 422
    session = simulator.complete_checkout(session_id)
    db.session.commit()
    target = session["success_url"].replace("{CHECKOUT_SESSION_ID}", session["id"])
    return redirect(target, 303)


def expiry_problem(typed: str, today: date) -> str | None:
    """What is wrong with a card's expiry date typed as MM / YY (or MM/YYYY), if anything."""
    parts = re.fullmatch(r"\s*(\d{1,2})\s*/?\s*(\d{2}|\d{4})\s*", typed[:20])
    if parts is None or not 1 <= int(parts[1]) <= 12:
        return "Enter the expiry date as MM / YY, for example 12 / 34."
    month, year = int(parts[1]), int(parts[2])
    year += 2000 if year < 100 else 0
    if (year, month) < (today.year, today.month):  # a card works to the end of its month
        return "Your card's expiration date is in the past."
    return None


def _own_subscription() -> dict | None:
    record = services.customer_for(current_user)
    if record is None:
        return None
    return simulator.latest_subscription(record.stripe_customer_id)


@sim_bp.get("/portal")
@login_required
def portal() -> str:
    """Show the simulated Customer Portal: update the card, cancel or resume."""
    sub = _own_subscription()
    invoice = simulator.get_object(sub["latest_invoice"]) if sub and sub["latest_invoice"] else None
    return render_template("billing/sim_portal.html", sub=sub, invoice=invoice)


PORTAL_ACTIONS = {
    "update-card": (simulator.pay_open_invoice, "Your card was updated and the invoice paid."),
    "cancel": (simulator.cancel_at_period_end, "Your membership will end with this period."),
    "resume": (simulator.resume, "Your membership will renew as usual."),
}


@sim_bp.post("/portal/<action>")
@login_required
def portal_action(action: str) -> Response:
    """Apply one simulated portal action, then return to /membership like Stripe's portal."""
    if action not in PORTAL_ACTIONS:
        abort(404)
    sub = _own_subscription()
    if sub is None or sub["status"] == "canceled":
        flash("There is no membership to change.", "info")
        return redirect(url_for("billing.membership"), 303)
    change, message = PORTAL_ACTIONS[action]
    try:
        change(sub["id"])
    except simulator.SimulatorError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("billing_sim.portal"), 303)
    db.session.commit()
    flash(message, "success")
    # Back to the return_url the portal session was opened with, as Stripe's portal does.
    back: dict[str, Any] = {"from": PORTAL_RETURN}  # "from" is a keyword: passed by mapping
    return redirect(url_for("billing.membership", **back), 303)

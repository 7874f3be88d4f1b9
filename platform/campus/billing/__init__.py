"""Billing: the membership, Stripe Checkout, webhooks and the paid-access rule."""

from flask import Blueprint

bp = Blueprint("billing", __name__)


@bp.record_once
def _register_simulator(state) -> None:
    # The simulated checkout only exists where there is no Stripe key and never in production.
    if state.app.config.get("SIMULATED_STRIPE"):
        from campus.billing.simulator_views import sim_bp

        state.app.register_blueprint(sim_bp)


from campus.billing import cli, intake, views  # noqa: E402,F401

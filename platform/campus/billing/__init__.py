"""Billing: the membership, Stripe Checkout, webhooks and the paid-access rule."""

from __future__ import annotations

from flask import Blueprint, Flask

from campus.features import Feature

bp = Blueprint("billing", __name__)


@bp.record_once
def _register_simulator(state) -> None:
    # The simulated checkout only exists where there is no Stripe key and never in production.
    if state.app.config.get("SIMULATED_STRIPE"):
        from campus.billing.simulator_views import sim_bp

        state.app.register_blueprint(sim_bp)


def _register(app: Flask) -> None:
    from campus.billing import (  # noqa: F401  (routes, commands on bp; signal receivers)
        cli,
        intake,
        models,
        receivers,
        tasks,
        views,
    )

    app.register_blueprint(bp)


def _beat_schedule() -> dict[str, dict]:
    from campus.billing.tasks import BEAT_SCHEDULE

    return BEAT_SCHEDULE


feature = Feature("billing", _register, beat_schedule=_beat_schedule)

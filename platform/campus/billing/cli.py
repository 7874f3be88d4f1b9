"""`flask --app wsgi billing ...`: events, replay, sync, comp grants and the simulator."""

from __future__ import annotations

import click
from flask import current_app
from sqlalchemy import select

from campus.billing import actions, bp, events, reconciling, services
from campus.billing.models import WebhookEvent
from campus.extensions import db
from campus.urls import builds_links


def _user(email: str):
    from campus.accounts.services import get_user_by_email

    user = get_user_by_email(email)
    if user is None:
        raise click.BadParameter(f"no account with the email {email}", param_hint="EMAIL")
    return user


@bp.cli.command("events")
@click.option(
    "--status", type=click.Choice(["received", "processing", "processed", "ignored", "failed"])
)
@click.option("--limit", default=30, show_default=True, type=click.IntRange(1, 10000))
def events_command(status: str | None, limit: int) -> None:
    """List stored Stripe events, newest first."""
    query = select(WebhookEvent).order_by(WebhookEvent.id.desc()).limit(limit)
    if status:
        query = query.where(WebhookEvent.status == status)
    rows = db.session.scalars(query).all()
    for row in rows:
        note = row.last_error or row.reason or ""
        click.echo(
            f"{row.id:>6}  {row.stripe_event_id:<32} {row.type:<40} {row.status:<9} "
            f"tries={row.attempts} {note}".rstrip()
        )
    counts = events.event_counts()
    click.echo(", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "No events stored.")


@bp.cli.command("replay")
@click.argument("event_id")
@builds_links
def replay_command(event_id: str) -> None:
    """Process a stored event again (by Stripe event id or row id)."""
    from campus.billing.tasks import process_webhook_event

    row = events.find_event(event_id)
    if row is None:
        raise click.BadParameter(f"no stored event {event_id}", param_hint="EVENT_ID")
    # Processed here in the foreground, so the operator sees the outcome.
    actions.replay_event(row, actor=None, queue=False)
    db.session.commit()
    status = process_webhook_event.apply(args=(row.id,)).get()
    db.session.expire_all()
    row = db.session.get_one(WebhookEvent, row.id)
    click.echo(f"{row.stripe_event_id} ({row.type}): {status}")
    if row.reason or row.last_error:
        click.echo(f"  {row.last_error or row.reason}")
    if status == "failed":
        raise SystemExit(1)


@bp.cli.command("sync")
@builds_links
def sync_command() -> None:
    """Compare the subscription mirror with Stripe and repair drift."""
    counts = reconciling.reconcile(settle=db.session.commit)
    db.session.commit()
    click.echo(
        f"Checked {counts['subscriptions']} subscriptions of {counts['customers']} customers: "
        f"{counts['repaired']} repaired, {counts['requeued']} stuck events requeued."
        + (
            f" {counts['unknown']} customers unknown to Stripe: their subscriptions were asked "
            "about one by one."
            if counts["unknown"]
            else ""
        )
        + (
            f" {counts['emails']} customers given their member's current email and name."
            if counts["emails"]
            else ""
        )
    )
    if counts["unreachable"]:
        raise click.ClickException(
            f"{counts['unreachable']} customers could not be checked: Stripe could not be "
            "reached. Run it again later."
        )


@bp.cli.group("comp")
def comp_group() -> None:
    """Complimentary memberships."""


@comp_group.command("grant")
@click.argument("email")
@click.option("--days", required=True, type=int, help="How long the grant lasts.")
@click.option("--reason", required=True, help="Why (kept on record).")
def comp_grant_command(email: str, days: int, reason: str) -> None:
    """Give an account access without Stripe for some days."""
    user = _user(email)
    try:
        comp = actions.grant_comp(user, days=days, reason=reason, actor=None)
    except services.BillingError as exc:
        raise click.BadParameter(str(exc)) from None
    db.session.commit()
    click.echo(f"{user.email} has a comp membership until {comp.ends_at:%Y-%m-%d %H:%M} UTC.")


@comp_group.command("end")
@click.argument("email")
def comp_end_command(email: str) -> None:
    """End an account's comp memberships now."""
    user = _user(email)
    try:
        ended = actions.end_comp(user, actor=None)
    except services.BillingError as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"Ended {ended} comp membership(s) of {user.email}.")


SIMULATIONS = ("renewal", "payment-failed", "cancel", "resume")


@bp.cli.command("simulate")
@click.argument("what", type=click.Choice(SIMULATIONS))
@click.argument("email")
@click.option("--now", "immediately", is_flag=True, help="cancel: end at once, not at period end.")
@builds_links
def simulate_command(what: str, email: str, immediately: bool) -> None:
    """Walk a member through the lifecycle with the offline Stripe simulator."""
    if not current_app.config.get("SIMULATED_STRIPE"):
        raise click.ClickException(
            "The simulator only runs without Stripe keys, outside production."
        )
    from campus.billing import simulator

    user = _user(email)
    record = services.customer_for(user)
    sub = simulator.latest_subscription(record.stripe_customer_id) if record else None
    if sub is None:
        raise click.ClickException(f"{user.email} has no subscription: subscribe at /membership.")
    actions = {
        "renewal": simulator.renew,
        "payment-failed": simulator.fail_payment,
        "cancel": simulator.cancel_now if immediately else simulator.cancel_at_period_end,
        "resume": simulator.resume,
    }
    try:
        sub = actions[what](sub["id"])
    except simulator.SimulatorError as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(
        f"{sub['id']}: status {sub['status']}, cancel at period end "
        f"{'yes' if sub['cancel_at_period_end'] else 'no'}; events sent to /webhooks/stripe."
    )

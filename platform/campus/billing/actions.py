"""Billing actions: the one write path for each change an admin or an operator makes.

Each action takes the acting user (None for a command run by an operator), makes the change,
and writes its audit entry in the same transaction. The admin pages and the CLI both call these,
so a comp grant or a replay is audited here and nowhere else. Actions flush; callers commit.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select

from campus.accounts.models import User
from campus.accounts.rules import RuleError, plain_text, says_something
from campus.audit import record, snapshot
from campus.billing.access import LIVE_STATUSES, current_subscription, membership_state
from campus.billing.claims import reset_for_replay
from campus.billing.events import PROCESS_TASK
from campus.billing.models import CompMembership, WebhookEvent
from campus.billing.services import FIRST_PAYMENT, BillingError
from campus.extensions import db
from campus.jobs import enqueue_after_commit
from campus.mail.services import queue_email
from campus.models.base import utcnow
from campus.models.writes import lock_row
from campus.urls import public_url

MAX_COMP_DAYS = 3660
# The same grant (member, admin, days, reason) again within this time is a repeated click.
SAME_GRANT_WINDOW = timedelta(minutes=2)


def _by(actor: User | None, summary: str) -> str:
    # An entry without an actor came from an operator's command: say so in its summary.
    return summary if actor is not None else f"cli: {summary}"


def grant_comp(user: User, *, days: int, reason: str, actor: User | None) -> CompMembership:
    """Give a member access without Stripe for `days` days, for a stated reason, and log it."""
    if days < 1 or days > MAX_COMP_DAYS:
        raise BillingError(f"Days must be between 1 and {MAX_COMP_DAYS}.")
    try:
        # Shown on the member's page and kept in the log: one line of plain text, as any other
        # an admin types (a direction override would turn it around where it is read).
        reason = plain_text(reason, "The reason")
    except RuleError as exc:
        raise BillingError(str(exc)) from None
    # Zero-width characters or a lone accent alone read as no reason on the member's page.
    if not says_something(reason):
        raise BillingError("A reason is required.")
    # The member's row, locked to the commit: a double click (or the same grant from two tabs)
    # waits here, then finds the grant just made, rather than granting and emailing it twice.
    # (A write on SQLite, which ignores FOR UPDATE: reading first would let both grants in.)
    lock_row(User, user.id)  # one billing change of a member at a time
    now = utcnow()
    recent = db.session.scalars(
        select(CompMembership).where(
            CompMembership.user_id == user.id,
            CompMembership.granted_by_id == (actor.id if actor else None),
            CompMembership.reason == reason,
            CompMembership.starts_at > now - SAME_GRANT_WINDOW,
            CompMembership.revoked_at.is_(None),
        )
    )
    if any(comp.ends_at - comp.starts_at == timedelta(days=days) for comp in recent):
        raise BillingError(
            f"{user.email} was granted this comp ({days} days, {reason}) a moment ago; "
            "it was not granted twice."
        )
    comp = CompMembership(
        user_id=user.id,
        starts_at=now,
        ends_at=now + timedelta(days=days),
        reason=reason,
        granted_by_id=actor.id if actor else None,
    )
    db.session.add(comp)
    db.session.flush()
    # Logged against the member, so their page shows the grant in their history.
    record(
        "comp_grant",
        user,
        summary=_by(actor, f"{user.email}: comp for {days} days ({reason})"),
        after=snapshot(comp),
        actor=actor,
    )
    # A paid subscription set to renew goes on being charged: the email must say so. A past-due
    # one too, in its grace or past it: Stripe retries its card until it ends the subscription.
    # One whose first payment is still clearing goes on too: once it clears, it renews.
    paid = current_subscription(user.id)
    renews_at = None
    if paid is not None and paid.status in LIVE_STATUSES and not paid.cancel_at_period_end:
        renews_at = paid.current_period_end
    first_payment = paid is not None and paid.status == FIRST_PAYMENT
    queue_email(
        user.email,
        "You have a complimentary Campus membership",
        "billing_comp_granted",
        dedupe_key=f"billing:comp_granted:{comp.id}",
        user=user,
        ends_at=comp.ends_at,
        renews_at=renews_at,
        first_payment=first_payment,
        link=public_url("billing.membership" if renews_at or first_payment else "main.home"),
    )
    return comp


def open_comps(user: User, now: datetime | None = None) -> list[CompMembership]:
    """Return a user's comp grants that are not revoked and have not ended yet."""
    now = now or utcnow()
    return list(
        db.session.scalars(
            select(CompMembership).where(
                CompMembership.user_id == user.id,
                CompMembership.revoked_at.is_(None),
                CompMembership.ends_at > now,
            )
        )
    )


def end_comp(user: User, *, actor: User | None) -> int:
    """End every comp grant of a member now, and log it; return how many were in force."""
    # The member's row, locked to the commit: a second admin (or click) at once waits, then
    # finds no grant in force, rather than ending and logging the same grants twice.
    lock_row(User, user.id)  # one billing change of a member at a time
    now = utcnow()
    comps = open_comps(user, now)
    if not comps:
        raise BillingError(f"{user.email} has no comp membership in force.")
    before = [snapshot(c) for c in comps]
    for comp in comps:
        comp.revoked_at = now
    db.session.flush()
    record(
        "comp_end",
        user,
        summary=_by(actor, f"{user.email}: ended {len(comps)} comp grant(s)"),
        before={"comps": before},
        after={"comps": [snapshot(c) for c in comps]},
        actor=actor,
    )
    # One email however many grants ended: they all ended together.
    email_comp_ended(max(comps, key=lambda comp: (comp.ends_at, comp.id)))
    return len(comps)


def email_comp_ended(comp: CompMembership) -> None:
    """Queue the "complimentary membership has ended" email once per grant, unless access lasts."""
    user = db.session.get_one(User, comp.user_id)
    if membership_state(user).has_access:
        # A paid subscription still gives access: nothing has ended for the member, and when
        # that ends its own email says so.
        return
    queue_email(
        user.email,
        "Your complimentary Campus membership has ended",
        "billing_comp_ended",
        dedupe_key=f"billing:comp_ended:{comp.id}",
        user=user,
        link=public_url("billing.membership"),
    )


def _outlasted(comp: CompMembership) -> bool:
    """Tell whether another grant of the member was still in force when this one ran out."""
    later = db.session.scalar(
        select(CompMembership.id)
        .where(
            CompMembership.user_id == comp.user_id,
            CompMembership.id != comp.id,
            # One an admin ended after this ran out said so itself when it was ended.
            or_(CompMembership.revoked_at.is_(None), CompMembership.revoked_at > comp.ends_at),
            or_(
                CompMembership.ends_at > comp.ends_at,
                and_(CompMembership.ends_at == comp.ends_at, CompMembership.id > comp.id),
            ),
        )
        .limit(1)
    )
    return later is not None


def email_lapsed_comps(now: datetime | None = None) -> int:
    """Email members whose last comp grant ran out in the last two days; return how many.

    The dedupe key makes a second run (or an earlier end by an admin) send nothing more.
    """
    now = now or utcnow()
    lapsed = db.session.scalars(
        select(CompMembership).where(
            CompMembership.revoked_at.is_(None),
            CompMembership.ends_at <= now,
            CompMembership.ends_at > now - timedelta(days=2),
        )
    ).all()
    # A grant that ends under a longer one ended nothing for the member: the last one to run
    # out says so, once.
    ended = [comp for comp in lapsed if not _outlasted(comp)]
    for comp in ended:
        email_comp_ended(comp)
    db.session.flush()
    return len(ended)


def replay_event(row: WebhookEvent, *, actor: User | None, queue: bool = True) -> WebhookEvent:
    """Put a stored Stripe event back to be processed again, and log it.

    With `queue` the processing task is sent once the caller commits; a command that processes
    the event itself in the foreground passes queue=False.
    """
    before = snapshot(row)
    before.pop("payload", None)  # the event body is kept by the event itself
    reset_for_replay(row)
    after = snapshot(row)
    after.pop("payload", None)
    record(
        "replay",
        row,
        object_type="WebhookEvent",
        summary=_by(actor, f"{row.stripe_event_id} ({row.type}) replayed"),
        before=before,
        after=after,
        actor=actor,
    )
    if queue:
        enqueue_after_commit(PROCESS_TASK, row.id)
    return row

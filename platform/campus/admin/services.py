"""Admin write paths: member and billing actions, each logged through campus.audit.record.

Every function flushes and never commits; the admin view around it commits once, so a change
and its audit entry land together or not at all.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app
from flask_login import current_user

from campus.accounts.models import User
from campus.audit import changed_fields, object_label, record, snapshot
from campus.extensions import db
from campus.models.base import utcnow

__all__ = ["AdminActionError", "changed_fields", "object_label", "record", "snapshot"]


class AdminActionError(ValueError):
    """An admin action that cannot be done as asked (shown to the admin)."""


# --- members ----------------------------------------------------------------------------------


def grant_comp(user: User, *, days: int, reason: str) -> Any:
    """Give a member a comp membership through billing's grant, and log it."""
    from campus.billing import services as billing

    try:
        comp = billing.grant_comp(
            user, days=days, reason=reason, granted_by=current_user._get_current_object()
        )
    except billing.BillingError as exc:
        raise AdminActionError(str(exc)) from exc
    # Logged against the member, so their page shows the grant in their history.
    record(
        "comp_grant",
        user,
        summary=f"{user.email}: comp for {days} days ({comp.reason})",
        after=snapshot(comp),
    )
    return comp


def end_comp(user: User) -> int:
    """End a member's comp grants now through billing, and log it."""
    from campus.billing import services as billing

    open_grants = billing.open_comps(user)
    before = [snapshot(c) for c in open_grants]
    ended = billing.end_comp(user)
    if not ended:
        raise AdminActionError(f"{user.email} has no comp membership in force.")
    record(
        "comp_end",
        user,
        summary=f"{user.email}: ended {ended} comp grant(s)",
        before={"comps": before},
        after={"comps": [snapshot(c) for c in open_grants]},
    )
    return ended


def set_disabled(user: User, disabled: bool) -> None:
    """Disable (signing out every session) or re-enable an account, and log it."""
    if disabled and user.id == current_user.id:
        raise AdminActionError("You cannot disable your own account.")
    before = snapshot(user)
    if disabled:
        if user.disabled_at is not None:
            raise AdminActionError(f"{user.email} is already disabled.")
        user.disabled_at = utcnow()
        user.session_version += 1  # every session and remember-cookie stops working at once
    else:
        if user.disabled_at is None:
            raise AdminActionError(f"{user.email} is not disabled.")
        user.disabled_at = None
    db.session.flush()
    record("disable" if disabled else "enable", user, before=before, after=snapshot(user))


def resend_verification(user: User) -> None:
    """Send a member a new verification link, and log it."""
    from campus.accounts.services import send_verification_email

    if user.is_verified:
        raise AdminActionError(f"{user.email} has already confirmed their address.")
    send_verification_email(user)
    record("resend_verification", user, summary=f"{user.email}: verification email sent")


# --- billing ----------------------------------------------------------------------------------


def replay_webhook(event_id: int) -> Any:
    """Put a stored Stripe event back in the queue through billing, and log it."""
    from campus.billing import services as billing
    from campus.billing.models import WebhookEvent
    from campus.billing.tasks import process_webhook_event
    from campus.jobs import enqueue_after_commit

    row = db.session.get(WebhookEvent, event_id)
    if row is None:
        raise AdminActionError("There is no such event.")
    before = snapshot(row)
    before.pop("payload", None)
    billing.reset_for_replay(row)
    after = snapshot(row)
    after.pop("payload", None)
    record(
        "replay",
        row,
        object_type="WebhookEvent",
        summary=f"{row.stripe_event_id} ({row.type}) replayed",
        before=before,
        after=after,
    )
    enqueue_after_commit(process_webhook_event, row.id)
    return row


def installed(feature: str, app: Flask | None = None) -> bool:
    """Tell whether a feature is registered on the app (the admin shows only what exists)."""
    return feature in (app or current_app).extensions.get("campus_features", ())

"""Admin write paths: the audit log (the one place entries are written) and member actions.

Every function flushes and never commits; the admin view around it commits once, so a change
and its audit entry land together or not at all.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import has_request_context
from flask_login import current_user
from sqlalchemy import inspect as sa_inspect

from campus.accounts.models import User
from campus.admin.models import AuditEntry
from campus.extensions import db
from campus.models.base import utcnow

# Never copied into the log: secrets, and HTML/text derived from Markdown that is logged anyway.
_SKIPPED = ("password_hash", "token_hash")
_DERIVED_SUFFIXES = ("_html", "_text")
_MAX_VALUE = 20_000


class AdminActionError(ValueError):
    """An admin action that cannot be done as asked (shown to the admin)."""


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, str) and len(value) > _MAX_VALUE:
        return value[:_MAX_VALUE] + "…"
    if isinstance(value, dict | list):
        return json.loads(json.dumps(value, default=str))
    return value


def snapshot(obj: Any) -> dict[str, Any]:
    """Return an object's column values as JSON-safe data (secrets and derived HTML left out)."""
    mapper = sa_inspect(obj).mapper
    data = {}
    for attr in mapper.column_attrs:
        key = attr.key
        if (
            key in _SKIPPED
            or key.endswith(_DERIVED_SUFFIXES)
            or key in ("created_at", "updated_at")
        ):
            continue
        data[key] = _plain(getattr(obj, key))
    return data


def changed_fields(before: dict | None, after: dict | None) -> list[str]:
    """Name the fields whose values differ between two snapshots."""
    before, after = before or {}, after or {}
    return sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))


def object_label(obj: Any) -> str:
    """A short human name for an object in the log."""
    for name in ("title", "email", "name", "stripe_event_id", "code", "prompt", "slug"):
        value = getattr(obj, name, None)
        if isinstance(value, str) and value:
            return value[:120]
    return f"#{getattr(obj, 'id', '?')}"


def record(
    action: str,
    obj: Any = None,
    *,
    object_type: str | None = None,
    object_id: Any = None,
    summary: str = "",
    before: dict | None = None,
    after: dict | None = None,
    actor: User | None = None,
) -> AuditEntry:
    """Write one audit entry for a change by the current admin (or `actor`)."""
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user._get_current_object()
    if obj is not None:
        object_type = object_type or type(obj).__name__
        object_id = object_id if object_id is not None else getattr(obj, "id", None)
    if not summary:
        fields = changed_fields(before, after) if before is not None and after is not None else []
        label = object_label(obj) if obj is not None else ""
        summary = f"{label}: {', '.join(fields)}" if fields else label
    entry = AuditEntry(
        actor_id=actor.id if actor else None,
        actor_email=actor.email if actor else "system",
        action=action,
        object_type=object_type or "unknown",
        object_id=None if object_id is None else str(object_id),
        summary=summary[:2000],
        before=before,
        after=after,
    )
    db.session.add(entry)
    db.session.flush()
    return entry


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


def installed(feature: str) -> bool:
    """Tell whether a feature is part of this build (the admin shows only what exists)."""
    from campus import FEATURES

    return feature in FEATURES

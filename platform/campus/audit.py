"""The audit log: one row per change a person (or an operator's command) makes.

Every action that changes something on someone's behalf calls `record` in the same
transaction as the change, so a change and its audit entry land together or not at all.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.local import LocalProxy

from campus.extensions import Model, db
from campus.models.base import utcnow
from campus.throttling import wrong_secret

if TYPE_CHECKING:
    # Only for annotations: the accounts package logs its own actions through this module.
    from campus.accounts.models import User


class AuditEntry(Model):
    """Who changed what, when, with the object's state before and after."""

    __tablename__ = "admin_audit_entries"
    __table_args__ = (Index("ix_admin_audit_entries_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Kept as text too, so the entry still names the admin after their account is gone.
    actor_email: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(40), index=True)
    object_type: Mapped[str] = mapped_column(String(60))
    object_id: Mapped[str | None] = mapped_column(String(60))
    summary: Mapped[str] = mapped_column(Text, default="")
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    # Where the request came from (as ProxyFix read it); None for a worker or a command.
    ip_address: Mapped[str | None] = mapped_column(String(64))

    actor: Mapped[User | None] = relationship("User")

    def __repr__(self) -> str:
        return f"<AuditEntry {self.action} {self.object_type}:{self.object_id}>"


# Never copied into the log: secrets, and HTML/text derived from Markdown that is logged anyway.
_SKIPPED = ("password_hash", "token_hash", "code_hash", "totp_secret", "totp_pending_secret")
_MAX_VALUE = 20_000


def plain(value: Any) -> Any:
    """Return a value as the log keeps it: JSON-safe, one spelling per number or date."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        # One spelling per number: a form's 2.5 and the database's 2.50 are not a change.
        exponent = value.as_tuple().exponent
        return f"{value:.2f}" if isinstance(exponent, int) and exponent >= -2 else str(value)
    if isinstance(value, str) and len(value) > _MAX_VALUE:
        return value[:_MAX_VALUE] + "…"
    if isinstance(value, dict | list):
        return json.loads(json.dumps(value, default=str))
    return value


def _derived(key: str, keys: set[str]) -> bool:
    """Tell whether a column is rendered from another: HTML, or its plain text beside it."""
    if key.endswith("_html"):
        return True
    # A lead's consent_text is what they agreed to, not a rendering: only text that has its
    # HTML beside it (an article's preview_text and full_text) is derived.
    return key.endswith("_text") and f"{key.removesuffix('_text')}_html" in keys


def snapshot(obj: Any) -> dict[str, Any]:
    """Return an object's column values as JSON-safe data (secrets and derived HTML left out)."""
    mapper = sa_inspect(obj).mapper
    keys = {attr.key for attr in mapper.column_attrs}
    data = {}
    for attr in mapper.column_attrs:
        key = attr.key
        if key in _SKIPPED or _derived(key, keys) or key in ("created_at", "updated_at"):
            continue
        data[key] = plain(getattr(obj, key))
    # Rows edited as part of this one (a course's board approvals, inline in its form) belong
    # to its before and after: a changed approval number is a change to the course.
    for name in getattr(type(obj), "audit_children", ()):
        rows = [snapshot(child) for child in getattr(obj, name)]
        data[name] = sorted(rows, key=lambda row: json.dumps(row, sort_keys=True, default=str))
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


def _address() -> str | None:
    """The client address of the request being served, or None outside a request."""
    if not has_request_context() or not request.remote_addr:
        return None
    # One line, as stored for sessions: a server that passes control characters through must
    # not break the entry (PostgreSQL refuses a NUL).
    return "".join(ch for ch in request.remote_addr if ch.isprintable())[:64] or None


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
    system: bool = False,
) -> AuditEntry:
    """Write one audit entry for a change by the signed-in user (or `actor`, or no one)."""
    # `system`: a change no one made (a deadline passed, a signed link, a schedule). It may run
    # inside someone's request, and that person did not make it.
    if actor is None and not system and has_request_context() and current_user.is_authenticated:
        actor = current_user._get_current_object()
    if isinstance(obj, LocalProxy):
        # A view passing `current_user` as the subject: name the user, not the proxy, or the
        # entry is filed under "LocalProxy" and missing from the member's own history.
        obj = obj._get_current_object()
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
        # A change no one made is no one's address, even inside someone's request.
        ip_address=None if system else _address(),
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def record_refusal(action: str, user: User, secret: str | None) -> AuditEntry | None:
    """Log a wrong `secret` ("password" or "code") typed to confirm a change to `user`'s account.

    As a failed sign-in is: someone at a member's unlocked screen guessing the password leaves
    a trace. The caller rolls the refused change back first, then commits this entry on its
    own. Only a wrong secret is logged: with None (a mistyped confirmation word or address, a
    change that cannot be made) nothing is.
    """
    if secret is None:
        return None
    if has_request_context():
        wrong_secret(secret)  # what the member's budgets of password and code checks count
    return record(action, user, summary=f"{user.email}: {secret} not accepted", actor=user)

"""Personal API tokens: named, scoped, revocable credentials for scripts and clinic systems.

A token is shown once when it is made; only its SHA-256 is kept. It is sent as
`Authorization: Bearer <token>` to /api/ only, never opens a browser session, and is either
read-only (`read`: GET, HEAD, OPTIONS) or read-write (`write`). Making and revoking one are
audited actions; services flush, the view commits.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, String, select, update
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.orm.attributes import set_committed_value

from campus.accounts.models import User
from campus.accounts.notices import tell_member
from campus.accounts.rules import RuleError, plain_text, shows_something
from campus.audit import record
from campus.extensions import Model, db
from campus.models.base import IDS_KEPT, utcnow
from campus.models.writes import lock_row

PREFIX = "campus_"
SCOPES = {"read": "Read only", "write": "Read and write"}
LIFETIMES = {"30": 30, "90": 90, "365": 365, "never": None}  # days
MAX_ACTIVE = 20
# Like sessions: how stale `last_used_at` may get before a request writes it again.
TOUCH_INTERVAL = timedelta(seconds=60)


class TokenError(ValueError):
    """A token request that cannot be carried out; the message is safe to show."""

    def __init__(self, message: str, field: str = "name", wrong: str | None = None) -> None:
        super().__init__(message)
        self.field = field  # the form field the message belongs to
        self.wrong = wrong  # "password" when the password typed was wrong (audit.record_refusal)


class ApiToken(Model):
    """One personal API token of a user; the raw value is never stored."""

    __tablename__ = "api_tokens"
    __table_args__ = IDS_KEPT

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    scope: Mapped[str] = mapped_column(String(10))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters, so the owner can tell tokens apart without the secret.
    hint: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()

    @property
    def can_write(self) -> bool:
        return self.scope == "write"

    def is_alive(self, now: datetime | None = None) -> bool:
        """Tell whether the token is neither revoked nor expired."""
        now = now or utcnow()
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)


def hash_token(raw: str) -> str:
    """Return the SHA-256 (hex) under which a token is stored."""
    return hashlib.sha256(raw.encode()).hexdigest()


def active_tokens(user: User) -> list[ApiToken]:
    """Return the user's tokens that still work, the newest first."""
    now = utcnow()
    rows = db.session.scalars(
        select(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    ).all()
    return [row for row in rows if row.is_alive(now)]


def create_token(
    user: User, name: str, scope: str, lifetime: str, password: str, code: str = ""
) -> tuple[ApiToken, str]:
    """Make a token for the user, log it, and return it with its raw value (shown once)."""
    from campus.accounts.mfa import check_code
    from campus.accounts.services import verify_password

    try:
        # Shown on the security page and in the audit log: no control or direction characters.
        name = " ".join(plain_text(name, "The token's name").split())
    except RuleError as exc:
        raise TokenError(str(exc)) from None
    # A name of zero-width or combining characters alone lists as a blank on the security page.
    if not shows_something(name) or len(name) > 80:
        raise TokenError("Give the token a name of 1 to 80 characters.")
    if scope not in SCOPES:
        raise TokenError("Choose read only or read and write.")
    if lifetime not in LIFETIMES:
        raise TokenError("Choose how long the token lasts.")
    # A token signs in without password or second factor, for a year or for good: someone at
    # the member's unlocked screen must not be able to take one away (ASVS 3.7.1).
    if not verify_password(user, password):
        raise TokenError("That is not your password.", "password", wrong="password")
    # Nor, with a second factor on, with the password alone: the token would go on without it.
    if user.totp_enabled and check_code(user, code) is None:
        raise TokenError("That code is not right.", "code", wrong="code")
    # The member's row, locked to the commit: tokens made from two tabs at once are counted
    # one after the other, so together they cannot pass the limit.
    lock_row(User, user.id)
    if len(active_tokens(user)) >= MAX_ACTIVE:
        raise TokenError(f"You have {MAX_ACTIVE} tokens already. Revoke one you no longer use.")
    raw = PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    days = LIFETIMES[lifetime]
    token = ApiToken(
        user_id=user.id,
        name=name,
        scope=scope,
        token_hash=hash_token(raw),
        hint=raw[: len(PREFIX) + 4],
        created_at=now,
        expires_at=now + timedelta(days=days) if days else None,
    )
    db.session.add(token)
    db.session.flush()
    lasts = f"{days} days" if days else "no expiry"
    record(
        "api_token_created",
        token,
        summary=f"{user.email}: made API token “{name}” ({SCOPES[scope].lower()}, {lasts})",
        actor=user,
    )
    tell_member(user, "api_token", name=name)
    return token, raw


def revoke_token(user: User, token_id: int) -> ApiToken:
    """Revoke one of the user's own tokens, and log it."""
    # Locked to the commit: a second click (or tab) at once waits, then finds it revoked,
    # rather than revoking and logging it again.
    lock_row(ApiToken, token_id)
    token = db.session.get(ApiToken, token_id, populate_existing=True)
    if token is None or token.user_id != user.id or not token.is_alive():
        raise TokenError("That token no longer works.")
    token.revoked_at = utcnow()
    record(
        "api_token_revoked",
        token,
        summary=f"{user.email}: revoked API token “{token.name}”",
        actor=user,
    )
    db.session.flush()
    return token


def revoke_all_tokens(user: User, why: str, *, actor: User | None) -> int:
    """Revoke every live token of the user, log it with the reason, and return how many.

    `actor` is who did it (the member, an admin), or None for an operator's command.
    """
    tokens = active_tokens(user)
    now = utcnow()
    for token in tokens:
        token.revoked_at = now
    if tokens:
        by = "cli: " if actor is None else ""
        record(
            "api_tokens_revoked",
            user,
            summary=f"{by}{user.email}: {len(tokens)} API token(s) revoked: {why}",
            actor=actor,
        )
        db.session.flush()
    return len(tokens)


def authenticate(raw: str) -> ApiToken | None:
    """Return the live token of an active user for a raw value (noting its use), or None."""
    if not raw.startswith(PREFIX) or len(raw) > 200:
        return None
    found = db.session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == hash_token(raw))
    ).first()
    now = utcnow()
    if found is None or not found[0].is_alive(now) or not found[1].is_active:
        return None
    token = found[0]
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_INTERVAL:
        # Its own short transaction: a GET never commits, and the view's commit is its own.
        with db.engine.begin() as conn:
            conn.execute(update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now))
        set_committed_value(token, "last_used_at", now)
    return token

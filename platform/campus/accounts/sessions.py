"""Server-side sessions: one revocable record per signed-in device.

The browser's session cookie and the remember-me cookie carry only a random token; the database
keeps its SHA-256 with the device, the last request, the idle and absolute limits and whether it
was revoked. Signing out, signing out everywhere, a password change or reset, disabling an account
and promoting it to admin all end sessions through `end_sessions`, so an old cookie stops working
on the server at once. Services here flush; the view around them commits.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from flask import current_app, g, has_request_context, request
from flask_login import current_user
from sqlalchemy import CursorResult, bindparam, select, update
from sqlalchemy.orm.attributes import set_committed_value

from campus.accounts.models import LoginChallenge, User, UserSession, UserToken
from campus.audit import record
from campus.extensions import db
from campus.forms import one_line_text
from campus.models.base import utcnow

# How stale `last_seen_at` may get before a request writes it again.
TOUCH_INTERVAL = timedelta(seconds=60)

# Built once: the loader runs on every signed-in request.
_SESSION_BY_HASH = (
    select(UserSession, User)
    .join(User, User.id == UserSession.user_id)
    .where(UserSession.token_hash == bindparam("token_hash"))
)


class SessionError(ValueError):
    """A session request that cannot be carried out; the message is safe to show."""


def hash_token(raw: str) -> str:
    """Return the SHA-256 (hex) under which a session token is stored."""
    return hashlib.sha256(raw.encode()).hexdigest()


def _limits(remembered: bool) -> tuple[timedelta, timedelta]:
    config = current_app.config
    if remembered:
        idle, absolute = config["REMEMBER_IDLE_TIMEOUT"], config["REMEMBER_ABSOLUTE_TIMEOUT"]
    else:
        idle, absolute = config["SESSION_IDLE_TIMEOUT"], config["SESSION_ABSOLUTE_TIMEOUT"]
    return timedelta(seconds=idle), timedelta(seconds=absolute)


def may_remember(user: User) -> bool:
    """Tell whether this user may stay signed in across browser restarts (staff may not)."""
    return not user.is_staff


def _header_text(value: str | None, limit: int) -> str:
    """Return a request header's text as a session keeps it: one line, no control characters."""
    # Gunicorn refuses a NUL in a header, but not every server does, and PostgreSQL cannot
    # store one: the sign-in would fail with a 500.
    return (one_line_text(value) or "")[:limit]


def start_session(user: User, *, remember: bool = False, second_factor: bool = False) -> str:
    """Open a session for the user on this device and return its raw token."""
    raw = secrets.token_urlsafe(32)
    now = utcnow()
    remember = remember and may_remember(user)
    _idle, absolute = _limits(remember)
    row = UserSession(
        user_id=user.id,
        token_hash=hash_token(raw),
        created_at=now,
        last_seen_at=now,
        expires_at=now + absolute,
        remembered=remember,
        second_factor_at=now if second_factor else None,
        user_agent=_header_text(request.user_agent.string, 300) if has_request_context() else "",
        ip_address=_header_text(request.remote_addr, 64) if has_request_context() else "",
    )
    db.session.add(row)
    db.session.flush()
    user.session_token = raw
    if has_request_context():
        g.user_session = row
    return raw


def is_alive(row: UserSession, now: datetime | None = None) -> bool:
    """Tell whether a session is neither revoked nor past its idle or absolute limit."""
    now = now or utcnow()
    idle, _absolute = _limits(row.remembered)
    return row.revoked_at is None and now < row.expires_at and now - row.last_seen_at < idle


def load(raw: str) -> User | None:
    """Return the user of a live session token (touching its last-seen time), or None."""
    if not raw or len(raw) > 200:
        g.session_ended = True
        return None
    found = db.session.execute(_SESSION_BY_HASH, {"token_hash": hash_token(raw)}).first()
    now = utcnow()
    if found is None or not is_alive(found[0], now) or not found[1].is_active:
        g.session_ended = True  # the browser is told once, and its dead cookies go
        return None
    row, user = found
    if now - row.last_seen_at >= TOUCH_INTERVAL:
        _touch(row.id, now)
        set_committed_value(row, "last_seen_at", now)
    user.session_token = raw
    g.user_session = row
    return user


def _touch(session_id: int, now: datetime) -> None:
    # On its own short transaction: most requests never commit, and a view's commit must not
    # be what keeps a session alive.
    with db.engine.begin() as conn:
        conn.execute(
            update(UserSession).where(UserSession.id == session_id).values(last_seen_at=now)
        )


def current_session() -> UserSession | None:
    """Return the session record of this request's signed-in user, if any."""
    if not has_request_context() or not current_user.is_authenticated:
        return None
    return g.get("user_session")


def passed_second_factor() -> bool:
    """Tell whether this request's session was opened (or confirmed) with a second factor."""
    row = current_session()
    return row is not None and row.second_factor_at is not None


def renew_session(user: User, *, second_factor: bool = False) -> str | None:
    """Replace this device's session by a new token (after a password change or a step up).

    Returns the new token for the browser, or None without a session of the user's here. A
    copy of the old token (seen, stolen, planted) must not outlive the change nor carry a new
    standing; the new session keeps the old one's absolute limit and second factor.
    """
    old = current_session()
    if old is None or old.user_id != user.id:
        return None
    passed = second_factor or old.second_factor_at is not None
    raw = start_session(user, remember=old.remembered, second_factor=passed)
    new = current_session()
    if new is not None:
        new.expires_at = old.expires_at
    old.revoked_at = utcnow()
    db.session.flush()
    return raw


def end_sessions(user: User, *, keep_current: bool = False) -> int:
    """Sign the user out everywhere (but on this device with keep_current); return how many."""
    now = utcnow()
    stmt = update(UserSession).where(
        UserSession.user_id == user.id,
        UserSession.revoked_at.is_(None),
        UserSession.expires_at > now,
    )
    current = current_session()
    if keep_current and current is not None and current.user_id == user.id:
        stmt = stmt.where(UserSession.id != current.id)
    ended = cast(
        CursorResult,
        db.session.execute(
            stmt.values(revoked_at=now).execution_options(synchronize_session="fetch")
        ),
    ).rowcount
    # A sign-in waiting for its code would otherwise open a new session afterwards.
    db.session.execute(
        update(LoginChallenge)
        .where(LoginChallenge.user_id == user.id, LoginChallenge.spent_at.is_(None))
        .values(spent_at=now)
        .execution_options(synchronize_session="fetch")
    )
    db.session.flush()
    return ended


# How a person proved who they are, as the audit log says it. Every sign-in names one, so the
# log never credits a password for a sign-in that came through an emailed link.
SIGN_IN_METHODS = {
    "password": "password",
    "confirmation_link": "the emailed confirmation link",
    "reset_link": "the emailed password-reset link",
}


def sign_in(user: User, *, method: str, remember: bool = False, second_factor: bool = False) -> str:
    """Open this device's session for a user who proved who they are, and log how."""
    if method not in SIGN_IN_METHODS:
        raise ValueError(f"unknown sign-in method {method!r}")
    raw = start_session(user, remember=remember, second_factor=second_factor)
    # Only here: a right password still waiting for its second factor signed nobody in.
    user.last_login_at = utcnow()
    how = SIGN_IN_METHODS[method] + (" and second factor" if second_factor else "")
    record("sign_in", user, summary=f"{user.email}: signed in with {how}", actor=user)
    return raw


def sign_out() -> None:
    """End this device's session and log it."""
    row = current_session()
    if row is None:
        return
    user = current_user._get_current_object()
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    record("sign_out", user, summary=f"{user.email}: signed out", actor=user)
    db.session.flush()


def sign_out_everywhere(user: User) -> int:
    """End every session of the user, this one included, and log it."""
    ended = end_sessions(user)
    record(
        "sign_out_everywhere",
        user,
        summary=f"{user.email}: signed out everywhere ({ended} session(s))",
        actor=user,
    )
    return ended


def end_session(user: User, session_id: int) -> UserSession:
    """End one of the user's own sessions (another device), and log it."""
    row = db.session.get(UserSession, session_id)
    if row is None or row.user_id != user.id or not is_alive(row):
        raise SessionError("That session has already ended.")
    row.revoked_at = utcnow()
    record(
        "session_ended",
        user,
        summary=f"{user.email}: ended the session from {describe_device(row.user_agent)}, "
        f"{row.ip_address or 'unknown address'}",
        actor=user,
    )
    db.session.flush()
    return row


def active_sessions(user: User) -> list[UserSession]:
    """Return the user's live sessions, the most recently used first."""
    now = utcnow()
    rows = db.session.scalars(
        select(UserSession)
        .where(
            UserSession.user_id == user.id,
            UserSession.revoked_at.is_(None),
            UserSession.expires_at > now,
        )
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
    ).all()
    return [row for row in rows if is_alive(row, now)]


@dataclass(frozen=True)
class _Pattern:
    needle: str
    name: str


_BROWSERS = (
    _Pattern("Edg/", "Edge"),
    _Pattern("OPR/", "Opera"),
    _Pattern("Firefox/", "Firefox"),
    _Pattern("Chrome/", "Chrome"),
    _Pattern("Safari/", "Safari"),
)
_SYSTEMS = (
    _Pattern("iPhone", "iPhone"),
    _Pattern("iPad", "iPad"),
    _Pattern("Android", "Android"),
    _Pattern("Windows", "Windows"),
    _Pattern("Mac OS X", "macOS"),
    _Pattern("CrOS", "ChromeOS"),
    _Pattern("Linux", "Linux"),
)


def describe_device(user_agent: str) -> str:
    """Name a device by its browser and system, e.g. "Firefox on Windows" (a guess, for people)."""
    browser = next((p.name for p in _BROWSERS if p.needle in user_agent), None)
    system = next((p.name for p in _SYSTEMS if p.needle in user_agent), None)
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or "Unknown device"


# Ended sessions stay this long (an investigation may need the device and address), then go.
KEEP_ENDED = timedelta(days=30)


def purge_ended(now: datetime | None = None) -> int:
    """Delete sessions, sign-in challenges and emailed links long over; count the sessions."""
    from sqlalchemy import delete, or_

    now = now or utcnow()
    cutoff = now - KEEP_ENDED
    removed = cast(
        CursorResult,
        db.session.execute(
            delete(UserSession).where(
                or_(UserSession.expires_at < cutoff, UserSession.revoked_at < cutoff)
            )
        ),
    ).rowcount
    db.session.execute(
        delete(LoginChallenge).where(LoginChallenge.expires_at < now - timedelta(days=1))
    )
    # A link to a new address holds that address, which never became the account's if the
    # link was not followed (mistyped, or someone else's): it goes with the dead link.
    db.session.execute(delete(UserToken).where(UserToken.expires_at < cutoff))
    db.session.flush()
    return removed

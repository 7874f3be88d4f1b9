"""The second factor: TOTP (RFC 6238, via pyotp), single-use recovery codes, and the sign-in step.

A TOTP code is accepted for the current 30-second step or one step either side (clock drift),
and never twice: the last accepted step is stored and only a later one passes. Recovery codes
are random (60 bits), stored as SHA-256 and spent atomically. Services flush; views commit.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from datetime import timedelta
from typing import cast

import pyotp
import segno
from flask import current_app
from markupsafe import Markup
from sqlalchemy import CursorResult, delete, func, select, update

from campus.accounts import sessions
from campus.accounts.models import LoginChallenge, RecoveryCode, User
from campus.accounts.notices import tell_member
from campus.audit import AuditEntry, record
from campus.extensions import db
from campus.models.base import utcnow
from campus.models.writes import lock_row
from campus.observability.metrics import LOGINS_FAILED

RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"  # base32: 5 bits a character, 12 chars
_RECOVERY_LENGTH = 12

# The sign-in code step: how long it waits, how many wrong codes it takes, and how many wrong
# codes an account takes across every attempt in a window (so a known password does not buy
# endless guesses by starting over).
CHALLENGE_MAX_AGE = timedelta(minutes=5)
CHALLENGE_MAX_FAILURES = 5
ACCOUNT_MAX_FAILURES = 10
ACCOUNT_FAILURE_WINDOW = timedelta(minutes=15)
# How the audit entry of a wrong sign-in code reads after the address; the account's count
# is of these entries.
_WRONG_CODE = ": wrong second-factor code "

_TOTP_SHAPE = re.compile(r"^[0-9]{6}$")  # ASCII: \d also matches other scripts' digits
# A usable secret: base32 of at least 80 bits. Anything else (the placeholder of a sealed
# secret no key opens, an empty one) matches no code instead of reaching pyotp, which raises.
_SECRET_SHAPE = re.compile(r"^[A-Z2-7]{16,}=*$")


class MfaError(ValueError):
    """A second-factor request that cannot be carried out; the message is safe to show."""

    def __init__(self, message: str, field: str = "code", *, wrong: str | None = None) -> None:
        super().__init__(message)
        self.field = field  # the form field the message is shown under
        self.wrong = wrong  # the secret refused ("password" or "code"), for the audit log


def _sha256(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _clean(code: str | None) -> str:
    return re.sub(r"[\s-]", "", code or "").lower()


# --- TOTP --------------------------------------------------------------------------------------


def begin_enrolment(user: User) -> str:
    """Give the user a new secret waiting to be confirmed with a code; return it."""
    if user.totp_enabled:
        raise MfaError("Your authenticator app is already set up.")
    user.totp_pending_secret = pyotp.random_base32()
    db.session.flush()
    return user.totp_pending_secret


def provisioning_uri(user: User, secret: str) -> str:
    """Return the otpauth:// link an authenticator app reads from the QR code."""
    issuer = current_app.config.get("SITE_NAME", "Campus")
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=issuer)


def qr_svg(data: str) -> Markup:
    """Draw a QR code as inline SVG (no image request, no script)."""
    qr = segno.make(data, error="m")
    svg = qr.svg_inline(scale=5, border=2, dark="#111", light="#fff", title="QR code to scan")
    return Markup(svg)


def _accepted_step(secret: str, code: str, now: float) -> int | None:
    if not _SECRET_SHAPE.match(secret):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in (current, current - 1, current + 1):
        if secrets.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _spend_totp(user: User, secret: str, code: str) -> bool:
    """Accept a TOTP code once: later than the last accepted step, claimed atomically."""
    code = _clean(code)
    if not _TOTP_SHAPE.match(code):
        return False
    step = _accepted_step(secret, code, time.time())
    if step is None:
        return False
    claimed = cast(
        CursorResult,
        db.session.execute(
            update(User)
            .where(
                User.id == user.id,
                (User.totp_last_step.is_(None)) | (User.totp_last_step < step),
            )
            .values(totp_last_step=step)
            .execution_options(synchronize_session=False)
        ),
    ).rowcount
    if claimed != 1:
        return False  # this code (or a later one) was already used: a replay
    db.session.refresh(user, ["totp_last_step"])
    return True


def confirm_enrolment(user: User, code: str, password: str) -> tuple[list[str], int]:
    """Turn TOTP on once the password and a code from the new secret check out.

    Returns fresh recovery codes and how many API tokens were revoked.
    """
    from campus.accounts.services import verify_password
    from campus.accounts.tokens import revoke_all_tokens

    secret = user.totp_pending_secret
    if user.totp_enabled:
        raise MfaError("Your authenticator app is already set up.")
    if not secret:
        raise MfaError("Start the set-up again: there is no secret waiting for a code.")
    # Whoever turns it on decides who can sign in from then on: someone at a signed-in
    # browser must not tie the account to their own app and lock its owner out.
    if not verify_password(user, password or ""):
        raise MfaError("Your password is not correct.", field="password", wrong="password")
    if not _spend_totp(user, secret, code):
        raise MfaError("That code is not right. Check the app and enter the current code.")
    user.totp_secret, user.totp_pending_secret = secret, None
    user.totp_enabled_at = utcnow()
    codes = _new_recovery_codes(user)
    # The factor protects the account from now on: other devices must sign in with it, and
    # this one goes on with a new token (the view hands it to the browser).
    ended = sessions.end_sessions(user, keep_current=True)
    sessions.renew_session(user, second_factor=True)
    record(
        "mfa_enabled",
        user,
        summary=f"{user.email}: authenticator app set up; {ended} other session(s) ended",
        actor=user,
    )
    tell_member(user, "second_factor_on")
    # So must a script: a token made while the password alone signed in (by whoever had it)
    # would go on without the factor, as it would outlive a password change.
    return codes, revoke_all_tokens(user, "second factor turned on", actor=user)


def check_code(user: User, code: str) -> str | None:
    """Spend a TOTP or recovery code of the user; return which kind passed, or None."""
    if not user.totp_enabled:
        return None
    cleaned = _clean(code)
    if _TOTP_SHAPE.match(cleaned):
        return "totp" if _spend_totp(user, user.totp_secret or "", cleaned) else None
    if len(cleaned) == _RECOVERY_LENGTH and _spend_recovery_code(user, cleaned):
        return "recovery"
    return None


def disable(user: User, password: str, code: str) -> None:
    """Turn the second factor off after the password and a code check out."""
    from campus.accounts.services import verify_password

    if not user.totp_enabled:
        raise MfaError("Your account has no second factor to turn off.")
    if not verify_password(user, password):
        raise MfaError("Your password is not correct.", field="password", wrong="password")
    if check_code(user, code) is None:
        raise MfaError("That code is not right.", wrong="code")
    remove(user, "turned off")


def remove(user: User, why: str) -> None:
    """Take the second factor (and any waiting for its first code) off the account, and log it."""
    user.totp_secret = user.totp_pending_secret = None
    user.totp_enabled_at = user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    record("mfa_disabled", user, summary=f"{user.email}: second factor {why}", actor=user)
    tell_member(user, "second_factor_off")
    db.session.flush()


# --- recovery codes ----------------------------------------------------------------------------


def _format(raw: str) -> str:
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def _new_recovery_codes(user: User) -> list[str]:
    # The member's row, locked to the commit: a replacement from a second tab at once waits,
    # then deletes this set too, where its delete would miss codes not yet committed.
    db.session.scalar(select(User.id).where(User.id == user.id).with_for_update())
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    now = utcnow()
    raws = [
        "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
        for _ in range(RECOVERY_CODE_COUNT)
    ]
    db.session.add_all(
        RecoveryCode(user_id=user.id, code_hash=_sha256(raw), created_at=now) for raw in raws
    )
    db.session.flush()
    return [_format(raw) for raw in raws]


def regenerate_recovery_codes(user: User, password: str, code: str) -> list[str]:
    """Replace the user's recovery codes after the password and a code; return the new ones."""
    from campus.accounts.services import verify_password

    if not user.totp_enabled:
        raise MfaError("Set up an authenticator app first.")
    if not verify_password(user, password):
        raise MfaError("Your password is not correct.", field="password", wrong="password")
    # A recovery code signs in in place of the app: as turning the factor off, making new ones
    # needs the factor itself, not only the password and a signed-in browser.
    if check_code(user, code) is None:
        raise MfaError("That code is not right.", wrong="code")
    codes = _new_recovery_codes(user)
    record(
        "recovery_codes_regenerated",
        user,
        summary=f"{user.email}: new recovery codes; the old ones no longer work",
        actor=user,
    )
    # A set made at a borrowed browser signs in without the owner's app for good: they must
    # hear of it, as of every other change to how the account is signed in to.
    tell_member(user, "recovery_codes")
    return codes


def _spend_recovery_code(user: User, cleaned: str) -> bool:
    spent = cast(
        CursorResult,
        db.session.execute(
            update(RecoveryCode)
            .where(
                RecoveryCode.user_id == user.id,
                RecoveryCode.code_hash == _sha256(cleaned),
                RecoveryCode.used_at.is_(None),
            )
            .values(used_at=utcnow())
            .execution_options(synchronize_session=False)
        ),
    ).rowcount
    if spent != 1:
        return False
    left = remaining_recovery_codes(user)
    record(
        "recovery_code_used",
        user,
        summary=f"{user.email}: a recovery code was used; {left} left",
        actor=user,
    )
    return True


def remaining_recovery_codes(user: User) -> int:
    """Count the user's unused recovery codes."""
    return (
        db.session.scalar(
            select(func.count())
            .select_from(RecoveryCode)
            .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
        )
        or 0
    )


# --- the sign-in code step ---------------------------------------------------------------------


def start_challenge(user: User, *, remember: bool) -> str:
    """Hold a sign-in whose password was right until its code is given; return the raw token."""
    raw = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(
        LoginChallenge(
            user_id=user.id,
            token_hash=_sha256(raw),
            remember=remember,
            created_at=now,
            expires_at=now + CHALLENGE_MAX_AGE,
        )
    )
    db.session.flush()
    return raw


def open_challenge(raw: str | None) -> LoginChallenge | None:
    """Return the waiting sign-in for a token, or None if it is unknown, spent or expired."""
    if not raw or not isinstance(raw, str):
        return None
    challenge = db.session.scalar(
        select(LoginChallenge).where(LoginChallenge.token_hash == _sha256(raw))
    )
    if challenge is None or challenge.spent_at is not None or challenge.expires_at <= utcnow():
        return None
    if not challenge.user.is_active:
        return None
    return challenge


def account_failures(user: User) -> int:
    """Count the wrong sign-in codes given for the account in the last 15 minutes."""
    # Each wrong code's own audit entry, by when it was typed: counted by when its sign-in
    # began, codes typed near the end of a sign-in started just over 15 minutes ago went
    # uncounted, and about 14 fitted in a real 15-minute window.
    since = utcnow() - ACCOUNT_FAILURE_WINDOW
    return (
        db.session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(
                AuditEntry.object_type == "User",
                AuditEntry.object_id == str(user.id),
                AuditEntry.action == "sign_in_failed",
                AuditEntry.summary.contains(_WRONG_CODE, autoescape=True),
                AuditEntry.created_at >= since,
            )
        )
        or 0
    )


class ChallengeFailed(MfaError):
    """A wrong code; `restart` says the sign-in must go back to the password step."""

    def __init__(self, message: str, *, restart: bool) -> None:
        super().__init__(message)
        self.restart = restart


def complete_challenge(challenge: LoginChallenge, code: str) -> User:
    """Check the sign-in code; on success spend the challenge and return the user."""
    user = challenge.user
    # One code of the account at a time, counted on the challenge as it stands after the
    # others: guesses sent at once would each read the same count and all be checked.
    lock_row(User, user.id)
    db.session.refresh(challenge)
    if challenge.spent_at is not None:
        raise ChallengeFailed("This sign-in has ended. Sign in again.", restart=True)
    if account_failures(user) >= ACCOUNT_MAX_FAILURES:
        challenge.spent_at = utcnow()
        db.session.flush()
        raise ChallengeFailed(
            "Too many wrong codes for this account. Wait 15 minutes, then sign in again.",
            restart=True,
        )
    kind = check_code(user, code)
    if kind is None:
        challenge.failures += 1
        restart = challenge.failures >= CHALLENGE_MAX_FAILURES
        if restart:
            challenge.spent_at = utcnow()
        LOGINS_FAILED.labels("second_factor").inc()
        record(
            "sign_in_failed",
            user,
            summary=f"{user.email}{_WRONG_CODE}({challenge.failures})",
            actor=None,
        )
        db.session.flush()
        message = (
            "Too many wrong codes. Sign in again."
            if restart
            else "That code is not right. Enter the current code from your app."
        )
        raise ChallengeFailed(message, restart=restart)
    spent = cast(
        CursorResult,
        db.session.execute(
            update(LoginChallenge)
            .where(LoginChallenge.id == challenge.id, LoginChallenge.spent_at.is_(None))
            .values(spent_at=utcnow())
            .execution_options(synchronize_session=False)
        ),
    ).rowcount
    if spent != 1:
        raise ChallengeFailed("This sign-in has already been used. Sign in again.", restart=True)
    return user

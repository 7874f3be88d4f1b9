"""Account write logic: sign-up, passwords, tokens, profile. Services flush; views commit."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import cast

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context
from sqlalchemy import CursorResult, func, select, update

from campus.accounts.models import PROFESSIONS, User, UserToken
from campus.extensions import db
from campus.mail.services import queue_email
from campus.models.base import utcnow
from campus.urls import public_url


class _Hasher:
    """Argon2id with the parameters the app's PASSWORD_HASH_PROFILE names (argon2.profiles).

    Production keeps the library's recommended RFC_9106_LOW_MEMORY; the tests name CHEAPEST,
    since hundreds of production-strength hashes would be most of the suite's time.
    """

    DEFAULT_PROFILE = "RFC_9106_LOW_MEMORY"

    def __init__(self) -> None:
        self._by_profile: dict[str, tuple[PasswordHasher, str]] = {}

    def _current(self) -> tuple[PasswordHasher, str]:
        name = self.DEFAULT_PROFILE
        if has_app_context():
            name = current_app.config.get("PASSWORD_HASH_PROFILE") or name
        found = self._by_profile.get(name)
        if found is None:
            parameters = getattr(profiles, name, None)
            if not isinstance(parameters, profiles.Parameters):
                raise RuntimeError(f"PASSWORD_HASH_PROFILE={name!r} is not an argon2 profile")
            hasher = PasswordHasher.from_parameters(parameters)
            # Verified against when no user matches, so a login takes as long whether or not
            # the email exists: it must cost what a real hash of this profile costs.
            found = self._by_profile[name] = (hasher, hasher.hash("campus-no-such-user"))
        return found

    @property
    def dummy_hash(self) -> str:
        return self._current()[1]

    def hash(self, password: str) -> str:
        return self._current()[0].hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        return self._current()[0].verify(password_hash, password)

    def check_needs_rehash(self, password_hash: str) -> bool:
        return self._current()[0].check_needs_rehash(password_hash)


_hasher = _Hasher()

PASSWORD_MIN = 10
PASSWORD_MAX = 128


class AccountError(ValueError):
    """A request that cannot be carried out; the message is safe to show the user."""


def normalize_email(email: str) -> str:
    """Lower-case and trim an email address for storage and lookup."""
    return email.strip().lower()


def hash_password(password: str) -> str:
    """Hash a password with Argon2id."""
    return _hasher.hash(password)


def check_password_rules(password: str) -> None:
    """Raise AccountError if a new password breaks the length rules."""
    if len(password) < PASSWORD_MIN:
        raise AccountError(f"Use at least {PASSWORD_MIN} characters.")
    if len(password) > PASSWORD_MAX:
        raise AccountError(f"Use at most {PASSWORD_MAX} characters.")


def get_user_by_email(email: str) -> User | None:
    """Find a user by email, ignoring case."""
    return db.session.scalar(select(User).where(User.email == normalize_email(email)))


def email_taken(email: str) -> bool:
    """Tell whether an account already uses this email (any case)."""
    return (
        db.session.scalars(
            select(func.count()).select_from(User).where(User.email == normalize_email(email))
        ).one()
        > 0
    )


def register_user(
    *,
    email: str,
    password: str,
    full_name: str,
    profession: str = "other",
    license_number: str | None = None,
    license_state: str | None = None,
    role: str = "student",
) -> User:
    """Create a student account and queue its verification email."""
    if email_taken(email):
        raise AccountError("An account with this email already exists. Log in instead.")
    if profession not in PROFESSIONS:
        raise AccountError("Choose a profession from the list.")
    check_password_rules(password)
    user = User(
        email=normalize_email(email),
        password_hash=hash_password(password),
        full_name=full_name.strip(),
        profession=profession,
        license_number=(license_number or "").strip() or None,
        license_state=(license_state or "").strip() or None,
        role=role,
    )
    db.session.add(user)
    db.session.flush()
    send_verification_email(user)
    return user


def authenticate(email: str, password: str) -> User | None:
    """Return the user if the email and password match an active account."""
    user = get_user_by_email(email)
    try:
        _hasher.verify(user.password_hash if user else _hasher.dummy_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.is_active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    return user


def verify_password(user: User, password: str) -> bool:
    """Check a user's current password."""
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def issue_token(user: User, purpose: str, max_age: int) -> str:
    """Create a single-use token and return the raw value (only its hash is stored)."""
    raw = secrets.token_urlsafe(32)
    db.session.add(
        UserToken(
            user=user,
            purpose=purpose,
            token_hash=_hash_token(raw),
            expires_at=utcnow() + timedelta(seconds=max_age),
        )
    )
    db.session.flush()
    return raw


def peek_token(raw: str, purpose: str) -> UserToken:
    """Return a usable token without spending it, or raise AccountError saying why not."""
    token = db.session.scalar(
        select(UserToken).where(
            UserToken.token_hash == _hash_token(raw or ""), UserToken.purpose == purpose
        )
    )
    if token is None:
        raise AccountError("This link is not valid. Request a new one.")
    if token.used_at is not None:
        raise AccountError("This link has already been used. Request a new one.")
    if token.expires_at <= utcnow():
        raise AccountError("This link has expired. Request a new one.")
    return token


def consume_token(raw: str, purpose: str) -> User:
    """Spend a token exactly once (an atomic update, safe against two clicks at once)."""
    token = peek_token(raw, purpose)
    spent = cast(
        CursorResult,
        db.session.execute(
            update(UserToken)
            .where(UserToken.id == token.id, UserToken.used_at.is_(None))
            .values(used_at=utcnow())
            .execution_options(synchronize_session=False)
        ),
    )
    if spent.rowcount != 1:
        raise AccountError("This link has already been used. Request a new one.")
    db.session.refresh(token)
    return token.user


def send_verification_email(user: User) -> None:
    """Queue an email with a fresh verification link."""
    raw = issue_token(user, "verify_email", current_app.config["EMAIL_VERIFY_MAX_AGE"])
    link = public_url("accounts.verify_email", token=raw)
    queue_email(user.email, "Confirm your email for Campus", "verify_email", user=user, link=link)


def verify_email(raw: str) -> User:
    """Mark the token's user as verified."""
    user = consume_token(raw, "verify_email")
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
    return user


def request_password_reset(email: str) -> None:
    """Email a reset link if the account exists; the caller answers the same either way."""
    user = get_user_by_email(email)
    if user is None or not user.is_active:
        return
    raw = issue_token(user, "reset_password", current_app.config["PASSWORD_RESET_MAX_AGE"])
    link = public_url("accounts.reset_password", token=raw)
    minutes = current_app.config["PASSWORD_RESET_MAX_AGE"] // 60
    queue_email(
        user.email,
        "Reset your Campus password",
        "reset_password",
        user=user,
        link=link,
        minutes=minutes,
    )


def _set_password(user: User, password: str) -> None:
    check_password_rules(password)
    user.password_hash = hash_password(password)
    # Every other session and remember-me cookie carries the old version and stops working.
    user.session_version += 1


def reset_password(raw: str, password: str) -> User:
    """Set a new password through a reset token; ends every session of the user."""
    check_password_rules(password)
    user = consume_token(raw, "reset_password")
    _set_password(user, password)
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()  # they proved they read the inbox
    return user


def change_password(user: User, current_password: str, new_password: str) -> None:
    """Change the password after checking the current one; ends the user's other sessions."""
    if not verify_password(user, current_password):
        raise AccountError("Your current password is not correct.")
    _set_password(user, new_password)


def update_profile(
    user: User,
    *,
    full_name: str,
    profession: str,
    license_number: str | None,
    license_state: str | None,
) -> None:
    """Update the fields a user may edit about themselves."""
    if profession not in PROFESSIONS:
        raise AccountError("Choose a profession from the list.")
    user.full_name = full_name.strip()
    user.profession = profession
    user.license_number = (license_number or "").strip() or None
    user.license_state = (license_state or "").strip() or None


def create_admin(email: str, password: str, full_name: str = "Campus Admin") -> User:
    """Create an admin account, or promote an existing account to admin."""
    user = get_user_by_email(email)
    if user is None:
        check_password_rules(password)
        user = User(
            email=normalize_email(email),
            password_hash=hash_password(password),
            full_name=full_name,
            email_verified_at=utcnow(),
        )
        db.session.add(user)
    user.role = "admin"
    db.session.flush()
    return user

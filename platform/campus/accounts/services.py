"""Account write logic: sign-up, passwords, tokens, profile. Services flush; views commit.

A forgotten password's reset by email is in campus.accounts.reset."""

from __future__ import annotations

import hashlib
import logging
import secrets
import unicodedata
from datetime import timedelta
from typing import cast

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context
from sqlalchemy import CursorResult, select, update
from sqlalchemy.exc import IntegrityError

from campus.accounts.addresses import email_forms, normalize_email
from campus.accounts.models import PROFESSIONS, User, UserToken
from campus.accounts.notices import tell_member, warn_of_signup_attempt
from campus.accounts.rules import RuleError, has_letter, password_problem, plain_text
from campus.accounts.signals import name_changed
from campus.audit import record
from campus.certificates.pdf import unprintable
from campus.extensions import db
from campus.mail.services import queue_email
from campus.models.base import utcnow
from campus.urls import public_url

log = logging.getLogger(__name__)


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
        # One keyboard sends "è" as one character, another as "e" and an accent: one password.
        return self._current()[0].hash(unicodedata.normalize("NFC", password))

    def verify(self, password_hash: str, password: str) -> bool:
        """Check a password in NFC, or as typed (how passwords were hashed before)."""
        composed = unicodedata.normalize("NFC", password)
        try:
            return self._current()[0].verify(password_hash, composed)
        except VerificationError:
            if composed == password:
                raise
        return self._current()[0].verify(password_hash, password)

    def check_needs_rehash(self, password_hash: str) -> bool:
        return self._current()[0].check_needs_rehash(password_hash)


_hasher = _Hasher()


class AccountError(ValueError):
    """A request that cannot be carried out; the message is safe to show the user.

    `field` names the form field the message belongs to, when there is one; `wrong` names the
    secret ("password" or "code") refused, for the audit log (audit.record_refusal).
    """

    def __init__(self, message: str, field: str | None = None, *, wrong: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.wrong = wrong


class AlreadyVerified(AccountError):
    """A verification link for an address that is already confirmed (that of `user_id`)."""

    def __init__(self, message: str, user_id: int) -> None:
        super().__init__(message)
        self.user_id = user_id


def hash_password(password: str) -> str:
    """Hash a password with Argon2id."""
    return _hasher.hash(password)


def check_password_rules(password: str, *context: str | None) -> None:
    """Raise AccountError if a new password is too short, too long or easy to guess.

    `context` is what a guesser knows about the user (their email, their name).
    """
    problem = password_problem(password, context)
    if problem:
        raise AccountError(problem, field="password")


def clean_profile_text(value: str | None, label: str, field: str) -> str:
    """Return a profile text trimmed and NFC-normalised, or raise AccountError for hidden marks."""
    try:
        return plain_text(value, label)
    except RuleError as exc:
        raise AccountError(str(exc), field=field) from None


def get_user_by_email(email: str) -> User | None:
    """Find the account of an address, whichever of its forms was typed or stored."""
    forms = email_forms(email)
    found = db.session.scalars(select(User).where(User.email.in_(forms))).all()
    # Two accounts from before may be one mailbox: the one in the stored form wins, then the
    # one stored as it is typed now.
    return min(found, key=lambda user: (forms.index(user.email), user.id), default=None)


# What User.full_name holds, and the sign-up and profile forms take.
_NAME_MAX = 120


def _profile_fields(full_name: str, profession: str) -> dict[str, str | None]:
    """Check and clean the fields certificates are made from."""
    if profession not in PROFESSIONS:
        raise AccountError("Choose a profession from the list.", field="profession")
    name = clean_profile_text(full_name, "Your name", "full_name")
    # Counted once composed: NFC writes some letters as two or three characters, so a name the
    # form let through could be longer than the column (PostgreSQL refuses the row).
    if len(name) > _NAME_MAX:
        raise AccountError(
            f"Your name is too long: at most {_NAME_MAX} characters.", field="full_name"
        )
    # A zero-width space or a lone accent is not empty, but a certificate would print nothing.
    if not has_letter(name):
        raise AccountError("Enter your full name.", field="full_name")
    # Printed anyway, such a character is an empty box on the certificate, not the name.
    missing = unprintable(name)
    if missing:
        raise AccountError(
            f"Certificates cannot print {' '.join(missing)}. Enter your name in Latin, Greek, "
            "Cyrillic, Arabic, Hebrew, Chinese, Japanese or Korean letters.",
            field="full_name",
        )
    return {"full_name": name, "profession": profession}


def register_user(
    *,
    email: str,
    password: str,
    full_name: str,
    profession: str = "other",
) -> str:
    """Create an account and send its confirmation link, or warn the owner of a taken address.

    The caller answers the same either way: only the mailbox learns whether the address was
    taken. Returns a binding for the signing-up browser's session (see verify_email): the
    confirmation link's hash for a new account, a random value of the same shape otherwise.
    """
    fields = _profile_fields(full_name, profession)
    check_password_rules(password, email, fields["full_name"])
    # Hashed before the lookup, so a taken address costs as much time as a new one.
    password_hash = hash_password(password)
    existing = get_user_by_email(email)
    if existing is None:
        user = User(email=normalize_email(email), password_hash=password_hash, **fields)
        try:
            with db.session.begin_nested():
                db.session.add(user)
        except IntegrityError:
            # Someone signed up with this address a moment ago: the same answer as taken.
            existing = get_user_by_email(email)
        else:
            record(
                "signup", user, summary=f"{user.email}: account created by signing up", actor=user
            )
            return send_verification_email(user)
    if existing is not None and existing.is_active:
        warn_of_signup_attempt(existing)
    return _hash_token(secrets.token_urlsafe(32))


def authenticate(email: str, password: str) -> User | None:
    """Return the user if the email and password match an active account."""
    user = get_user_by_email(email)
    try:
        _hasher.verify(user.password_hash if user else _hasher.dummy_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.is_active:
        return None
    if _hasher.check_needs_rehash(user.password_hash) or not unicodedata.is_normalized(
        "NFC", password
    ):
        user.password_hash = hash_password(password)
    return user


def verify_password(user: User, password: str) -> bool:
    """Check a user's current password."""
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def issue_token(user: User, purpose: str, max_age: int, *, new_email: str | None = None) -> str:
    """Create a single-use token and return the raw value (only its hash is stored)."""
    raw = secrets.token_urlsafe(32)
    db.session.add(
        UserToken(
            user=user,
            purpose=purpose,
            token_hash=_hash_token(raw),
            expires_at=utcnow() + timedelta(seconds=max_age),
            new_email=new_email,
        )
    )
    db.session.flush()
    return raw


def find_token(raw: str, purpose: str) -> UserToken | None:
    """Return the stored token a link holds, used or not, expired or not; None if there is none."""
    return db.session.scalar(
        select(UserToken).where(
            UserToken.token_hash == _hash_token(raw or ""), UserToken.purpose == purpose
        )
    )


def peek_token(raw: str, purpose: str) -> UserToken:
    """Return a usable token without spending it, or raise AccountError saying why not."""
    token = find_token(raw, purpose)
    if token is None or not token.user.is_active:
        # A disabled (or deleted) account's links open nothing, whenever they were mailed.
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


def send_verification_email(user: User) -> str:
    """Queue an email with a fresh verification link; return the link's binding (its hash)."""
    raw = issue_token(user, "verify_email", current_app.config["EMAIL_VERIFY_MAX_AGE"])
    link = public_url("accounts.verify_email", token=raw)
    queue_email(user.email, "Confirm your email for Campus", "verify_email", user=user, link=link)
    return _hash_token(raw)


def set_password(user: User, password: str) -> None:
    """Set a new password that passes the rules; spend the reset and email-change links out."""
    check_password_rules(password, user.email, user.full_name)
    user.password_hash = hash_password(password)
    # A reset link mailed before the change must not be able to undo it, nor a link to move
    # the account to an address whoever had the old password chose (sent to the owner's
    # signed-in browser, it would hand the account back to them).
    spend_tokens(user.id, ("reset_password", "change_email"))
    tell_member(user, "password")


def spend_tokens(user_id: int, purposes: tuple[str, ...] | None = None) -> None:
    """Use up the account's emailed links still out (of these purposes, or every one)."""
    unused = update(UserToken).where(UserToken.user_id == user_id, UserToken.used_at.is_(None))
    if purposes is not None:
        unused = unused.where(UserToken.purpose.in_(purposes))
    db.session.execute(unused.values(used_at=utcnow()).execution_options(synchronize_session=False))


def change_password(user: User, current_password: str, new_password: str) -> int:
    """Change the password after checking the current one; ends the user's other sessions.

    This device goes on with a new session token (the view hands it to the browser): a copy
    of its cookies is as likely the reason for the change as another device. The API tokens
    are revoked too (a token made by whoever had the password would outlive it); returns how
    many.
    """
    from campus.accounts.sessions import end_sessions, renew_session
    from campus.accounts.tokens import revoke_all_tokens

    if not verify_password(user, current_password):
        raise AccountError(
            "Your current password is not correct.", field="current_password", wrong="password"
        )
    set_password(user, new_password)
    ended = end_sessions(user, keep_current=True)
    renew_session(user)
    record(
        "password_changed",
        user,
        summary=f"{user.email}: password changed; {ended} other session(s) ended",
        actor=user,
    )
    return revoke_all_tokens(user, "password changed", actor=user)


def update_profile(user: User, *, full_name: str, profession: str) -> None:
    """Update the fields a user may edit about themselves, and log a change.

    The name is the one their next certificates print, so an auditor must see when and from
    what it changed (licenses live in campus.licenses, which logs its own).
    """
    fields = _profile_fields(full_name, profession)
    before = {name: getattr(user, name) for name in fields}
    if before == fields:
        return  # saved unchanged: nothing happened
    for name, value in fields.items():
        setattr(user, name, value)
    record("profile_updated", user, before=before, after=dict(fields), actor=user)
    if before["full_name"] != fields["full_name"]:
        name_changed.send(None, user_id=user.id)  # Stripe prints it on receipts and invoices


def create_admin(
    email: str,
    password: str,
    full_name: str = "Campus Admin",
    *,
    allow_unverified: bool = False,
) -> tuple[User, bool]:
    """Create an admin account, or promote an existing one with a fresh password (operator only).

    Promotion refuses an account whose address was never confirmed (anyone could have registered
    it) unless `allow_unverified`, replaces the password its registrant chose, and signs the
    account out everywhere. Returns the user and whether it was created.
    """
    from campus.accounts.sessions import end_sessions
    from campus.accounts.tokens import revoke_all_tokens
    from campus.audit import snapshot

    user = get_user_by_email(email)
    created = user is None
    if user is None:
        name = clean_profile_text(full_name, "The name", "full_name") or "Campus Admin"
        if len(name) > _NAME_MAX:  # counted once composed, as at sign-up
            raise AccountError(f"The name is too long: at most {_NAME_MAX} characters.")
        check_password_rules(password, email, name)
        user = User(
            email=normalize_email(email),
            password_hash=hash_password(password),
            full_name=name,
            email_verified_at=utcnow(),
            role="admin",
        )
        db.session.add(user)
        db.session.flush()
        record("create_admin", user, summary=f"cli: created admin {user.email}", actor=None)
        return user, created
    if not user.is_verified and not allow_unverified:
        raise AccountError(
            f"{user.email} has never confirmed its email address, so whoever registered it may "
            "not be who you think. Confirm the address first, or pass --allow-unverified.",
            field="email",
        )
    if not user.is_active:
        raise AccountError(f"{user.email} is disabled; enable it before promoting it.")
    before = snapshot(user)
    set_password(user, password)
    # Sessions opened before the promotion never passed the admin's second factor, and a
    # token its registrant made would carry admin's reach to them.
    end_sessions(user)
    revoke_all_tokens(user, "promoted to admin", actor=None)
    user.role = "admin"
    db.session.flush()
    record(
        "promote_admin",
        user,
        summary=f"cli: promoted {user.email} to admin with a new password; signed out everywhere",
        before=before,
        after=snapshot(user),
        actor=None,
    )
    return user, created

"""Confirming a sign-up's address from the emailed link: the link shows, a button confirms.

Mail providers' link scanners open every link in a message, so opening the link changes
nothing; only the page's button (a POST with the CSRF token) confirms the address.
"""

from __future__ import annotations

import hmac

from campus.accounts.models import User, UserToken
from campus.accounts.services import AlreadyVerified, consume_token, find_token, peek_token
from campus.audit import record
from campus.models.base import utcnow

PURPOSE = "verify_email"


def _usable_token(raw: str) -> UserToken:
    """Return the link's token if it can still confirm, or raise AccountError saying why not."""
    known = find_token(raw, PURPOSE)
    # A disabled (or deleted) account's link says "not valid" like its other links (peek_token):
    # "already confirmed" would tell whoever holds it the account is there and what it did.
    if known is not None and known.user.is_active and known.user.email_verified_at is not None:
        # A second click, or an old link: the address is confirmed, which is what they wanted.
        raise AlreadyVerified("Your email address is already confirmed.", known.user_id)
    return peek_token(raw, PURPOSE)


def pending_user(raw: str) -> User:
    """Return the account whose address the link would confirm, or raise AccountError why not."""
    return _usable_token(raw).user


def verify_email(raw: str, binding: str | None = None) -> tuple[User, bool]:
    """Mark the token's user as verified; tell whether this link should also sign them in.

    The link finishes a sign-up, so the sign-up page never has to reveal whether the address
    was new: it signs in an account that has never signed in, on its first confirmation, and
    only in the browser that signed up (whose session holds the `binding` register_user gave:
    the token's hash). A link opened anywhere else only confirms, so nobody who signed up with
    someone else's address gets that person signed in to an account whose password they chose.
    Admins always sign in through the login page.
    """
    token = _usable_token(raw)
    user = consume_token(raw, PURPOSE)
    first = user.email_verified_at is None and user.last_login_at is None
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
        record(
            "email_verified",
            user,
            summary=f"{user.email}: address confirmed by the emailed link",
            actor=user,
        )
    same_browser = binding is not None and hmac.compare_digest(binding, token.token_hash)
    sign_in = first and same_browser and user.is_active and not user.is_staff
    return user, sign_in

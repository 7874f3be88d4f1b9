"""A forgotten password, reset through an emailed link. Services flush; views commit."""

from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import func, select

from campus.accounts.models import User, UserToken
from campus.accounts.services import (
    AccountError,
    consume_token,
    get_user_by_email,
    issue_token,
    normalize_email,
    set_password,
)
from campus.audit import record
from campus.extensions import db
from campus.mail.services import is_queued, queue_email
from campus.models.base import utcnow
from campus.models.writes import lock_row
from campus.urls import public_url

log = logging.getLogger(__name__)

# At most this many working reset links are out for an account at a time; a request past it
# sends nothing (a link in the inbox works), whatever address it came from.
MAX_LIVE_LINKS = 3


def request_password_reset(email: str) -> None:
    """Queue the reset email job for an address; the account is looked up by the worker.

    The request costs the same whether or not an account exists, so neither its answer nor its
    timing tells which addresses have accounts.
    """
    from campus.jobs import send_task

    # Sent now, not after a commit: it writes no row, so nothing would find it again if the
    # broker lost it, and the person must hear that it did not go rather than wait for it.
    try:
        send_task(
            current_app.extensions["celery"],
            "campus.accounts.send_password_reset",
            (normalize_email(email),),
        )
    except Exception as exc:
        log.exception("password reset for an address not queued")
        raise AccountError(
            "We could not send the email just now. Try again in a few minutes.", field="email"
        ) from exc


def send_password_reset_email(email: str, request_id: str | None = None) -> bool:
    """Email a reset link if an active account has this address; tell whether one was sent.

    `request_id` names the request (the task's id): a task redelivered after its worker died
    past the commit finds its email queued and sends no second link.
    """
    dedupe_key = f"password-reset:{request_id}" if request_id else None
    if dedupe_key is not None and is_queued(dedupe_key):
        return False
    user = get_user_by_email(email)
    if user is None or not user.is_active:
        return False
    # The member's row, locked to the commit: requests handled at once count one another.
    lock_row(User, user.id)
    if _live_links(user) >= MAX_LIVE_LINKS:
        # Links that work are in the inbox already: a sender with many addresses (each under
        # the per-address limit) must not fill it. The request's answer is the same.
        log.info(
            "password reset for user #%d not sent: %d links still out", user.id, MAX_LIVE_LINKS
        )
        return False
    raw = issue_token(user, "reset_password", current_app.config["PASSWORD_RESET_MAX_AGE"])
    link = public_url("accounts.reset_password", token=raw)
    minutes = current_app.config["PASSWORD_RESET_MAX_AGE"] // 60
    queue_email(
        user.email,
        "Reset your Campus password",
        "reset_password",
        dedupe_key=dedupe_key,
        user=user,
        link=link,
        minutes=minutes,
    )
    return True


def _live_links(user: User) -> int:
    """Count the account's reset links that are still unused and unexpired."""
    return (
        db.session.scalar(
            select(func.count())
            .select_from(UserToken)
            .where(
                UserToken.user_id == user.id,
                UserToken.purpose == "reset_password",
                UserToken.used_at.is_(None),
                UserToken.expires_at > utcnow(),
            )
        )
        or 0
    )


def reset_password(raw: str, password: str) -> tuple[User, int]:
    """Set a new password through a reset token; end every session and API token of the user.

    Returns the user and how many API tokens were revoked (the member is told).
    """
    from campus.accounts import mfa
    from campus.accounts.sessions import end_sessions
    from campus.accounts.tokens import revoke_all_tokens

    # A refused password raises after the token is spent; the view's rollback keeps the token.
    user = consume_token(raw, "reset_password")
    set_password(user, password)
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()  # they proved they read the inbox
        if user.totp_enabled or user.totp_pending_secret:
            # Set up by whoever signed up with the address, before anyone proved it theirs:
            # left on, it would lock out the owner who now has.
            mfa.remove(user, "removed: set up before the address was confirmed")
    ended = end_sessions(user)
    record(
        "password_reset",
        user,
        summary=f"{user.email}: password reset by email link; {ended} session(s) ended",
        actor=user,
    )
    # A reset is what a member does who thinks the account was taken: a token the taker
    # made would outlive the sessions.
    revoked = revoke_all_tokens(user, "password reset", actor=user)
    return user, revoked

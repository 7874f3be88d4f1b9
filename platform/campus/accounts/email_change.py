"""Changing the account's email: verified at the new address, announced at the old one.

The request answers the same whether or not the new address belongs to someone else, so the
form cannot be used to learn who has an account; only the mailboxes learn it.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from campus.accounts.models import User, UserToken
from campus.accounts.services import (
    AccountError,
    AlreadyVerified,
    find_token,
    get_user_by_email,
    issue_token,
    normalize_email,
    peek_token,
    spend_tokens,
    verify_password,
)
from campus.accounts.sessions import end_sessions, renew_session
from campus.accounts.signals import email_changed
from campus.audit import AuditEntry, record
from campus.extensions import db
from campus.mail.services import queue_email, readdress_unsent
from campus.models.base import utcnow
from campus.urls import public_url

PURPOSE = "change_email"
# Links that went to the old address (a reset, a confirmation) must not outlive the change.
_SPENT_BY_CHANGE = ("change_email", "reset_password", "verify_email")


def mask_email(email: str) -> str:
    """Show enough of an address to recognise it, not enough to read it: j•••@e•••.com."""
    local, _, domain = email.partition("@")
    name, dot, tld = domain.rpartition(".")
    if not dot:
        name, tld = domain, ""
    masked_domain = (name[:1] + "•••" if name else "") + (f".{tld}" if tld else "")
    return f"{local[:1]}•••@{masked_domain}"


def request_change(user: User, new_email: str, password: str, max_age: int, code: str = "") -> str:
    """Send a confirmation link to the new address (or a note to its owner); return it, cleaned.

    Raises AccountError for a wrong password or code, or the current address; otherwise the
    caller answers "check that inbox" whatever happened.
    """
    from campus.accounts.mfa import check_code

    if not verify_password(user, password or ""):
        raise AccountError("Your password is not correct.", field="password", wrong="password")
    # The address is where reset links go: with a second factor on, the password and a
    # signed-in browser alone must not hand the account's recovery to another inbox.
    if user.totp_enabled and check_code(user, code or "") is None:
        raise AccountError("That code is not right.", field="code", wrong="code")
    address = normalize_email(new_email)
    if address == normalize_email(user.email):  # an account from before may keep another form
        raise AccountError("That is already your email address.", field="email")
    spend_tokens(user.id, (PURPOSE,))  # only the newest link works
    owner = get_user_by_email(address)
    if owner is not None:
        if owner.is_active:
            queue_email(
                owner.email,
                "Someone tried to use your email on another Campus account",
                "email_change_taken",
                dedupe_key=f"email-change-taken:{owner.id}:{utcnow():%Y%m%d%H}",
                user=owner,
                reset_link=public_url("accounts.request_reset"),
            )
        record(
            "email_change_requested",
            user,
            summary=f"member #{user.id} asked to change their email (address taken)",
            actor=user,
        )
        return address
    raw = issue_token(user, PURPOSE, max_age, new_email=address)
    queue_email(
        address,
        "Confirm your new email for Campus",
        "email_change_confirm",
        # Marks it as mail to someone without an account (mail.services.STRANGERS_MAIL); random,
        # as each request sends its own link.
        dedupe_key=f"email-change-confirm:{user.id}:{secrets.token_hex(8)}",
        user=user,
        link=public_url("accounts.confirm_email_change", token=raw),
        hours=max_age // 3600,
    )
    record(
        "email_change_requested",
        user,
        summary=f"member #{user.id} asked to change their email; link sent to the new address",
        actor=user,
    )
    return address


def _usable_token(user: User, raw: str) -> UserToken:
    """Return the link's token if it can still change this account's email, or raise why not."""
    known = find_token(raw, PURPOSE)
    if known is not None and known.user_id == user.id and known.new_email == user.email:
        # Opened again after the change: the address is the account's, which is what they wanted.
        raise AlreadyVerified(f"Your email address is already {user.email}.", user.id)
    token = peek_token(raw, PURPOSE)
    if token.user_id != user.id or not token.new_email:
        raise AccountError(
            "This link is not for the account you are signed in to. Log out, then open it "
            "again and log in to the account that asked for the change."
        )
    if get_user_by_email(token.new_email) is not None:
        raise AccountError("That address is no longer available. Choose another one.")
    return token


def pending_change(user: User, raw: str) -> str:
    """Return the address the link would make the account's email, or raise AccountError why not."""
    return str(_usable_token(user, raw).new_email)


def confirm_change(user: User, raw: str) -> int:
    """Make the link's address the account's email; end the other sessions; return how many.

    The link only works for the signed-in account that asked for it, exactly once, until it
    expires; the old address is told, with the new one masked. This device goes on with a new
    session token (the view hands it to the browser), as after a password change: a copy of its
    cookies must not outlive a change of the address that recovers the account.
    """
    token = _usable_token(user, raw)
    address = str(token.new_email)
    spent = db.session.execute(
        update(UserToken)
        .where(UserToken.id == token.id, UserToken.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if getattr(spent, "rowcount", 0) != 1:
        raise AccountError("This link has already been used. Request a new one.")
    old = user.email
    user.email = address
    user.email_verified_at = utcnow()
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise AccountError("That address is no longer available. Choose another one.") from None
    spend_tokens(user.id, _SPENT_BY_CHANGE)
    ended = end_sessions(user, keep_current=True)
    renew_session(user)
    readdress_unsent(old, address)
    queue_email(
        old,
        "Your Campus email address was changed",
        "email_changed",
        user=user,
        masked=mask_email(address),
        reset_link=public_url("accounts.request_reset"),
    )
    record(
        "email_changed",
        user,
        summary=f"member #{user.id} changed their email to {mask_email(address)}; "
        f"{ended} other session(s) ended",
        # The address it had: deleting the account later forgets that one too.
        before={"email": old},
        after={"email": address},
        actor=user,
    )
    email_changed.send(None, user_id=user.id)
    return ended


def earlier_addresses(user: User) -> list[str]:
    """The addresses the account had before its email changes, unless another account has one.

    Read from the changes' audit entries. An address someone else has signed up with since is
    theirs now: what is stored under it is not this account's to delete.
    """
    entries = db.session.scalars(
        select(AuditEntry.before).where(
            AuditEntry.action == "email_changed",
            AuditEntry.object_type == "User",
            AuditEntry.object_id == str(user.id),
        )
    )
    found = {
        entry["email"]
        for entry in entries
        if isinstance(entry, dict) and isinstance(entry.get("email"), str)
    }
    found.discard(user.email)
    return sorted(address for address in found if get_user_by_email(address) is None)

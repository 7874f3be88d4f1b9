"""Emails that tell a member of a change to how their account is signed in to.

A change the member did not make (someone with their password or an open session) is then
noticed by the one person who can undo it. Never a secret in them: only what changed, and
where to reset the password.
"""

from __future__ import annotations

from campus.accounts.models import User
from campus.mail.services import queue_email
from campus.models.base import utcnow
from campus.urls import public_url

# What changed: the email's subject, and its first sentence.
CHANGES = {
    "password": (
        "Your Campus password was changed",
        "The password of your Campus account was just changed.",
    ),
    "second_factor_on": (
        "The second factor of your Campus account was turned on",
        "An authenticator app was just set up for your Campus account: from now on, signing in "
        "to it takes a code from that app.",
    ),
    "api_token": (
        "A new API token was made for your Campus account",
        "An API token named “{name}” was just made for your Campus account. A program holding "
        "it reads your account (or changes it, if the token may write) without your password.",
    ),
    "second_factor_off": (
        "The second factor of your Campus account was turned off",
        "The authenticator app of your Campus account was just removed: a password alone "
        "now signs in to it.",
    ),
    "recovery_codes": (
        "New recovery codes were made for your Campus account",
        "A new set of recovery codes was just made for your Campus account: each one signs in "
        "in place of a code from your authenticator app, and the codes you kept before no "
        "longer work.",
    ),
    "role_assessor": (
        "You are now an assessor on Campus",
        "The site's staff just made your Campus account an assessor: you review candidates' "
        "practical videos in the admin. You were signed out everywhere; sign in again, and set "
        "up an authenticator app when asked (an assessor signs in with its code).",
    ),
    "role_student": (
        "Your Campus account is a member's account again",
        "The site's staff just took your Campus account's staff role away: it is a member's "
        "account again. You were signed out everywhere; sign in again to go on.",
    ),
}
# Changes the staff make: the member did not, so "if it was you" would not make sense.
BY_STAFF = frozenset({"role_assessor", "role_student"})


def tell_member(user: User, change: str, name: str = "") -> None:
    """Email the member that their account's sign-in changed (`change`: a key of CHANGES)."""
    subject, what = CHANGES[change]
    what = what.format(name=name)
    queue_email(
        user.email,
        subject,
        "security_changed",
        user=user,
        what=what,
        by_staff=change in BY_STAFF,
        reset_link=public_url("accounts.request_reset"),
    )


def warn_of_signup_attempt(user: User) -> None:
    """Tell an account's owner someone tried to sign up with their address (once an hour)."""
    queue_email(
        user.email,
        "Someone tried to sign up to Campus with your email",
        "signup_attempt",
        dedupe_key=f"signup-attempt:{user.id}:{utcnow():%Y%m%d%H}",
        user=user,
        login_link=public_url("accounts.login"),
        reset_link=public_url("accounts.request_reset"),
    )

"""Messages from clients: the spam checks, storing the message, and the relay by email.

No third-party captcha. A form carries a signed timestamp of when it was shown: one sent
back faster than a person could type, or long after, is refused; a hidden field that people
never see (bots fill it) marks a robot; a message with more links than a client needs is
refused. The practitioner's address is used only by the worker, in the email it sends them.
"""

from __future__ import annotations

import logging
import math
import re
from datetime import datetime, timedelta
from typing import cast

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import CursorResult, delete, or_, select, update

from campus.accounts.addresses import normalize_email
from campus.accounts.rules import (
    has_letter,
    says_something,
    stacked_marks,
    stacked_marks_message,
)
from campus.directory.models import ContactMessage, DirectoryProfile
from campus.directory.services import DirectoryError
from campus.extensions import db
from campus.jobs import enqueue_after_commit
from campus.mail.services import queue_email, retention_cutoff, single_address
from campus.models.base import utcnow
from campus.models.writes import lock_row
from campus.urls import public_url

log = logging.getLogger(__name__)

RELAY_TASK = "campus.directory.relay_message"
# Relays of one message that may be cut off by their worker's death before it is left.
RELAY_CUT_OFF_TRIES = 3
MAX_LINKS = 2
MAX_MESSAGE = 3000
# The same words from the same sender to one practitioner within this time are one message
# sent twice (a double click, the form sent again from the browser's history).
SAME_MESSAGE_WINDOW = timedelta(minutes=10)
_LINK = re.compile(r"https?://|www\.|\[url", re.IGNORECASE)
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


class LooksAutomated(Exception):
    """The form was filled in by a robot: answer as if it worked, keep nothing."""


class _Signer(TimestampSigner):
    """A timestamp signer that can date its signatures `back` seconds ago."""

    def __init__(self, *args, back: int = 0, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.back = back

    def get_timestamp(self) -> int:
        return super().get_timestamp() - self.back


def _serializer(back: int = 0) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        current_app.config["SECRET_KEY"],
        salt="campus.directory.form",
        signer=_Signer,
        signer_kwargs={"back": back},
    )


def form_stamp(profile_id: int) -> str:
    """Sign the moment a contact form is shown, for this profile."""
    return _serializer().dumps(profile_id)


def restamp(stamp: str, profile_id: int) -> str:
    """Stamp a form shown again with its refusal, so that sending it straight back is no hurry.

    People do send it straight back: the expired form asks them to, and a typo is put right in
    a second. A fresh stamp made that look faster than a person types, and the message was
    dropped as a robot's while they were told it was on its way. So the stamp they sent stands
    while it is good (their time writing counts), and an expired one's person, who wrote for
    longer than anyone needs, gets one dated the least time a person needs ago.
    """
    serializer = _serializer()
    try:
        signed_for = serializer.loads(
            stamp or "", max_age=current_app.config["CONTACT_FORM_MAX_AGE"]
        )
    except SignatureExpired as expired:
        try:
            signed_for = serializer.load_payload(expired.payload or b"")
        except BadSignature:  # a payload we signed always loads
            signed_for = None
        if signed_for == profile_id:
            back = math.ceil(float(current_app.config["CONTACT_MIN_FILL_SECONDS"]))
            return _serializer(back).dumps(profile_id)
    except BadSignature:
        signed_for = None
    return stamp if signed_for == profile_id else form_stamp(profile_id)


def check_stamp(stamp: str, profile_id: int) -> None:
    """Refuse a form sent back too fast (a robot) or too late (expired), or for another profile."""
    serializer = _serializer()
    max_age = int(current_app.config["CONTACT_FORM_MAX_AGE"])
    try:
        signed_for, shown_at = serializer.loads(stamp or "", max_age=max_age, return_timestamp=True)
    except SignatureExpired:
        raise DirectoryError("The form expired. Please send your message again.", 400) from None
    except BadSignature:
        raise LooksAutomated from None
    if signed_for != profile_id:
        raise LooksAutomated
    age = (utcnow() - shown_at).total_seconds()
    if age < float(current_app.config["CONTACT_MIN_FILL_SECONDS"]):
        raise LooksAutomated


def check_message(name: str, email: str, body: str, honeypot: str) -> tuple[str, str, str]:
    """Check a client's message; raise DirectoryError for a person, LooksAutomated for a robot."""
    if honeypot.strip():
        raise LooksAutomated
    name = " ".join((name or "").split())
    email = normalize_email(email or "")  # the form accounts keep it in: any server takes it
    body = (body or "").replace("\r\n", "\n").strip()
    # Every field's problem at once: a client fixing three mistakes sends the form once more.
    errors = message_problems(name, email, body)
    if errors:
        raise DirectoryError.of_fields(errors)
    return name, email, body


def message_problems(name: str, email: str, body: str) -> dict[str, str]:
    """Every bad field of a client's message, by field name; empty when all is well."""
    name = " ".join((name or "").split())
    email = normalize_email(email or "")
    body = (body or "").replace("\r\n", "\n").strip()
    errors: dict[str, str] = {}
    if not 1 <= len(name) <= 120 or not has_letter(name):
        errors["name"] = "Tell the practitioner your name."
    elif stacked_marks(name):
        errors["name"] = stacked_marks_message("Your name")
    if len(email) > 320 or not _EMAIL.match(email):
        errors["email"] = "Enter your email address so they can reply."
    # Zero-width characters count towards the length but leave the practitioner nothing to read.
    if len(body) < 10 or not says_something(body):
        errors["message"] = "Write a few words about what you are looking for."
    elif len(body) > MAX_MESSAGE:
        errors["message"] = f"Keep the message under {MAX_MESSAGE} characters."
    elif len(_LINK.findall(body)) > MAX_LINKS:
        errors["message"] = (
            f"Messages may hold at most {MAX_LINKS} links. Remove some and send it again."
        )
    return errors


def sent_already(
    profile: DirectoryProfile, name: str, email: str, body: str
) -> ContactMessage | None:
    """Find this very message taken for the profile a moment ago; None if it is new."""
    # The profile's row, locked to the commit: a second send landing at once waits here, then
    # finds the first one's message rather than storing, counting and relaying it again.
    lock_row(DirectoryProfile, profile.id)
    return db.session.scalar(
        select(ContactMessage)
        .where(
            ContactMessage.profile_id == profile.id,
            ContactMessage.sender_email == email,
            ContactMessage.sender_name == name,
            ContactMessage.body == body,
            ContactMessage.created_at > utcnow() - SAME_MESSAGE_WINDOW,
        )
        .limit(1)
    )


def store_message(profile: DirectoryProfile, name: str, email: str, body: str) -> ContactMessage:
    """Keep the message and count it; the worker relays it once the transaction commits."""
    if not profile.is_listed or not profile.contact_enabled:
        raise DirectoryError("This practitioner is not taking messages here.", 409)
    message = ContactMessage(profile_id=profile.id, sender_name=name, sender_email=email, body=body)
    db.session.add(message)
    # Added in the database: two clients writing at once must both be counted.
    profile.messages_received = DirectoryProfile.messages_received + 1
    # Kept as it was, like an impression: a message is no change to the profile, and its last
    # change is the sitemap's lastmod and the moderators' "recently changed" order.
    profile.updated_at = DirectoryProfile.updated_at
    db.session.flush()
    enqueue_after_commit(RELAY_TASK, message.id)
    return message


def _mail_key(kind: str, message: ContactMessage) -> str:
    """The dedupe key of an email about one message, unique to that message for good.

    Its moment goes in with its id: a message deleted after the retention may see its id handed
    out again (SQLite reuses the highest ids once they are gone), while the emails about it keep
    their keys, and a key of the old message would keep the new one from being relayed.
    """
    return f"directory:{kind}:{message.id}:{message.created_at:%Y%m%dT%H%M%S%f}"


def relay(message_id: int) -> bool:
    """Email a stored message to its practitioner and a copy to its sender, once each.

    False when it was relayed already, or when the practitioner stopped taking messages since
    (the sender is told instead).
    """
    message = db.session.get(ContactMessage, message_id)
    if message is None or message.relayed_at is not None:
        return False
    # The task and the sweep may both run for one message, at once: one conditional UPDATE
    # claims it, and only the run that made it queues the emails (a failure below rolls the
    # claim back with them, so the message waits for the sweep again).
    claimed = db.session.execute(
        update(ContactMessage)
        .where(ContactMessage.id == message_id, ContactMessage.relayed_at.is_(None))
        .values(relayed_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if cast(CursorResult, claimed).rowcount != 1:
        return False
    db.session.refresh(message)
    profile = message.profile
    # The client's typed address passes a loose check only: as a To header, "a,b@x" or an
    # encoded word reads as several addresses, strangers' among them, so such a one gets no
    # email of ours (the practitioner still reads it in the message).
    sender = single_address(message.sender_email)
    if not profile.is_listed or not profile.contact_enabled:
        # Hidden, or contact turned off, since the message was taken (the sweep may relay it
        # days later): the practitioner said no more messages, so only the sender hears.
        # Counted when it was taken, it never reached them: their "Messages received" drops it
        # (in the database, like the count: a message taken at this moment must still count).
        db.session.execute(
            update(DirectoryProfile)
            .where(DirectoryProfile.id == profile.id, DirectoryProfile.messages_received > 0)
            .values(
                messages_received=DirectoryProfile.messages_received - 1,
                updated_at=DirectoryProfile.updated_at,
            )
            .execution_options(synchronize_session=False)
        )
        if sender is not None:
            # Without the message: the typed address may be anyone's, and a notice repeating
            # what was typed would carry any text, from us, to any address.
            queue_email(
                sender,
                f"Your message to {profile.display_name} was not passed on",
                "directory_message_undelivered",
                dedupe_key=_mail_key("message-undelivered", message),
                profile=profile,
            )
        db.session.flush()
        return False
    profile_url = public_url("directory.profile", slug=profile.slug)
    # The subject outlives the body (mail.services.erase_old_bodies): the client, who has no
    # account here, is named in the body only, which goes with the message.
    queue_email(
        profile.user.email,
        "A new message through the directory",
        "directory_message",
        dedupe_key=_mail_key("message", message),
        reply_to=message.sender_email,
        message=message,
        profile=profile,
        profile_url=profile_url,
        settings_url=public_url("directory.edit"),
    )
    # The sender's copy names the practitioner and the profile, never their address: no
    # Reply-To either, so a reply to it comes to us, not to them.
    if sender is not None:
        queue_email(
            sender,
            f"Your message to {profile.display_name}",
            "directory_message_copy",
            dedupe_key=_mail_key("message-copy", message),
            message=message,
            profile=profile,
            profile_url=profile_url,
        )
    db.session.flush()
    return True


def start_relay(message_id: int) -> bool:
    """Count a relay of an unrelayed message about to start; False once too many were cut off.

    The caller commits the count before relaying: a relay that kills its worker (a crash, the
    OOM killer) rolls back with it, and the sweep would send it again every few minutes for
    DIRECTORY_RELAY_GIVE_UP_AFTER, killing a worker each time. After RELAY_CUT_OFF_TRIES the
    message is left unrelayed, as one past that age is (the sweep no longer finds it).
    """
    tries = db.session.scalar(
        update(ContactMessage)
        .where(ContactMessage.id == message_id, ContactMessage.relayed_at.is_(None))
        .values(cut_off_tries=ContactMessage.cut_off_tries + 1)
        .returning(ContactMessage.cut_off_tries)
        .execution_options(synchronize_session=False)
    )
    if tries is None or tries <= RELAY_CUT_OFF_TRIES:
        return True  # relayed already: relay() finds nothing to do
    log.error("message %s left unrelayed: its relay was cut off %d times", message_id, tries - 1)
    return False


def relay_failed(message_id: int) -> None:
    """Take back the count of a relay that ended with an error: it was not cut off."""
    db.session.execute(
        update(ContactMessage)
        .where(
            ContactMessage.id == message_id,
            ContactMessage.relayed_at.is_(None),
            ContactMessage.cut_off_tries > 0,
        )
        .values(cut_off_tries=ContactMessage.cut_off_tries - 1)
        .execution_options(synchronize_session=False)
    )


def unrelayed_ids(now: datetime | None = None, limit: int = 200) -> list[int]:
    """Messages stored a while ago and never relayed (their task lost), oldest first.

    One older than DIRECTORY_RELAY_GIVE_UP_AFTER is left alone: it failed on every sweep for
    that long, and trying it forever would only repeat the error in the log. So is one whose
    relay was cut off RELAY_CUT_OFF_TRIES times (start_relay).
    """
    now = now or utcnow()
    config = current_app.config
    stale = now - timedelta(seconds=config["DIRECTORY_RELAY_SWEEP_AFTER"])
    oldest = now - timedelta(seconds=config["DIRECTORY_RELAY_GIVE_UP_AFTER"])
    return list(
        db.session.scalars(
            select(ContactMessage.id)
            .where(
                ContactMessage.relayed_at.is_(None),
                ContactMessage.created_at < stale,
                ContactMessage.created_at >= oldest,
                ContactMessage.cut_off_tries < RELAY_CUT_OFF_TRIES,
            )
            .order_by(ContactMessage.created_at, ContactMessage.id)
            .limit(limit)
        )
    )


def delete_old_messages(now: datetime | None = None) -> int:
    """Delete clients' messages stored more than MESSAGE_RETENTION_DAYS ago; return how many.

    Only messages relayed or given up on are taken, so a short retention never takes one the
    sweep may still relay. The practitioner's count of messages is kept on the profile, and the
    relayed email's body is erased on the same schedule.
    """
    now = now or utcnow()
    cutoff = retention_cutoff(now)
    given_up = now - timedelta(seconds=current_app.config["DIRECTORY_RELAY_GIVE_UP_AFTER"])
    result = db.session.execute(
        delete(ContactMessage)
        .where(
            ContactMessage.created_at < cutoff,
            or_(ContactMessage.relayed_at.is_not(None), ContactMessage.created_at < given_up),
        )
        .execution_options(synchronize_session=False)
    )
    return cast(CursorResult, result).rowcount

"""Queue emails: render, store once, deliver after commit."""

from __future__ import annotations

from datetime import datetime, timedelta
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage as MimeMessage
from pathlib import Path
from typing import cast

from flask import current_app, render_template
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import ColumnElement, CursorResult, and_, delete, not_, or_, select, update
from sqlalchemy.exc import IntegrityError

from campus.extensions import db
from campus.jobs import enqueue_after_commit
from campus.mail.models import EmailMessage
from campus.models.base import utcnow

# A deleted account's placeholder address lives here (RFC 2606: never deliverable, never
# anyone's); what is still sent about that account (a credential issued after it was deleted,
# a reminder) has nobody to go to.
TOMBSTONE_DOMAIN = "deleted.invalid"
# Tries of one message: the first and deliver_email's eight retries; then it is given up.
MAX_ATTEMPTS = 9


def queue_email(
    to: str,
    subject: str,
    template: str,
    *,
    dedupe_key: str | None = None,
    marketing: bool = False,
    reply_to: str | None = None,
    **context,
) -> EmailMessage | None:
    """Render templates/email/<template>.txt (and .html if present) and queue the message once.

    With a dedupe_key the message is queued at most once, however often this is called. A
    marketing message carries a one-click unsubscribe link (RFC 8058), in its headers and text.
    With reply_to, the recipient's Reply goes to that address rather than to ours. Nothing is
    queued to a deleted account's placeholder address.
    """
    if to.rpartition("@")[2].lower() == TOMBSTONE_DOMAIN:
        return None
    # A header is one line: a title or name holding a line separator (U+2028, which no
    # control-character check catches) made the message fail to build on every try.
    subject = " ".join(subject.split())
    if dedupe_key is not None:
        existing = db.session.scalar(
            select(EmailMessage).where(EmailMessage.dedupe_key == dedupe_key)
        )
        if existing is not None:
            return None
    unsubscribe_url = None
    if marketing:
        from campus.urls import public_url

        unsubscribe_url = public_url("mail.unsubscribe", token=unsubscribe_token(to))
    context.setdefault("unsubscribe_url", unsubscribe_url)
    context.setdefault("site_name", current_app.config["SITE_NAME"])
    context.setdefault("base_url", current_app.config["PUBLIC_BASE_URL"].rstrip("/"))
    text = render_template(f"email/{template}.txt", subject=subject, **context)
    try:
        html = render_template(f"email/{template}.html", subject=subject, **context)
    except Exception as exc:
        if type(exc).__name__ != "TemplateNotFound":
            raise
        html = None
    message = EmailMessage(
        to=to,
        subject=subject,
        text_body=text,
        html_body=html,
        dedupe_key=dedupe_key,
        unsubscribe_url=unsubscribe_url,
        reply_to=single_address(reply_to),
    )
    try:
        with db.session.begin_nested():
            db.session.add(message)
    except IntegrityError:
        # Another process queued the same keyed message a moment ago.
        return None
    enqueue_after_commit("campus.mail.deliver_email", message.id)
    return message


def is_queued(dedupe_key: str) -> bool:
    """Tell whether the message with this dedupe key was queued already."""
    found = db.session.scalar(select(EmailMessage.id).where(EmailMessage.dedupe_key == dedupe_key))
    return found is not None


def single_address(value: str | None) -> str | None:
    """Return value if it is exactly one plain address (fit for a header), else None.

    A client's typed address passes a loose check only; one that a mail parser would read as
    something else (two addresses, a comment) must not steer replies, so it gets no header.
    """
    if not value:
        return None
    try:
        parsed = str(Address(addr_spec=value))
    except (ValueError, IndexError, HeaderParseError):
        return None
    return value if parsed == value else None


def _unsubscribe_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="campus.mail.unsubscribe")


def unsubscribe_token(email: str) -> str:
    """Sign an address for its unsubscribe link (no expiry: old emails must keep working)."""
    return _unsubscribe_serializer().dumps(email.strip().lower())


def check_unsubscribe_token(token: str) -> str | None:
    """Return the address a genuine unsubscribe token was made for, else None."""
    try:
        email = _unsubscribe_serializer().loads(token)
    except BadSignature:
        return None
    return email if isinstance(email, str) and email else None


def to_mime(message: EmailMessage, sender: str) -> MimeMessage:
    """Build the MIME message for a stored email; the Message-ID is stable per row."""
    mime = MimeMessage()
    mime["From"] = sender
    mime["To"] = message.to
    mime["Subject"] = message.subject
    domain = sender.rsplit("@", 1)[-1].strip(">") or "campus.example"
    mime["Message-ID"] = f"<campus-{message.id}@{domain}>"
    if message.reply_to:
        mime["Reply-To"] = message.reply_to
    if message.unsubscribe_url:
        # RFC 8058: mail clients offer one-click unsubscribe by POSTing to this URL.
        mime["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
        mime["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    mime.set_content(message.text_body)
    if message.html_body:
        mime.add_alternative(message.html_body, subtype="html")
    return mime


# Emails to people who hold no account here, by the start of their dedupe key: a download's
# link to whoever asked, a directory client's copy of their message (or the word that it was
# not passed on), the confirmation to a member who deleted their account, and the link to an
# address a member asked to change to (not theirs until followed: mistyped, it is a stranger's).
# Past the retention their row goes too: its address is all it still holds, and no later event
# can be kept from repeating by a key of a past day, a deleted message or a deleted account.
STRANGERS_MAIL = (
    "download:",
    "directory:message-copy:",
    "directory:message-undelivered:",
    "account-deleted:",
    "email-change-confirm:",
)


def readdress_unsent(old: str, new: str) -> int:
    """Send an account's mail still waiting for delivery to its new address; count it.

    What was queued before the member changed their address (the mail server down, the worker
    behind) is theirs, not the old mailbox's. Mail to people without an account stays as it was
    addressed: it is for whoever typed that address.
    """
    strangers = or_(*(EmailMessage.dedupe_key.startswith(prefix) for prefix in STRANGERS_MAIL))
    result = db.session.execute(
        update(EmailMessage)
        .where(
            EmailMessage.to == old,
            EmailMessage.status.in_(("queued", "failed")),
            EmailMessage.attempts < MAX_ATTEMPTS,
            or_(EmailMessage.dedupe_key.is_(None), not_(strangers)),
        )
        .values(to=new)
        .execution_options(synchronize_session=False)
    )
    return cast(CursorResult, result).rowcount


def _done_before(cutoff: datetime) -> ColumnElement[bool]:
    """Emails sent, or given up on (never tried again), before the cutoff."""
    return or_(
        and_(EmailMessage.status == "sent", EmailMessage.sent_at < cutoff),
        and_(
            EmailMessage.status == "failed",
            EmailMessage.attempts >= MAX_ATTEMPTS,
            EmailMessage.updated_at < cutoff,
        ),
    )


def retention_cutoff(now: datetime | None = None) -> datetime:
    """The moment MESSAGE_RETENTION_DAYS ago: what is older goes (messages, bodies, leads)."""
    return (now or utcnow()) - timedelta(days=current_app.config["MESSAGE_RETENTION_DAYS"])


def delete_old_strangers_mail(now: datetime | None = None) -> int:
    """Delete the emails to people without an account done before the retention; count them."""
    result = db.session.execute(
        delete(EmailMessage)
        .where(
            _done_before(retention_cutoff(now)),
            or_(*(EmailMessage.dedupe_key.startswith(prefix) for prefix in STRANGERS_MAIL)),
        )
        .execution_options(synchronize_session=False)
    )
    return cast(CursorResult, result).rowcount


def erase_old_bodies(now: datetime | None = None) -> int:
    """Erase the bodies of emails sent or given up on before the retention days; count them.

    The retention is MESSAGE_RETENTION_DAYS. The row stays (to whom, the subject, when, its
    dedupe key): it still shows the email went, and keeps a replayed event from sending it
    twice. The body is what carries a client's words, a member's details or a link.
    """
    result = db.session.execute(
        update(EmailMessage)
        .where(_done_before(retention_cutoff(now)), EmailMessage.text_body != "")
        .values(text_body="", html_body=None, reply_to=None)
        .execution_options(synchronize_session=False)
    )
    return cast(CursorResult, result).rowcount


def delete_old_outbox_files(now: datetime | None = None) -> int:
    """Delete the outbox folder's emails written before the retention; count them.

    The outbox backend (MAIL_BACKEND=outbox) writes each email whole to a file: past the
    retention the file would keep the body the database erased, and an email deleted whole.
    """
    folder = Path(current_app.config["INSTANCE_PATH"]) / "outbox"
    if not folder.is_dir():
        return 0
    cutoff = retention_cutoff(now).timestamp()
    deleted = 0
    for path in folder.glob("*.eml"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                deleted += 1
        except FileNotFoundError:
            continue  # gone already: another run, or the operator
    return deleted

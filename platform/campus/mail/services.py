"""Queue emails: render, store once, deliver after commit."""

from __future__ import annotations

from email.message import EmailMessage as MimeMessage

from flask import current_app, render_template
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from campus.extensions import db
from campus.jobs import enqueue_after_commit
from campus.mail.models import EmailMessage


def queue_email(
    to: str, subject: str, template: str, *, dedupe_key: str | None = None, **context
) -> EmailMessage | None:
    """Render templates/email/<template>.txt (and .html if present) and queue the message once.

    With a dedupe_key the message is queued at most once, however often this is called.
    """
    if dedupe_key is not None:
        existing = db.session.scalar(
            select(EmailMessage).where(EmailMessage.dedupe_key == dedupe_key)
        )
        if existing is not None:
            return None
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
        to=to, subject=subject, text_body=text, html_body=html, dedupe_key=dedupe_key
    )
    try:
        with db.session.begin_nested():
            db.session.add(message)
    except IntegrityError:
        # Another process queued the same keyed message a moment ago.
        return None
    enqueue_after_commit("campus.mail.deliver_email", message.id)
    return message


def to_mime(message: EmailMessage, sender: str) -> MimeMessage:
    """Build the MIME message for a stored email; the Message-ID is stable per row."""
    mime = MimeMessage()
    mime["From"] = sender
    mime["To"] = message.to
    mime["Subject"] = message.subject
    domain = sender.rsplit("@", 1)[-1].strip(">") or "campus.example"
    mime["Message-ID"] = f"<campus-{message.id}@{domain}>"
    mime.set_content(message.text_body)
    if message.html_body:
        mime.add_alternative(message.html_body, subtype="html")
    return mime

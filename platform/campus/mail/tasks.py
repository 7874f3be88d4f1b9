"""Deliver queued email."""

from __future__ import annotations

import logging
import smtplib

from celery import shared_task
from flask import current_app
from sqlalchemy import select

from campus.extensions import db
from campus.mail.models import EmailMessage
from campus.mail.services import to_mime
from campus.models.base import utcnow

log = logging.getLogger(__name__)


@shared_task(bind=True, max_retries=8, name="campus.mail.deliver_email")
def deliver_email(self, message_id: int) -> None:
    """Send one stored message by id; a message already sent is left alone."""
    message = db.session.scalar(
        select(EmailMessage).where(EmailMessage.id == message_id).with_for_update()
    )
    if message is None or message.status == "sent":
        return
    config = current_app.config
    message.attempts += 1
    try:
        _send(message, config)
    except (OSError, smtplib.SMTPException) as exc:
        message.status = "failed"
        message.last_error = str(exc)[:2000]
        db.session.commit()
        raise self.retry(exc=exc, countdown=min(2**self.request.retries * 10, 3600)) from exc
    message.status = "sent"
    message.sent_at = utcnow()
    message.last_error = None
    db.session.commit()


def _send(message: EmailMessage, config) -> None:
    mime = to_mime(message, config["MAIL_FROM"])
    if config["MAIL_BACKEND"] == "smtp":
        with smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=30) as smtp:
            if config["SMTP_USE_TLS"]:
                smtp.starttls()
            if config["SMTP_USERNAME"]:
                smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"] or "")
            smtp.send_message(mime)
        return
    outbox = config["INSTANCE_PATH"] / "outbox"
    outbox.mkdir(parents=True, exist_ok=True)
    # Named by id and written atomically: a retried delivery overwrites, never duplicates.
    target = outbox / f"{message.id:08d}.eml"
    tmp = target.with_suffix(".tmp")
    tmp.write_bytes(bytes(mime))
    tmp.replace(target)
    log.info("email %s to %s: %s (%s)", message.id, message.to, message.subject, target)

"""Deliver queued email, and re-send what a lost task never delivered."""

from __future__ import annotations

import logging
import smtplib
import socket
from datetime import datetime, timedelta
from typing import cast

from celery import shared_task
from celery.schedules import crontab
from flask import current_app
from sqlalchemy import ColumnElement, CursorResult, and_, case, literal, or_, select, update

from campus.extensions import db
from campus.jobs import retry_wait
from campus.mail.models import EmailMessage
from campus.mail.services import (
    MAX_ATTEMPTS,
    delete_old_outbox_files,
    delete_old_strangers_mail,
    erase_old_bodies,
    to_mime,
)
from campus.models.base import utcnow

log = logging.getLogger(__name__)


class _DeliveryFailed(Exception):
    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


@shared_task(
    bind=True,
    max_retries=MAX_ATTEMPTS - 1,
    name="campus.mail.deliver_email",
    acks_late=True,
    reject_on_worker_lost=True,
)
def deliver_email(self, message_id: int) -> None:
    """Send one stored message by id unless another deliverer holds it or it was sent."""
    try:
        deliver(message_id)
    except _DeliveryFailed as failed:
        countdown = _backoff(self.request.retries)
        raise self.retry(exc=failed.error, countdown=countdown) from failed.error


def _backoff(retries: int) -> int:
    """Wait 10 seconds, doubled per try, short of the broker's visibility timeout."""
    return retry_wait(min(2**retries * 10, 3600))


@shared_task(name="campus.mail.sweep_unsent", acks_late=True, reject_on_worker_lost=True)
def sweep_unsent() -> int:
    """Deliver messages whose delivery task was lost (a killed worker); return how many sent."""
    config = current_app.config
    now = utcnow()
    overdue = now - timedelta(seconds=config["MAIL_SWEEP_AFTER"])
    stale_claim = now - timedelta(seconds=config["MAIL_CLAIM_TIMEOUT"])
    # A failed message is normally retried by its task; one whose retry was lost gets swept
    # once the longest back-off has passed.
    lost_retry = now - timedelta(seconds=3600 + config["MAIL_SWEEP_AFTER"])
    _give_up_interrupted(stale_claim)
    ids = db.session.scalars(
        select(EmailMessage.id)
        .where(
            or_(
                and_(EmailMessage.status == "queued", EmailMessage.created_at < overdue),
                _dead_claim(stale_claim),
                and_(
                    EmailMessage.status == "failed",
                    EmailMessage.attempts < MAX_ATTEMPTS,
                    EmailMessage.updated_at < lost_retry,
                ),
            )
        )
        .order_by(EmailMessage.id)
        .limit(200)
    ).all()
    db.session.commit()
    sent = unreachable = 0
    for message_id in ids:
        try:
            sent += deliver(message_id)
        except _DeliveryFailed as failed:
            # Recorded on the row; a later sweep or its own retry tries again. A server that
            # cannot be reached costs each try its connection timeout: after a few in a row,
            # the rest wait for the next sweep rather than hold a worker for the whole batch
            # while beat queues more sweeps behind this one.
            unreachable = unreachable + 1 if _server_away(failed.error) else 0
            if unreachable >= MAX_UNREACHABLE_IN_A_ROW:
                log.warning("mail sweep stopped: the mail server is unreachable")
                break
            continue
        unreachable = 0
    return sent


def _dead_claim(stale_claim: datetime) -> ColumnElement[bool]:
    """A claim its deliverer left (killed mid-send) on a message with tries left."""
    return and_(
        EmailMessage.status == "sending",
        EmailMessage.claimed_at < stale_claim,
        EmailMessage.attempts < MAX_ATTEMPTS,
    )


def _give_up_interrupted(stale_claim: datetime) -> None:
    """Mark failed the messages out of tries whose last one was cut off mid-send (worker killed).

    Claimed again after each dead claim, a message that kills its deliverer would do so every
    MAIL_CLAIM_TIMEOUT forever. Failed with its tries used up, it is sent no more, shows as
    failed, and goes with the retention like any message given up on.
    """
    result = db.session.execute(
        update(EmailMessage)
        .where(
            EmailMessage.status == "sending",
            EmailMessage.claimed_at < stale_claim,
            EmailMessage.attempts >= MAX_ATTEMPTS,
        )
        .values(
            status="failed",
            # A message that met an error on an earlier try keeps it: that is why it was tried
            # again, and it is what an admin needs to read, not that every try was cut off.
            last_error=case(
                (
                    EmailMessage.last_error.is_(None),
                    f"delivery interrupted {MAX_ATTEMPTS} times (its worker died while sending)",
                ),
                else_=literal(
                    "its last try was interrupted (its worker died while sending); "
                    "the try before failed: "
                )
                + EmailMessage.last_error,
            ),
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    given_up = cast(CursorResult, result).rowcount
    if given_up:
        log.error("gave up %d emails whose every delivery was interrupted", given_up)


# After this many deliveries in a row found the mail server unreachable, a sweep stops.
MAX_UNREACHABLE_IN_A_ROW = 3


def _server_away(error: Exception) -> bool:
    """Tell whether a delivery failed for want of the server, not for its message."""
    return isinstance(
        error,
        ConnectionError
        | TimeoutError
        | socket.gaierror
        | smtplib.SMTPConnectError
        | smtplib.SMTPServerDisconnected,
    )


def claim(message_id: int) -> EmailMessage | None:
    """Take one message for delivery and commit the claim; None when it is not ours to send.

    One conditional UPDATE decides: two sweeps, or a sweep and the late original task, can
    never both claim a message; a claim older than MAIL_CLAIM_TIMEOUT was a dead deliverer's.
    A message that has had its MAX_ATTEMPTS tries is never claimed again.
    """
    now = utcnow()
    stale_claim = now - timedelta(seconds=current_app.config["MAIL_CLAIM_TIMEOUT"])
    result = db.session.execute(
        update(EmailMessage)
        .where(
            EmailMessage.id == message_id,
            or_(
                EmailMessage.status == "queued",
                and_(EmailMessage.status == "failed", EmailMessage.attempts < MAX_ATTEMPTS),
                _dead_claim(stale_claim),
            ),
        )
        .values(status="sending", claimed_at=now, attempts=EmailMessage.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if cast(CursorResult, result).rowcount != 1:
        return None
    return db.session.get(EmailMessage, message_id, populate_existing=True)


def deliver(message_id: int) -> int:
    """Claim and send one message; return 1 if this call sent it, 0 if it was not ours."""
    message = claim(message_id)
    if message is None:
        return 0
    try:
        _send(message, current_app.config)
    except Exception as exc:
        # Whatever stopped it (the server, or a message that cannot even be built) is recorded
        # and counted against its tries: one bad message must neither stop a sweep's batch nor
        # sit "sending" to be claimed again forever.
        if not isinstance(exc, OSError | smtplib.SMTPException):
            log.exception("email %s could not be sent", message.id)
        message.status = "failed"
        message.last_error = str(exc)[:2000]
        db.session.commit()
        raise _DeliveryFailed(exc) from exc
    message.status = "sent"
    message.sent_at = utcnow()
    message.last_error = None
    db.session.commit()
    return 1


def _send(message: EmailMessage, config) -> None:
    mime = to_mime(message, config["MAIL_FROM"])
    if config["MAIL_BACKEND"] == "smtp":
        smtp = smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=30)
        try:
            if config["SMTP_USE_TLS"]:
                smtp.starttls()
            if config["SMTP_USERNAME"]:
                smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"] or "")
            smtp.send_message(mime)
        finally:
            _hang_up(smtp)
        return
    outbox = config["INSTANCE_PATH"] / "outbox"
    outbox.mkdir(parents=True, exist_ok=True)
    # Named by id and written atomically: a retried delivery overwrites, never duplicates.
    target = outbox / f"{message.id:08d}.eml"
    tmp = target.with_suffix(".tmp")
    tmp.write_bytes(bytes(mime))
    tmp.replace(target)
    log.info("email %s to %s: %s (%s)", message.id, message.to, message.subject, target)


def _hang_up(smtp: smtplib.SMTP) -> None:
    """Say QUIT and close, whatever the server answers.

    Once send_message has returned the server has taken the message: an odd answer to QUIT, or
    a line dropped after it, must not mark it failed and have it sent again.
    """
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()


@shared_task(name="campus.mail.erase_old_bodies")
def erase_old_bodies_task() -> int:
    """Forget old emails' contents (safe to run twice); return how many emails were touched.

    The retention's emails to people without an account go whole; the others lose their body.
    """
    deleted = delete_old_strangers_mail()
    erased = erase_old_bodies()
    db.session.commit()
    if deleted or erased:
        log.info("deleted %d old emails to non-members, erased the bodies of %d", deleted, erased)
    files = delete_old_outbox_files()
    if files:
        log.info("deleted %d old emails from the outbox folder", files)
    return deleted + erased


# Jobs that run a few times a day or less go by the clock (crontab), never by an interval: an
# interval counts from beat's start when its schedule file is gone (a recreated container), so a
# beat redeployed more often than the interval would never run them.
BEAT_SCHEDULE = {
    "mail-sweep-unsent": {
        "task": "campus.mail.sweep_unsent",
        "schedule": 120.0,
    },
    "mail-erase-old-bodies": {
        "task": "campus.mail.erase_old_bodies",
        "schedule": crontab(minute=35, hour=2),
    },
}

"""The outgoing email record."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from campus.extensions import Model
from campus.models.base import TimestampMixin


class EmailMessage(TimestampMixin, Model):
    """One message to one recipient; `dedupe_key` makes "send once per event" a constraint."""

    __tablename__ = "email_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    to: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str | None] = mapped_column(Text)
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    # queued | sending (claimed by one deliverer) | sent | failed (retried)
    status: Mapped[str] = mapped_column(String(20), default="queued", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
    # When a deliverer claimed it: a claim older than MAIL_CLAIM_TIMEOUT belongs to a dead one.
    claimed_at: Mapped[datetime | None]
    # Marketing messages: the one-click unsubscribe link (RFC 8058).
    unsubscribe_url: Mapped[str | None] = mapped_column(String(500))
    # Where the recipient's reply should go, when not to us: a relayed message's sender.
    reply_to: Mapped[str | None] = mapped_column(String(320))

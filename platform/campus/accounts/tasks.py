"""Account jobs that must not show in a request's answer or timing."""

from __future__ import annotations

from celery import shared_task

from campus.accounts import services
from campus.extensions import db


@shared_task(name="campus.accounts.send_password_reset")
def send_password_reset(email: str) -> None:
    """Look the address up and email a reset link if it has an active account."""
    services.send_password_reset_email(email)
    db.session.commit()

"""Listen to the accounts feature: a member's new email reaches their Stripe customer."""

from __future__ import annotations

from campus.accounts.signals import email_changed
from campus.jobs import enqueue_after_commit

SYNC_EMAIL_TASK = "campus.billing.sync_customer_email"


@email_changed.connect
def _sync_customer_email(_sender, user_id: int, **_extra) -> None:
    # Stripe sends its receipts and payment emails to the customer's own address.
    enqueue_after_commit(SYNC_EMAIL_TASK, user_id)

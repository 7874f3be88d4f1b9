"""Listen to the accounts feature: a member's new email or name reaches their Stripe customer."""

from __future__ import annotations

from campus.accounts.signals import email_changed, name_changed
from campus.jobs import enqueue_after_commit

# Named for the email it first carried; it sends the member's current email and name together.
SYNC_EMAIL_TASK = "campus.billing.sync_customer_email"


@email_changed.connect
@name_changed.connect
def _sync_customer_contact(_sender, user_id: int, **_extra) -> None:
    # Stripe sends its receipts to the customer's address and prints its name on them.
    enqueue_after_commit(SYNC_EMAIL_TASK, user_id)

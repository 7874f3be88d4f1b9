"""A member's current email and name reach their Stripe customer, on its receipts and invoices."""

from __future__ import annotations

import logging
from collections.abc import Callable

from campus.billing.models import StripeCustomer
from campus.billing.stripe_api import PaymentProviderError, gateway
from campus.billing.subscriptions import customer_contact

log = logging.getLogger(__name__)

# How many times one run sends the details when they keep changing while Stripe answers; the
# run sent by the latest change takes over from there.
SYNC_EMAIL_ROUNDS = 3


def send_current_email(user_id: int, settle: Callable[[], None]) -> str | None:
    """Give the member's customer their current email and name; return the email sent last.

    The details are read here, not passed in, and read again after Stripe answered: a change
    committed while a request was on its way may have been overtaken by it at Stripe. Of two
    quick changes the latest is what Stripe keeps, in whatever order the runs come. `settle`
    (a commit) runs before each request, so no transaction is held open while Stripe answers.
    """
    sent: tuple[str, str] | None = None
    for _round in range(SYNC_EMAIL_ROUNDS):
        found = customer_contact(user_id)
        settle()
        if found is None or found[1:] == sent:
            break
        customer_id, email, name = found
        gateway().update_customer_contact(customer_id, email=email, name=name)
        settle()  # the simulator's customer
        sent = (email, name)
    return sent[0] if sent is not None else None


def repair_customer_email(record: StripeCustomer, settle: Callable[[], None]) -> bool:
    """Send the current email and name where Stripe's customer has others; tell if it was sent.

    This is how a change whose sync was lost (broker away at commit, worker killed, retries
    spent, an inline run meeting Stripe down) still reaches Stripe. Never for a deleted account:
    its address is a placeholder.
    """
    found = customer_contact(record.user_id)
    settle()  # no transaction held open while Stripe answers
    if found is None:
        return False
    try:
        customer = gateway().retrieve_customer(record.stripe_customer_id)
        if customer is None or (customer.get("email"), customer.get("name")) == found[1:]:
            return False
        send_current_email(record.user_id, settle)
    except PaymentProviderError as exc:
        # Not the message: Stripe's can quote the address or the name. The next run tries again.
        log.warning(
            "reconciliation could not give customer %s its email and name: %s",
            record.stripe_customer_id,
            type(exc).__name__,
        )
        return False
    return True

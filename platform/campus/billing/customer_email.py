"""A member's current email reaches their Stripe customer, where Stripe sends its receipts."""

from __future__ import annotations

import logging
from collections.abc import Callable

from campus.billing.models import StripeCustomer
from campus.billing.stripe_api import PaymentProviderError, gateway
from campus.billing.subscriptions import customer_contact

log = logging.getLogger(__name__)

# How many times one run sends the address when it keeps changing while Stripe answers; the
# run sent by the latest change takes over from there.
SYNC_EMAIL_ROUNDS = 3


def send_current_email(user_id: int, settle: Callable[[], None]) -> str | None:
    """Give the member's customer their current email; return what was sent last, if anything.

    The address is read here, not passed in, and read again after Stripe answered: a change
    committed while a request was on its way may have been overtaken by it at Stripe. Of two
    quick changes the latest is what Stripe keeps, in whatever order the runs come. `settle`
    (a commit) runs before each request, so no transaction is held open while Stripe answers.
    """
    sent = None
    for _round in range(SYNC_EMAIL_ROUNDS):
        found = customer_contact(user_id)
        settle()
        if found is None or found[1] == sent:
            return sent
        customer_id, email = found
        gateway().update_customer_email(customer_id, email)
        settle()  # the simulator's customer
        sent = email
    return sent


def repair_customer_email(record: StripeCustomer, settle: Callable[[], None]) -> bool:
    """Send the current email where Stripe's customer has another; tell whether it was sent.

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
        if customer is None or customer.get("email") == found[1]:
            return False
        send_current_email(record.user_id, settle)
    except PaymentProviderError as exc:
        # Not the message: Stripe's can quote the address. The next run tries again.
        log.warning(
            "reconciliation could not give customer %s its email: %s",
            record.stripe_customer_id,
            type(exc).__name__,
        )
        return False
    return True

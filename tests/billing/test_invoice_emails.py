"""What the failed-payment email says of the amount, whatever the invoice's currency."""

from __future__ import annotations

import pytest

from campus.billing.models import StripeCustomer
from campus.extensions import db
from tests import support
from tests.billing.fake_stripe import event, invoice, post_event, subscription


@pytest.mark.parametrize(
    ("currency", "amount", "said", "not_said"),
    [
        ("usd", 1995, "$19.95", None),
        ("eur", 1895, None, "$18.95"),
        ("jpy", 3000, None, "$30.00"),  # zero-decimal: 3000 is ¥3,000
    ],
)
def test_a_failed_payment_email_never_misstates_the_amount(
    stripe_client, stripe_app, currency, amount, said, not_said
):
    with stripe_app.app_context():
        user_id = support.create_user().id
        db.session.add(StripeCustomer(user_id=user_id, stripe_customer_id="cus_fx"))
        db.session.commit()
    sub = subscription("sub_fx", "cus_fx", user_id=user_id)
    post_event(stripe_client, event("customer.subscription.created", sub))
    failed = invoice("sub_fx", "cus_fx", paid=False)
    failed.update(currency=currency, amount_due=amount)
    post_event(stripe_client, event("invoice.payment_failed", failed))
    [message] = support.outbox(stripe_app)
    body = support.body_of(message)
    assert "We could not charge your card" in body
    if said:
        assert f"charge your card {said} for" in body
    if not_said:
        assert not_said not in body

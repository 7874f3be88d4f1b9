"""A deleted member's payments, as Stripe's stored events tell them, keep no way to reach them."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from tests import support


def _delete(client):
    return support.post_form(
        client,
        "/account/delete",
        {"password": support.DEFAULT_PASSWORD, "code": "", "confirmation": "DELETE"},
    )


EMAIL = "EMAIL"  # the member's address, put in where Stripe has it
TAX_ID = "12-3456789"
# Stripe's pages of a receipt or invoice: anyone with the link sees the person's email and address.
URL = "https://pay.stripe.test/invoice/acct_1/live_named"


@pytest.mark.parametrize(
    ("kind", "fields"),
    [
        ("charge.succeeded", {"object": "charge", "id": "ch_named", "receipt_email": EMAIL}),
        ("charge.succeeded", {"object": "charge", "id": "ch_named", "receipt_url": URL}),
        (
            "invoice.paid",
            {"object": "invoice", "id": "in_named", "hosted_invoice_url": URL, "invoice_pdf": URL},
        ),
        (
            "payment_intent.succeeded",
            {"object": "payment_intent", "id": "pi_named", "receipt_email": EMAIL},
        ),
        (
            "invoice.finalized",
            {
                "object": "invoice",
                "id": "in_named",
                "customer_tax_ids": [{"type": "us_ein", "value": TAX_ID}],
            },
        ),
    ],
)
def test_a_deleted_members_payment_events_keep_no_receipt_address_or_tax_id(app, kind, fields):
    from campus.billing.models import StripeCustomer, WebhookEvent
    from campus.extensions import db

    client = app.test_client()
    with app.app_context():
        email = support.create_user().email
    support.login(client, email)
    checkout = support.post_form(client, "/membership/checkout")
    support.post_form(client, checkout.headers["Location"], {"card_number": "4242 4242 4242 4242"})
    with app.app_context():
        customer_id = db.session.scalars(select(StripeCustomer.stripe_customer_id)).one()
        # As Stripe sends them: a receipt goes to an address; an invoice names the tax ids.
        obj = {k: email if v == EMAIL else v for k, v in fields.items()}
        obj["customer"] = customer_id
        db.session.add(
            WebhookEvent(
                stripe_event_id="evt_named",
                type=kind,
                created=1,
                payload=json.dumps({"id": "evt_named", "data": {"object": obj}}),
                status="ignored",
            )
        )
        db.session.commit()
    assert _delete(client).status_code == 302
    with app.app_context():
        payload = db.session.scalars(
            select(WebhookEvent.payload).where(WebhookEvent.stripe_event_id == "evt_named")
        ).one()
    assert email not in payload and TAX_ID not in payload and URL not in payload
    assert json.loads(payload)["data"]["object"]["customer"] == customer_id

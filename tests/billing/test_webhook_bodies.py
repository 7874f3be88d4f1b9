"""Signed webhook bodies that no Stripe event looks like: a 400, nothing stored, never a 500."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from campus.billing.models import WebhookEvent
from campus.extensions import db
from tests.billing.fake_stripe import event, signed_headers, subscription


def _stored(app) -> int:
    with app.app_context():
        return len(db.session.scalars(select(WebhookEvent)).all())


# 900 levels parse, then the stored event would fail in processing on every worker retry;
# 100,000 do not parse. Refused, nothing is stored (Stripe's redeliveries are refused alike).
@pytest.mark.parametrize("depth", [900, 100_000], ids=["past-processing", "past-the-parser"])
def test_a_signed_event_nested_too_deep_is_refused_and_nothing_stored(
    stripe_client, stripe_app, depth
):
    obj = {"id": "cus_x", "object": "customer"}
    body = json.dumps(event("customer.deleted", obj))
    payload = body[:-1] + ', "extra": ' + "[" * depth + "]" * depth + "}"
    response = stripe_client.post("/webhooks/stripe", data=payload, headers=signed_headers(payload))
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_webhook"
    assert _stored(stripe_app) == 0


def _with_nul_in_id(customer_id: str) -> dict:
    evt = event("customer.created", {"id": "cus_x", "object": "customer"})
    evt["id"] = "evt_\u0000x"
    return evt


def _with_nul_in_subscription(customer_id: str) -> dict:
    return event("customer.subscription.created", subscription("sub_\u0000a", customer_id))


# PostgreSQL refuses NUL in text: the event could not be stored (a 503 each delivery) or its
# subscription looked up (failed on every worker retry). Refused with a 400, nothing is stored;
# Stripe redelivers any non-2xx for up to three days, and each delivery is refused the same.
@pytest.mark.parametrize("make", [_with_nul_in_id, _with_nul_in_subscription])
def test_a_signed_event_holding_a_nul_is_refused_and_nothing_stored(
    stripe_client, stripe_app, make
):
    payload = json.dumps(make("cus_a"))
    response = stripe_client.post("/webhooks/stripe", data=payload, headers=signed_headers(payload))
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_webhook"
    assert _stored(stripe_app) == 0


def _with_surrogate_in_id(customer_id: str) -> dict:
    evt = event("customer.created", {"id": "cus_x", "object": "customer"})
    evt["id"] = "evt_\ud800x"
    return evt


def _with_surrogate_in_subscription(customer_id: str) -> dict:
    return event("customer.subscription.created", subscription("sub_\udfffa", customer_id))


# "\ud800" is a valid JSON escape, but a lone surrogate is no character: neither database
# driver can encode it as text, so the event could not be stored (a 500 each delivery) or its
# subscription looked up (failed on every worker retry), as with a NUL.
@pytest.mark.parametrize("make", [_with_surrogate_in_id, _with_surrogate_in_subscription])
def test_a_signed_event_holding_a_lone_surrogate_is_refused_and_nothing_stored(
    stripe_client, stripe_app, make
):
    payload = json.dumps(make("cus_a"))  # ASCII: the surrogate travels as its escape
    assert "\\ud" in payload
    response = stripe_client.post("/webhooks/stripe", data=payload, headers=signed_headers(payload))
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_webhook"
    assert _stored(stripe_app) == 0

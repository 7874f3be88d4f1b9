"""The simulated Stripe's storage: Stripe-shaped objects as JSON rows, and the events it emits.

Only used when SIMULATED_STRIPE is on (see simulator.py, which makes the objects).
"""

from __future__ import annotations

import itertools
import json
import secrets
import time
from typing import Any

from flask import current_app
from sqlalchemy import select

from campus.billing.models import SimulatedStripeObject
from campus.extensions import db
from campus.jobs import enqueue_after_commit

API_VERSION = "2026-10-28.endive"


class SimulatorError(Exception):
    """The simulated Stripe refused the request (like a 4xx from Stripe)."""


def now() -> int:
    """The simulated Stripe's clock, in whole seconds as Stripe gives it."""
    return int(time.time())


# Objects made in the same second are listed in the order made: their ids sort that way.
_MADE = itertools.count()


def new_id(prefix: str) -> str:
    """A new object id with Stripe's kind of prefix ("evt", "sub", ...)."""
    return f"{prefix}_sim{next(_MADE):010d}{secrets.token_hex(6)}"


def get_object(object_id: str) -> dict[str, Any] | None:
    """Return one stored object as a dict, or None."""
    row = db.session.get(SimulatedStripeObject, object_id)
    return json.loads(row.data) if row is not None else None


def lock(object_id: str) -> dict[str, Any]:
    """Load one stored object and hold its row lock; SimulatorError if there is none."""
    row = db.session.scalar(
        select(SimulatedStripeObject).where(SimulatedStripeObject.id == object_id).with_for_update()
    )
    if row is None:
        raise SimulatorError(f"No such object: {object_id}")
    return json.loads(row.data)


def save(obj: dict[str, Any]) -> dict[str, Any]:
    """Store an object (new or changed) and return it."""
    row = db.session.get(SimulatedStripeObject, obj["id"])
    customer = obj.get("customer") if obj["object"] != "customer" else obj["id"]
    if row is None:
        row = SimulatedStripeObject(
            id=obj["id"], object=obj["object"], customer=customer, created=obj["created"], data=""
        )
        db.session.add(row)
    row.data = json.dumps(obj, sort_keys=True)
    row.customer = customer
    db.session.flush()
    return obj


def objects(kind: str, customer: str | None = None) -> list[dict[str, Any]]:
    """List stored objects of one kind (optionally one customer's), oldest first."""
    query = select(SimulatedStripeObject).where(SimulatedStripeObject.object == kind)
    if customer is not None:
        query = query.where(SimulatedStripeObject.customer == customer)
    # `created` is in seconds: within one, the id keeps the order they were made in (by this
    # process), where the database would give any order it liked.
    order = (SimulatedStripeObject.created, SimulatedStripeObject.id)
    rows = db.session.scalars(query.order_by(*order)).all()
    return [json.loads(row.data) for row in rows]


def emit(event_type: str, obj: dict[str, Any], previous: dict[str, Any] | None = None) -> dict:
    """Store an event about obj and send it to our webhook endpoint (unless turned off)."""
    event: dict[str, Any] = {
        "id": new_id("evt"),
        "object": "event",
        "api_version": API_VERSION,
        "created": now(),
        "type": event_type,
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "data": {"object": obj},
    }
    if previous:
        event["data"]["previous_attributes"] = previous
    save(event)
    if current_app.config.get("SIMULATED_STRIPE_AUTO_DELIVER", True):
        enqueue_after_commit("campus.billing.deliver_simulated_event", event["id"])
    return event

"""A small local HTTP server that imitates the Stripe endpoints Campus calls, plus event helpers."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlparse

PRICE_ID = "price_test_membership"
_IDEMPOTENCY_ERROR = {
    "error": {
        "type": "idempotency_error",
        "message": "Keys for idempotent requests can only be used with the same parameters "
        "they were first used with.",
    }
}
WEBHOOK_SECRET = "whsec_test_secret"
_ids = itertools.count(1)


def new_id(prefix: str) -> str:
    return f"{prefix}_fake{next(_ids):06d}"


def _unflatten(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Turn Stripe's form encoding (a[b][0][c]=v) back into nested dicts and lists."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = key.replace("]", "").split("[")
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value

    def listify(node: Any) -> Any:
        if isinstance(node, dict):
            node = {k: listify(v) for k, v in node.items()}
            if node and all(k.isdigit() for k in node):
                return [node[k] for k in sorted(node, key=int)]
        return node

    return listify(root)


def subscription(
    sub_id: str,
    customer: str,
    *,
    status: str = "active",
    period_end: int | None = None,
    cancel_at_period_end: bool = False,
    price: str = PRICE_ID,
    user_id: int | None = None,
    trial_end: int | None = None,
) -> dict[str, Any]:
    """A subscription object in the 2026-10-28 shape (period end on the items)."""
    now = int(time.time())
    period_end = period_end or now + 30 * 86400
    return {
        "id": sub_id,
        "object": "subscription",
        "customer": customer,
        "status": status,
        "created": now,
        "cancel_at_period_end": cancel_at_period_end,
        "canceled_at": now if cancel_at_period_end or status == "canceled" else None,
        "ended_at": now if status == "canceled" else None,
        "trial_end": trial_end,
        "metadata": {"user_id": str(user_id)} if user_id else {},
        "items": {
            "object": "list",
            "data": [
                {
                    "id": new_id("si"),
                    "object": "subscription_item",
                    "current_period_start": period_end - 30 * 86400,
                    "current_period_end": period_end,
                    "price": {"id": price, "object": "price", "unit_amount": 1995},
                    "quantity": 1,
                }
            ],
        },
    }


def invoice(sub_id: str, customer: str, *, paid: bool, attempt: int = 1) -> dict[str, Any]:
    """An invoice whose subscription sits under parent.subscription_details (2026-10-28)."""
    return {
        "id": new_id("in"),
        "object": "invoice",
        "customer": customer,
        "status": "paid" if paid else "open",
        "currency": "usd",
        "amount_due": 1995,
        "attempt_count": attempt,
        "parent": {
            "type": "subscription_details",
            "subscription_details": {"subscription": sub_id, "metadata": {}},
        },
    }


def event(event_type: str, obj: dict[str, Any], created: int | None = None) -> dict[str, Any]:
    return {
        "id": new_id("evt"),
        "object": "event",
        "api_version": "2026-10-28.endive",
        "type": event_type,
        "created": int(time.time()) if created is None else created,
        "livemode": False,
        "data": {"object": obj},
    }


def signed_headers(payload: str, secret: str = WEBHOOK_SECRET, timestamp: int | None = None):
    from campus.billing.stripe_api import sign_payload

    return {
        "Stripe-Signature": sign_payload(payload, secret, timestamp),
        "Content-Type": "application/json",
    }


def post_event(client, evt: dict[str, Any], **kwargs: Any):
    """POST a signed event to /webhooks/stripe like Stripe does."""
    payload = json.dumps(evt)
    return client.post("/webhooks/stripe", data=payload, headers=signed_headers(payload, **kwargs))


class FakeStripe:
    """Threaded HTTP server answering /v1/... like Stripe, recording every request."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _reply(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Request-Id", new_id("req"))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self, method: str) -> None:
                url = urlparse(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode() if length else ""
                params = _unflatten(parse_qsl(raw or url.query, keep_blank_values=True))
                stall = fake.stalls.get(url.path)
                if stall is not None:
                    stall.wait(10)  # a Stripe that does not answer, until the test lets it go
                with fake.lock:
                    fake.requests.append(
                        {
                            "method": method,
                            "path": url.path,
                            "params": params,
                            "idempotency_key": self.headers.get("Idempotency-Key"),
                            "authorization": self.headers.get("Authorization"),
                        }
                    )
                    if fake.fail_next.get(url.path, 0) > 0:
                        fake.fail_next[url.path] -= 1
                        self._reply(500, {"error": {"type": "api_error", "message": "down"}})
                        return
                    if url.path in fake.fail_paths:
                        self._reply(500, {"error": {"type": "api_error", "message": "down"}})
                        return
                    if url.path in fake.refuse:
                        self._reply(*fake.refuse[url.path])
                        return
                    key = self.headers.get("Idempotency-Key")
                    if method == "POST" and key and key in fake.idempotent:
                        if fake.idempotent_requests.get(key) != (url.path, params):
                            # As Stripe does: a key is for one request, parameters and all.
                            self._reply(400, _IDEMPOTENCY_ERROR)
                            return
                        self._reply(*fake.idempotent[key])
                        return
                    status, body = fake.route(method, url.path, params)
                    then = fake.after.pop(url.path, None)
                    if then is not None:
                        body = json.loads(json.dumps(body))  # the answer as it was before
                        then()  # something happening at Stripe just after this answer
                    if method == "POST" and key:
                        fake.idempotent[key] = (status, body)
                        fake.idempotent_requests[key] = (url.path, params)
                self._reply(status, body)

            def do_GET(self) -> None:
                self._handle("GET")

            def do_POST(self) -> None:
                self._handle("POST")

            def do_DELETE(self) -> None:
                self._handle("DELETE")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def reset(self) -> None:
        """Forget every request and object, as a newly started server would."""
        with self.lock:
            self.requests: list[dict[str, Any]] = []
            self.customers: dict[str, dict] = {}
            self.sessions: dict[str, dict] = {}
            self.subscriptions: dict[str, dict] = {}
            self.charges: dict[str, dict] = {}
            self.idempotent: dict[str, tuple[int, dict]] = {}
            self.idempotent_requests: dict[str, tuple[str, dict]] = {}
            self.fail_paths: set[str] = set()
            # path -> how many more requests to it are answered 500 (a Stripe that recovers)
            self.fail_next: dict[str, int] = {}
            # path -> (status, body) every request to it is answered with (a refusal)
            self.refuse: dict[str, tuple[int, dict]] = {}
            # customers it answers "No such customer" for (made with other keys, or deleted)
            self.forgotten: set[str] = set()
            # path -> an event: requests to it hang until the event is set
            self.stalls: dict[str, threading.Event] = {}
            # path -> a change made once, right after the next request to it is answered
            self.after: dict[str, Callable[[], Any]] = {}

    def start(self) -> FakeStripe:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def calls(self, method: str, path: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["method"] == method and r["path"] == path]

    @staticmethod
    def _missing(kind: str, object_id: str, param: str = "id") -> tuple[int, dict]:
        return (400 if param != "id" else 404), {
            "error": {
                "type": "invalid_request_error",
                "code": "resource_missing",
                "param": param,
                "message": f"No such {kind}: '{object_id}'",
            }
        }

    def route(self, method: str, path: str, params: dict) -> tuple[int, dict]:
        parts = path.strip("/").split("/")
        if method == "POST" and path == "/v1/customers":
            customer = {"id": new_id("cus"), "object": "customer", **params}
            self.customers[customer["id"]] = customer
            return 200, customer
        if method == "POST" and path == "/v1/checkout/sessions":
            if params.get("customer") not in self.customers:
                return self._missing("customer", params.get("customer") or "", "customer")
            session_id = new_id("cs")
            session = {
                "id": session_id,
                "object": "checkout.session",
                "url": f"https://checkout.stripe.test/c/pay/{session_id}",
                "status": "open",
                "payment_status": "unpaid",
                "subscription": None,
                "created": int(time.time()),
                "expires_at": int(time.time()) + 86400,
                **params,
            }
            self.sessions[session_id] = session
            return 200, session
        if method == "GET" and path == "/v1/checkout/sessions":
            # Stripe refuses a list for a customer it does not know, as it refuses a session.
            customer = params.get("customer") or ""
            if customer not in self.customers or customer in self.forgotten:
                return self._missing("customer", customer, "customer")
            since = int((params.get("created") or {}).get("gte") or 0)
            found = [
                s
                for s in self.sessions.values()
                if s.get("customer") == params.get("customer") and s["created"] >= since
            ]
            return 200, {"object": "list", "data": found, "has_more": False, "url": path}
        if method == "GET" and parts[:3] == ["v1", "checkout", "sessions"] and len(parts) == 4:
            session = self.sessions.get(parts[3])
            return (200, session) if session else self._missing("checkout.session", parts[3])
        if (
            method == "POST"
            and parts[:3] == ["v1", "checkout", "sessions"]
            and parts[4:] == ["expire"]
        ):
            return self._expire_session(parts[3])
        if method == "GET" and path == "/v1/subscriptions":
            if params["customer"] in self.forgotten:
                return self._missing("customer", params["customer"], "customer")
            subs = [s for s in self.subscriptions.values() if s["customer"] == params["customer"]]
            return 200, {"object": "list", "data": subs, "has_more": False, "url": path}
        if method == "GET" and parts[:2] == ["v1", "subscriptions"] and len(parts) == 3:
            sub = self.subscriptions.get(parts[2])
            return (200, sub) if sub else self._missing("subscription", parts[2])
        if method == "DELETE" and parts[:2] == ["v1", "subscriptions"] and len(parts) == 3:
            sub = self.subscriptions.get(parts[2])
            if sub is None:
                return self._missing("subscription", parts[2])
            sub.update(status="canceled", canceled_at=int(time.time()), ended_at=int(time.time()))
            return 200, sub
        if method == "GET" and parts[:2] == ["v1", "charges"] and len(parts) == 3:
            charge = self.charges.get(parts[2])
            return (200, charge) if charge else self._missing("charge", parts[2])
        if method == "GET" and parts[:2] == ["v1", "customers"] and len(parts) == 3:
            customer = self.customers.get(parts[2])
            return (200, customer) if customer else self._missing("customer", parts[2])
        if method == "POST" and parts[:2] == ["v1", "customers"] and len(parts) == 3:
            customer = self.customers.get(parts[2])
            if customer is None:
                return self._missing("customer", parts[2])
            customer.update(params)
            return 200, customer
        if method == "DELETE" and parts[:2] == ["v1", "customers"] and len(parts) == 3:
            if self.customers.pop(parts[2], None) is None:
                return self._missing("customer", parts[2])
            return 200, {"id": parts[2], "object": "customer", "deleted": True}
        if method == "POST" and path == "/v1/billing_portal/sessions":
            if params.get("customer") not in self.customers:
                return self._missing("customer", params.get("customer") or "", "customer")
            portal_id = new_id("bps")
            return 200, {
                "id": portal_id,
                "object": "billing_portal.session",
                "url": f"https://billing.stripe.test/p/session/{portal_id}",
                **params,
            }
        return 404, {"error": {"type": "invalid_request_error", "message": f"no route {path}"}}

    def _expire_session(self, session_id: str) -> tuple[int, dict]:
        """Expire an open session, as Stripe does; any other status is refused."""
        session = self.sessions.get(session_id)
        if session is None:
            return self._missing("checkout.session", session_id)
        if session["status"] != "open":
            return 400, {
                "error": {
                    "type": "invalid_request_error",
                    "message": (
                        'Only Checkout Sessions with a status in ["open"] can be expired. '
                        f"This Checkout Session has a status of {session['status']}."
                    ),
                }
            }
        session.update(status="expired")
        return 200, session

    def complete_session(self, session_id: str, sub: dict[str, Any]) -> dict[str, Any]:
        """Mark a session paid with a subscription, as Stripe does after payment."""
        self.subscriptions[sub["id"]] = sub
        session = self.sessions[session_id]
        session.update(status="complete", payment_status="paid", subscription=sub["id"])
        return session

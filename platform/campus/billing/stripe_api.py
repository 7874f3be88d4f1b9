"""The few Stripe calls Campus makes, behind one small interface (real Stripe or the simulator).

Everything returned is a plain dict in Stripe's API shape (version 2026-10-28), so the code that
reads subscriptions and sessions does not care where they came from.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any, Protocol

import stripe
from flask import current_app

from campus.accounts.models import User

SIMULATED_PRICE_ID = "price_campus_membership"


class PaymentProviderError(Exception):
    """Stripe could not be reached or refused the request; nothing was changed locally."""


class CustomerMissing(PaymentProviderError):
    """Stripe does not know the customer: deleted there, or made with other keys."""


class RequestRefused(PaymentProviderError):
    """Stripe refused the request itself (a 4xx other than 429): asking again gets the same."""


def _refused(exc: stripe.StripeError) -> PaymentProviderError:
    """Our error for Stripe's: CustomerMissing where it does not know the customer named."""
    missing = getattr(exc, "code", None) == "resource_missing"
    if isinstance(exc, stripe.InvalidRequestError) and missing and exc.param == "customer":
        return CustomerMissing(str(exc))
    return PaymentProviderError(str(exc))


class Gateway(Protocol):
    """What Campus asks of Stripe."""

    def now(self) -> int: ...
    def create_customer(self, user: User, *, replacing: str | None = None) -> str: ...
    def create_checkout_session(
        self, *, customer_id: str, user: User, success_url: str, cancel_url: str
    ) -> dict[str, Any]: ...
    def retrieve_checkout_session(self, session_id: str) -> dict[str, Any] | None: ...
    def expire_checkout_session(self, session_id: str) -> dict[str, Any] | None: ...
    def list_checkout_sessions(self, customer_id: str, since: int) -> list[dict[str, Any]]: ...
    def retrieve_subscription(self, subscription_id: str) -> dict[str, Any] | None: ...
    def retrieve_charge(self, charge_id: str) -> dict[str, Any] | None: ...
    def list_subscriptions(self, customer_id: str) -> list[dict[str, Any]]: ...
    def create_portal_session(self, *, customer_id: str, return_url: str) -> str: ...
    def cancel_subscription(self, subscription_id: str) -> None: ...
    def delete_customer(self, customer_id: str) -> None: ...
    def update_customer_contact(self, customer_id: str, *, email: str, name: str) -> None: ...
    def retrieve_customer(self, customer_id: str) -> dict[str, Any] | None: ...


def membership_price_id() -> str:
    """Return the one price of the membership (the simulator's own when no Stripe price is set)."""
    return current_app.config.get("STRIPE_PRICE_ID") or SIMULATED_PRICE_ID


def webhook_secret() -> str | None:
    """Return the webhook signing secret; the simulator derives one from SECRET_KEY if unset."""
    config = current_app.config
    if config.get("STRIPE_WEBHOOK_SECRET"):
        return config["STRIPE_WEBHOOK_SECRET"]
    if config.get("SIMULATED_STRIPE"):
        digest = hmac.new(config["SECRET_KEY"].encode(), b"simulated-webhooks", hashlib.sha256)
        return "whsec_sim_" + digest.hexdigest()[:32]
    return None


def gateway() -> Gateway:
    """Return the Stripe gateway of this app: the real API, or the offline simulator."""
    if current_app.config.get("SIMULATED_STRIPE"):
        from campus.billing.simulator import SimulatedGateway

        return SimulatedGateway()
    return StripeGateway()


def _client() -> stripe.StripeClient:
    config = current_app.config
    client = current_app.extensions.get("stripe_client")
    if client is None:
        kwargs: dict[str, Any] = {
            "max_network_retries": int(config.get("STRIPE_MAX_NETWORK_RETRIES", 2)),
            # The SDK waits 80 s a try: a member's click would outlast any proxy's timeout.
            "http_client": stripe.RequestsClient(timeout=config["STRIPE_TIMEOUT"]),
        }
        if config.get("STRIPE_API_BASE"):
            kwargs["base_addresses"] = {"api": config["STRIPE_API_BASE"]}
        client = stripe.StripeClient(config["STRIPE_SECRET_KEY"], **kwargs)
        current_app.extensions["stripe_client"] = client
    return client


def _plain(obj: Any) -> dict[str, Any]:
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


class StripeGateway:
    """Stripe's API through stripe-python's StripeClient."""

    def now(self) -> int:
        return int(time.time())

    def create_customer(self, user: User, *, replacing: str | None = None) -> str:
        # A retried or double-clicked request gets the same customer back from Stripe, which
        # replays an answer for 24 hours: one replacing a customer Stripe lost has its own key,
        # or it would be answered with the lost one again. Stripe refuses a key reused with
        # other parameters, so the key names them too: a member who changed their name or
        # email after a failed checkout is not refused for a day.
        digest = hashlib.sha256(f"{user.email}\n{user.full_name}".encode()).hexdigest()[:16]
        key = f"campus-customer-{user.id}-{digest}"
        if replacing:
            key += f"-after-{replacing}"
        try:
            customer = _client().v1.customers.create(
                params={
                    "email": user.email,
                    "name": user.full_name,
                    "metadata": {"user_id": str(user.id)},
                },
                options={"idempotency_key": key},
            )
        except stripe.StripeError as exc:
            raise PaymentProviderError(str(exc)) from exc
        return customer.id

    def create_checkout_session(
        self, *, customer_id: str, user: User, success_url: str, cancel_url: str
    ) -> dict[str, Any]:
        try:
            session = _client().v1.checkout.sessions.create(
                params={
                    "mode": "subscription",
                    "customer": customer_id,
                    "client_reference_id": str(user.id),
                    "line_items": [{"price": membership_price_id(), "quantity": 1}],
                    "subscription_data": {"metadata": {"user_id": str(user.id)}},
                    "success_url": success_url,
                    "cancel_url": cancel_url,
                }
            )
        except stripe.StripeError as exc:
            raise _refused(exc) from exc
        return _plain(session)

    def retrieve_checkout_session(self, session_id: str) -> dict[str, Any] | None:
        try:
            return _plain(_client().v1.checkout.sessions.retrieve(session_id))
        except stripe.InvalidRequestError:
            return None
        except stripe.StripeError as exc:
            raise PaymentProviderError(str(exc)) from exc

    def expire_checkout_session(self, session_id: str) -> dict[str, Any] | None:
        """Close an open session so it can no longer be paid; None when Stripe refuses.

        Stripe refuses a session that is no longer open (paid, or expired) or that it does
        not know: the caller asks what became of it.
        """
        try:
            return _plain(_client().v1.checkout.sessions.expire(session_id))
        except stripe.InvalidRequestError:
            return None
        except stripe.StripeError as exc:
            raise PaymentProviderError(str(exc)) from exc

    def list_checkout_sessions(self, customer_id: str, since: int) -> list[dict[str, Any]]:
        """The customer's Checkout Sessions created at `since` or later."""
        try:
            page = _client().v1.checkout.sessions.list(
                params={"customer": customer_id, "created": {"gte": since}, "limit": 100}
            )
            return [_plain(session) for session in page.auto_paging_iter()]
        except stripe.StripeError as exc:
            raise _refused(exc) from exc

    def retrieve_subscription(self, subscription_id: str) -> dict[str, Any] | None:
        try:
            return _plain(_client().v1.subscriptions.retrieve(subscription_id))
        except stripe.InvalidRequestError:
            return None
        except stripe.StripeError as exc:
            raise PaymentProviderError(str(exc)) from exc

    def retrieve_charge(self, charge_id: str) -> dict[str, Any] | None:
        """The charge (GET /v1/charges/:id); None when Stripe does not know it."""
        try:
            return _plain(_client().v1.charges.retrieve(charge_id))
        except stripe.InvalidRequestError:
            return None
        except stripe.StripeError as exc:
            raise PaymentProviderError(str(exc)) from exc

    def list_subscriptions(self, customer_id: str) -> list[dict[str, Any]]:
        try:
            page = _client().v1.subscriptions.list(
                params={"customer": customer_id, "status": "all", "limit": 100}
            )
            return [_plain(sub) for sub in page.auto_paging_iter()]
        except stripe.StripeError as exc:
            raise _refused(exc) from exc

    def create_portal_session(self, *, customer_id: str, return_url: str) -> str:
        try:
            session = _client().v1.billing_portal.sessions.create(
                params={"customer": customer_id, "return_url": return_url}
            )
        except stripe.StripeError as exc:
            raise _refused(exc) from exc
        return session.url

    def cancel_subscription(self, subscription_id: str) -> None:
        """End a subscription at once (DELETE /v1/subscriptions/:id); one already gone is fine.

        Raises RequestRefused when Stripe refuses it otherwise (asked again, it answers the same);
        PaymentProviderError for what may pass.
        """
        try:
            _client().v1.subscriptions.cancel(subscription_id)
        except stripe.InvalidRequestError as exc:
            if getattr(exc, "code", None) != "resource_missing":
                raise RequestRefused(str(exc)) from exc
        except stripe.StripeError as exc:
            raise PaymentProviderError(str(exc)) from exc

    def delete_customer(self, customer_id: str) -> None:
        """Delete a customer and its payment details (DELETE /v1/customers/:id); idempotent."""
        try:
            _client().v1.customers.delete(customer_id)
        except stripe.InvalidRequestError as exc:
            if getattr(exc, "code", None) != "resource_missing":
                raise PaymentProviderError(str(exc)) from exc
        except stripe.StripeError as exc:
            raise PaymentProviderError(str(exc)) from exc

    def update_customer_contact(self, customer_id: str, *, email: str, name: str) -> None:
        """Set the customer's email and name, on its receipts (POST /v1/customers/:id).

        Raises CustomerMissing when Stripe does not know the customer (deleted there, or made
        with other keys): there is nobody to tell; RequestRefused for any other 4xx but 429
        (an address or name Stripe will not take); PaymentProviderError for what may pass.
        """
        try:
            _client().v1.customers.update(customer_id, params={"email": email, "name": name})
        except stripe.StripeError as exc:
            if getattr(exc, "code", None) == "resource_missing":
                raise CustomerMissing(str(exc)) from exc
            status = getattr(exc, "http_status", None) or 0
            if 400 <= status < 500 and status != 429:
                raise RequestRefused(str(exc)) from exc
            raise PaymentProviderError(str(exc)) from exc

    def retrieve_customer(self, customer_id: str) -> dict[str, Any] | None:
        """The customer (GET /v1/customers/:id); None when Stripe does not know or deleted it."""
        try:
            customer = _plain(_client().v1.customers.retrieve(customer_id))
        except stripe.InvalidRequestError as exc:
            if getattr(exc, "code", None) == "resource_missing":
                return None
            raise PaymentProviderError(str(exc)) from exc
        except stripe.StripeError as exc:
            raise PaymentProviderError(str(exc)) from exc
        return None if customer.get("deleted") else customer


def sign_payload(payload: str, secret: str, timestamp: int | None = None) -> str:
    """Build a Stripe-Signature header for a payload (Stripe's v1 scheme)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{timestamp}.{payload}".encode()
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"

"""A member's new email reaches their Stripe customer, where Stripe sends receipts and notices."""

from __future__ import annotations

import pytest
from celery.exceptions import Retry
from sqlalchemy import select, update

from campus.accounts.models import User
from campus.billing import tasks
from campus.billing.models import StripeCustomer
from campus.extensions import db
from tests import support
from tests.billing.fake_stripe import new_id


def _member(app, fake_stripe=None, email: str = "old@example.com") -> tuple[int, str | None]:
    """A member; with fake_stripe, one with a Stripe customer there. Returns (id, customer)."""
    with app.app_context():
        user = support.create_user(email=email, full_name="Robin Hale")
        customer_id = None
        if fake_stripe is not None:
            customer_id = new_id("cus")
            fake_stripe.customers[customer_id] = {
                "id": customer_id,
                "object": "customer",
                "email": email,
            }
            db.session.add(StripeCustomer(user_id=user.id, stripe_customer_id=customer_id))
            db.session.commit()
        return user.id, customer_id


def _change_email(app, client, new_email: str):
    """Ask for a new address and follow the link sent to it, as the member does."""
    support.post_form(
        client, "/account/email", {"email": new_email, "password": support.DEFAULT_PASSWORD}
    )
    [message] = [m for m in support.outbox(app) if m["To"] == new_email]
    return support.confirm_link(client, support.link_in(message))


def _signed_in(app, email: str = "old@example.com"):
    client = app.test_client()
    support.login(client, email)
    return client


def _set_email(app, user_id: int, email: str) -> None:
    with app.app_context():
        db.session.execute(update(User).where(User.id == user_id).values(email=email))
        db.session.commit()


def _updates(fake_stripe, customer_id: str) -> list[str]:
    """The addresses sent to the customer, in order."""
    return [c["params"]["email"] for c in fake_stripe.calls("POST", f"/v1/customers/{customer_id}")]


def test_a_members_new_email_reaches_their_stripe_customer(stripe_app, fake_stripe):
    _user_id, customer_id = _member(stripe_app, fake_stripe)
    client = _signed_in(stripe_app)
    assert _change_email(stripe_app, client, "new@example.com").status_code == 302
    assert _updates(fake_stripe, customer_id) == ["new@example.com"]
    assert fake_stripe.customers[customer_id]["email"] == "new@example.com"
    # A second change goes the same way: Stripe ends with the latest address.
    assert _change_email(stripe_app, client, "newer@example.com").status_code == 302
    assert _updates(fake_stripe, customer_id) == ["new@example.com", "newer@example.com"]
    assert fake_stripe.customers[customer_id]["email"] == "newer@example.com"


def test_a_member_without_a_stripe_customer_changes_email_without_stripe(stripe_app, fake_stripe):
    _member(stripe_app)
    client = _signed_in(stripe_app)
    assert _change_email(stripe_app, client, "new@example.com").status_code == 302
    assert fake_stripe.requests == []


def test_a_change_landing_while_stripe_answers_the_last_one_still_reaches_stripe(
    stripe_app, fake_stripe
):
    # Two changes a moment apart: the second commits while the first run's request is on its
    # way. Whatever order the runs reach Stripe in, the latest address must be the one kept.
    user_id, customer_id = _member(stripe_app, fake_stripe)
    _set_email(stripe_app, user_id, "first@example.com")
    fake_stripe.after[f"/v1/customers/{customer_id}"] = lambda: _set_email(
        stripe_app, user_id, "second@example.com"
    )
    assert tasks.sync_customer_email.apply(args=(user_id,)).get() == "second@example.com"
    assert _updates(fake_stripe, customer_id) == ["first@example.com", "second@example.com"]
    assert fake_stripe.customers[customer_id]["email"] == "second@example.com"
    # Run again (a redelivery): the same address, nothing else.
    assert tasks.sync_customer_email.apply(args=(user_id,)).get() == "second@example.com"
    assert fake_stripe.customers[customer_id]["email"] == "second@example.com"


def _run_to_a_retry(stripe_app, monkeypatch, user_id: int) -> list[dict]:
    """Run the task as the worker does (not inline) and return the retries it asked for."""
    retries: list[dict] = []

    def retry(**options):
        retries.append(options)
        return Retry()

    monkeypatch.setattr(tasks.sync_customer_email, "retry", retry)
    with stripe_app.app_context(), pytest.raises(Retry):
        tasks.sync_customer_email.run(user_id)
    return retries


def test_stripe_failing_the_update_is_retried_with_backoff(stripe_app, fake_stripe, monkeypatch):
    user_id, customer_id = _member(stripe_app, fake_stripe)
    _set_email(stripe_app, user_id, "new@example.com")
    fake_stripe.fail_next[f"/v1/customers/{customer_id}"] = 1
    [options] = retries = _run_to_a_retry(stripe_app, monkeypatch, user_id)
    assert 8 <= options["countdown"] <= 12  # the first step of the usual backoff
    assert fake_stripe.customers[customer_id]["email"] == "old@example.com"
    # The retry, once Stripe answers again, reads the address then and sends it.
    _set_email(stripe_app, user_id, "newer@example.com")
    with stripe_app.app_context():
        assert tasks.sync_customer_email.run(user_id) == "newer@example.com"
    assert _updates(fake_stripe, customer_id) == ["new@example.com", "newer@example.com"]
    assert fake_stripe.customers[customer_id]["email"] == "newer@example.com"
    assert len(retries) == 1


def test_stripe_down_does_not_stop_the_email_change(stripe_app, fake_stripe):
    user_id, customer_id = _member(stripe_app, fake_stripe)
    fake_stripe.fail_paths.add(f"/v1/customers/{customer_id}")
    client = _signed_in(stripe_app)
    assert _change_email(stripe_app, client, "new@example.com").status_code == 302
    with stripe_app.app_context():
        assert db.session.get_one(User, user_id).email == "new@example.com"
    assert len(_updates(fake_stripe, customer_id)) == 1  # inline: no retries holding the page


def test_a_customer_stripe_no_longer_knows_is_not_retried(stripe_app, fake_stripe, monkeypatch):
    user_id, customer_id = _member(stripe_app, fake_stripe)
    del fake_stripe.customers[customer_id]  # deleted at Stripe
    monkeypatch.setattr(tasks.sync_customer_email, "retry", pytest.fail)
    with stripe_app.app_context():
        assert tasks.sync_customer_email.run(user_id) is None
    assert len(_updates(fake_stripe, customer_id)) == 1


def test_deleting_the_account_gives_stripe_no_new_address(stripe_app, fake_stripe):
    user_id, customer_id = _member(stripe_app, fake_stripe)
    client = _signed_in(stripe_app)
    _change_email(stripe_app, client, "new@example.com")
    response = support.post_form(
        client,
        "/account/delete",
        {"password": support.DEFAULT_PASSWORD, "confirmation": "DELETE"},
    )
    assert response.status_code == 302 and "/account/deleted" in response.headers["Location"]
    assert customer_id not in fake_stripe.customers  # the customer was deleted at Stripe
    # A run left over from the change, arriving after the deletion, sends nothing.
    assert tasks.sync_customer_email.apply(args=(user_id,)).get() is None
    assert _updates(fake_stripe, customer_id) == ["new@example.com"]
    with stripe_app.app_context():
        assert db.session.scalar(select(StripeCustomer)) is None


def test_a_deleted_account_kept_for_its_records_gives_stripe_nothing(stripe_app, fake_stripe):
    # An account kept for its CE records has a placeholder address: never a customer's email.
    from campus.models.base import utcnow

    user_id, _customer_id = _member(stripe_app, fake_stripe)
    with stripe_app.app_context():
        db.session.execute(
            update(User)
            .where(User.id == user_id)
            .values(email=f"deleted-{user_id}@deleted.invalid", deleted_at=utcnow())
        )
        db.session.commit()
    assert tasks.sync_customer_email.apply(args=(user_id,)).get() is None
    assert fake_stripe.requests == []


def test_the_simulated_customer_gets_the_new_email(app, client):
    from campus.billing import simulator

    _member(app)
    support.login(client, "old@example.com")
    assert support.post_form(client, "/membership/checkout").status_code == 303
    assert _change_email(app, client, "new@example.com").status_code == 302
    with app.app_context():
        customer_id = db.session.scalar(select(StripeCustomer.stripe_customer_id))
        assert simulator.get_object(customer_id)["email"] == "new@example.com"


def test_stripe_refusing_the_address_is_final_and_not_logged(
    stripe_app, fake_stripe, monkeypatch, caplog
):
    # A 4xx other than 429 (here Stripe refusing the address) is the same answer every time:
    # retrying it is pointless, and Stripe's message can quote the address, kept out of logs.
    user_id, customer_id = _member(stripe_app, fake_stripe)
    _set_email(stripe_app, user_id, "new@example.com")
    fake_stripe.refuse[f"/v1/customers/{customer_id}"] = (
        400,
        {
            "error": {
                "type": "invalid_request_error",
                "param": "email",
                "message": "Invalid email address: new@example.com",
            }
        },
    )
    monkeypatch.setattr(tasks.sync_customer_email, "retry", pytest.fail)
    with stripe_app.app_context():
        assert tasks.sync_customer_email.run(user_id) is None
    assert len(_updates(fake_stripe, customer_id)) == 1
    assert "new@example.com" not in caplog.text
    assert str(user_id) in caplog.text


def test_stripe_rate_limiting_the_update_is_retried(stripe_app, fake_stripe, monkeypatch):
    user_id, customer_id = _member(stripe_app, fake_stripe)
    _set_email(stripe_app, user_id, "new@example.com")
    fake_stripe.refuse[f"/v1/customers/{customer_id}"] = (
        429,
        {"error": {"type": "invalid_request_error", "code": "rate_limit", "message": "slow"}},
    )
    assert len(_run_to_a_retry(stripe_app, monkeypatch, user_id)) == 1

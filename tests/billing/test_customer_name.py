"""A member's new name reaches their Stripe customer, printed on receipts and invoices."""

from __future__ import annotations

import pytest
from celery.exceptions import Retry
from sqlalchemy import select, update

from campus.accounts.models import User
from campus.billing import reconciling, tasks
from campus.billing.models import StripeCustomer
from campus.extensions import db
from tests import support
from tests.billing.test_customer_email import _member, _signed_in


def _names(fake_stripe, customer_id: str) -> list[str | None]:
    """The names sent to the customer, in order."""
    calls = fake_stripe.calls("POST", f"/v1/customers/{customer_id}")
    return [c["params"].get("name") for c in calls]


def _rename(client, name: str):
    """Save the profile form with a new name, as the member does."""
    return support.post_form(
        client, "/account", {"full_name": name, "profession": "massage_therapist"}
    )


def _set_name(app, user_id: int, name: str) -> None:
    with app.app_context():
        db.session.execute(update(User).where(User.id == user_id).values(full_name=name))
        db.session.commit()


def test_a_members_new_name_reaches_their_stripe_customer(stripe_app, fake_stripe):
    _user_id, customer_id = _member(stripe_app, fake_stripe)
    client = _signed_in(stripe_app)
    assert _rename(client, "Robin Hale-Marsh").status_code == 302
    assert _names(fake_stripe, customer_id) == ["Robin Hale-Marsh"]
    assert fake_stripe.customers[customer_id]["name"] == "Robin Hale-Marsh"
    assert fake_stripe.customers[customer_id]["email"] == "old@example.com"


def test_saving_the_profile_with_the_same_name_asks_stripe_nothing(stripe_app, fake_stripe):
    _member(stripe_app, fake_stripe)
    client = _signed_in(stripe_app)
    assert _rename(client, "Robin Hale").status_code == 302
    assert fake_stripe.requests == []


def test_the_sync_sends_the_name_current_when_it_runs(stripe_app, fake_stripe, monkeypatch):
    user_id, customer_id = _member(stripe_app, fake_stripe)
    _set_name(stripe_app, user_id, "Robin Marsh")
    fake_stripe.fail_next[f"/v1/customers/{customer_id}"] = 1
    retries: list[dict] = []

    def retry(**options):
        retries.append(options)
        return Retry()

    monkeypatch.setattr(tasks.sync_customer_email, "retry", retry)
    with stripe_app.app_context(), pytest.raises(Retry):
        tasks.sync_customer_email.run(user_id)
    assert len(retries) == 1
    _set_name(stripe_app, user_id, "Robin Marsh-Hale")
    with stripe_app.app_context():
        tasks.sync_customer_email.run(user_id)
    assert fake_stripe.customers[customer_id]["name"] == "Robin Marsh-Hale"


def test_stripe_refusing_the_name_is_final_and_not_logged(
    stripe_app, fake_stripe, monkeypatch, caplog
):
    user_id, customer_id = _member(stripe_app, fake_stripe)
    _set_name(stripe_app, user_id, "Robin Secretname")
    fake_stripe.refuse[f"/v1/customers/{customer_id}"] = (
        400,
        {"error": {"type": "invalid_request_error", "message": "Bad name: Robin Secretname"}},
    )
    monkeypatch.setattr(tasks.sync_customer_email, "retry", pytest.fail)
    with stripe_app.app_context():
        tasks.sync_customer_email.run(user_id)
    assert len(_names(fake_stripe, customer_id)) == 1
    assert "Secretname" not in caplog.text


def test_a_deleted_account_gives_stripe_no_name(stripe_app, fake_stripe):
    from campus.models.base import utcnow

    user_id, _customer_id = _member(stripe_app, fake_stripe)
    with stripe_app.app_context():
        db.session.execute(
            update(User)
            .where(User.id == user_id)
            .values(full_name="R. H.", deleted_at=utcnow(), email="deleted-1@deleted.invalid")
        )
        db.session.commit()
    tasks.sync_customer_email.apply(args=(user_id,)).get()
    assert fake_stripe.requests == []


def _reconcile(app) -> dict[str, int]:
    with app.app_context():
        counts = reconciling.reconcile(settle=db.session.commit)
        db.session.commit()
        return counts


def test_reconciliation_repairs_a_customer_left_with_the_old_name(stripe_app, fake_stripe):
    user_id, customer_id = _member(stripe_app, fake_stripe)
    fake_stripe.customers[customer_id]["name"] = "Robin Hale"
    _set_name(stripe_app, user_id, "Robin Marsh")  # its sync was lost
    fake_stripe.requests.clear()
    _reconcile(stripe_app)
    assert fake_stripe.customers[customer_id]["name"] == "Robin Marsh"
    assert len(fake_stripe.calls("GET", f"/v1/customers/{customer_id}")) == 1
    # Repaired: the next run only looks.
    fake_stripe.requests.clear()
    _reconcile(stripe_app)
    assert _names(fake_stripe, customer_id) == []
    assert len(fake_stripe.calls("GET", f"/v1/customers/{customer_id}")) == 1


def test_the_simulated_customer_gets_the_new_name(app, client):
    from campus.billing import simulator

    _member(app)
    support.login(client, "old@example.com")
    assert support.post_form(client, "/membership/checkout").status_code == 303
    assert _rename(client, "Robin Marsh").status_code == 302
    with app.app_context():
        customer_id = db.session.scalar(select(StripeCustomer.stripe_customer_id))
        assert simulator.get_object(customer_id)["name"] == "Robin Marsh"

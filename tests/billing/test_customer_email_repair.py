"""The hourly reconciliation repairs a Stripe customer left with an old email (a lost sync)."""

from __future__ import annotations

from sqlalchemy import update

from campus.accounts.models import User
from campus.billing import reconciling
from campus.extensions import db
from campus.models.base import utcnow
from tests.billing.test_customer_email import _member, _set_email, _updates


def _reconcile(app) -> dict[str, int]:
    with app.app_context():
        counts = reconciling.reconcile(settle=db.session.commit)
        db.session.commit()
        return counts


def test_a_customer_left_with_the_old_email_gets_the_current_one(stripe_app, fake_stripe):
    # The change committed but its sync never ran (broker away, worker lost, retries spent).
    user_id, customer_id = _member(stripe_app, fake_stripe)
    _set_email(stripe_app, user_id, "new@example.com")
    assert _reconcile(stripe_app)["emails"] == 1
    assert fake_stripe.customers[customer_id]["email"] == "new@example.com"
    # Once repaired, the next run only looks: one read of the customer, no update.
    fake_stripe.requests.clear()
    assert _reconcile(stripe_app)["emails"] == 0
    assert _updates(fake_stripe, customer_id) == []
    assert len(fake_stripe.calls("GET", f"/v1/customers/{customer_id}")) == 1


def test_stripe_refusing_one_customer_does_not_stop_the_others_repair(
    stripe_app, fake_stripe, caplog
):
    user_id, customer_id = _member(stripe_app, fake_stripe)
    other_id, other_customer = _member(stripe_app, fake_stripe, email="other@example.com")
    _set_email(stripe_app, user_id, "new@example.com")
    _set_email(stripe_app, other_id, "other-new@example.com")
    fake_stripe.refuse[f"/v1/customers/{customer_id}"] = (
        400,
        {"error": {"type": "invalid_request_error", "message": "Invalid: new@example.com"}},
    )
    counts = _reconcile(stripe_app)
    assert counts["emails"] == 1 and counts["unreachable"] == 0
    assert fake_stripe.customers[other_customer]["email"] == "other-new@example.com"
    assert "new@example.com" not in caplog.text


def test_a_deleted_account_kept_for_its_records_is_not_repaired(stripe_app, fake_stripe):
    user_id, customer_id = _member(stripe_app, fake_stripe)
    with stripe_app.app_context():
        db.session.execute(
            update(User)
            .where(User.id == user_id)
            .values(email=f"deleted-{user_id}@deleted.invalid", deleted_at=utcnow())
        )
        db.session.commit()
    assert _reconcile(stripe_app)["emails"] == 0
    assert fake_stripe.calls("GET", f"/v1/customers/{customer_id}") == []
    assert _updates(fake_stripe, customer_id) == []
    assert fake_stripe.customers[customer_id]["email"] == "old@example.com"


def test_the_simulated_customer_is_repaired_too(app, client):
    from sqlalchemy import select

    from campus.billing import simulator
    from campus.billing.models import StripeCustomer
    from tests import support

    user_id, _ = _member(app)
    support.login(client, "old@example.com")
    assert support.post_form(client, "/membership/checkout").status_code == 303
    _set_email(app, user_id, "new@example.com")
    assert _reconcile(app)["emails"] == 1
    with app.app_context():
        customer_id = db.session.scalar(select(StripeCustomer.stripe_customer_id))
        assert simulator.get_object(customer_id)["email"] == "new@example.com"


def test_billing_sync_says_how_many_emails_it_repaired(stripe_app, fake_stripe):
    user_id, customer_id = _member(stripe_app, fake_stripe)
    _set_email(stripe_app, user_id, "new@example.com")
    result = stripe_app.test_cli_runner().invoke(args=["billing", "sync"])
    assert result.exit_code == 0, result.output
    assert "1 customers given their member's current email and name." in result.output
    assert fake_stripe.customers[customer_id]["email"] == "new@example.com"

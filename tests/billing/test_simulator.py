"""The offline flow: simulated Checkout and portal, signed events through /webhooks/stripe."""

from __future__ import annotations

import html as html_lib
import re
from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import select

from campus.accounts.models import User
from campus.billing import simulator
from campus.billing.access import has_paid_access
from campus.billing.models import CheckoutSession, Subscription, WebhookEvent
from campus.extensions import db
from campus.mail.models import EmailMessage
from tests import support


def _signed_in(app):
    with app.app_context():
        user = support.create_user(full_name="Dana Reyes")
        user_id, email = user.id, user.email
    client = app.test_client()
    support.login(client, email)
    return client, user_id, email


def _subscribe(client) -> str:
    checkout = support.post_form(client, "/membership/checkout")
    assert checkout.status_code == 303
    pay_page = checkout.headers["Location"]
    assert pay_page.startswith("/membership/simulated/checkout/cs_sim")
    assert "Subscribe for $19.95/month" in client.get(pay_page).get_data(as_text=True)
    paid = support.post_form(client, pay_page, {"card_number": "4242 4242 4242 4242"})
    assert paid.status_code == 303
    return paid.headers["Location"]


def _state(app, user_id: int) -> tuple[str, bool, bool]:
    with app.app_context():
        sub = db.session.scalar(select(Subscription).where(Subscription.user_id == user_id))
        user = db.session.get(User, user_id)
        return sub.status, sub.cancel_at_period_end, has_paid_access(user)


def _email_kinds(app) -> list[str]:
    with app.app_context():
        keys = db.session.scalars(select(EmailMessage.dedupe_key).order_by(EmailMessage.id))
        return [key.split(":")[1] for key in keys if key and key.startswith("billing:")]


def _cli(app, *args: str):
    result = app.test_cli_runner().invoke(args=list(args), catch_exceptions=False)
    return result


def test_offline_lifecycle_from_checkout_to_resume(app):
    client, user_id, email = _signed_in(app)
    page = client.get("/membership").get_data(as_text=True)
    assert "Join for $19.95/month" in page and "Test mode" in page

    success = _subscribe(client)
    assert success.startswith("http://") and "/membership/success?session_id=cs_sim" in success
    page = client.get(success[success.index("/membership") :]).get_data(as_text=True)
    assert "Your membership is active" in page
    me = client.get("/api/v1/me").get_json()["membership"]
    assert me["status"] == "active" and me["has_access"] is True
    assert me["current_period_end"] and me["cancel_at_period_end"] is False
    assert "renews on" in client.get("/membership").get_data(as_text=True)
    with app.app_context():
        types = db.session.scalars(select(WebhookEvent.type).order_by(WebhookEvent.id)).all()
        statuses = set(db.session.scalars(select(WebhookEvent.status)))
    assert sorted(types) == [
        "checkout.session.completed",
        "customer.subscription.created",
        "invoice.paid",
    ]
    assert statuses == {"processed"}
    assert _email_kinds(app) == ["started"]

    result = _cli(app, "billing", "simulate", "payment-failed", email)
    assert result.exit_code == 0 and "past_due" in result.output
    assert _state(app, user_id) == ("past_due", False, True)  # grace period
    page = client.get("/membership").get_data(as_text=True)
    assert "Payment failed" in page and "Update your card" in page
    assert _email_kinds(app) == ["started", "payment_failed"]
    [_, failed] = support.outbox(app)
    assert support.link_in(failed) == "/membership"

    portal = support.post_form(client, "/membership/portal")
    assert portal.status_code == 303 and portal.headers["Location"].endswith("/simulated/portal")
    assert "Update card and pay $19.95" in client.get("/membership/simulated/portal").text
    support.post_form(client, "/membership/simulated/portal/update-card")
    assert _state(app, user_id) == ("active", False, True)

    support.post_form(client, "/membership/simulated/portal/cancel")
    assert _state(app, user_id) == ("active", True, True)
    page = client.get("/membership").get_data(as_text=True)
    assert "You have full access until" in page and "Resume or manage billing" in page
    assert client.get("/api/v1/me").get_json()["membership"]["cancel_at_period_end"] is True

    result = _cli(app, "billing", "simulate", "resume", email)
    assert result.exit_code == 0
    assert _state(app, user_id) == ("active", False, True)

    result = _cli(app, "billing", "simulate", "renewal", email)
    assert result.exit_code == 0
    result = _cli(app, "billing", "simulate", "cancel", "--now", email)
    assert result.exit_code == 0
    assert _state(app, user_id) == ("canceled", False, False)
    assert "Join again" in client.get("/membership").get_data(as_text=True)
    assert _email_kinds(app) == [
        "started",
        "payment_failed",
        "cancel_scheduled",
        "resumed",
        "ended",
    ]
    with app.app_context():
        assert set(db.session.scalars(select(WebhookEvent.status))) == {"processed"}


def test_declined_card_creates_nothing(app):
    client, _, _ = _signed_in(app)
    pay_page = support.post_form(client, "/membership/checkout").headers["Location"]
    response = support.post_form(client, pay_page, {"card_number": "4000 0000 0000 0002"})
    assert response.status_code == 422
    assert "declined" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Subscription)) is None
        assert db.session.scalar(select(WebhookEvent)) is None


def test_a_declined_card_stays_in_the_form_rather_than_the_card_that_pays(app):
    client, _, _ = _signed_in(app)
    pay_page = support.post_form(client, "/membership/checkout").headers["Location"]
    typed = {"card_number": "4000 0000 0000 0002", "exp": "11 / 31", "cvc": "987"}
    html = support.post_form(client, pay_page, typed).get_data(as_text=True)
    # The page said "declined" above 4242 4242 4242 4242: as if that card had been refused,
    # and one more press would have paid with a card the member never typed.
    assert 'value="4000 0000 0000 0002"' in html
    assert 'value="4242 4242 4242 4242"' not in html
    assert 'value="11 / 31"' in html and 'value="987"' in html


@pytest.mark.parametrize(
    ("expiry", "message"),
    [
        ("01 / 20", "Your card's expiration date is in the past."),
        ("13 / 40", "Enter the expiry date as MM / YY"),
        ("", "Enter the expiry date as MM / YY"),
    ],
)
def test_an_expired_or_unreadable_expiry_date_pays_nothing(app, expiry, message):
    # The page takes "any future expiry date": an expired card paid, which Stripe refuses.
    client, _, _ = _signed_in(app)
    pay_page = support.post_form(client, "/membership/checkout").headers["Location"]
    typed = {"card_number": "4242 4242 4242 4242", "exp": expiry, "cvc": "123"}
    response = support.post_form(client, pay_page, typed)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    said = re.search(r'<div id="exp-msg">(.*?)</div>', html, re.S)
    assert said and message in html_lib.unescape(said.group(1))
    assert re.search(r'<input[^>]*id="exp"[^>]*aria-invalid="true"', html)
    with app.app_context():
        assert db.session.scalar(select(Subscription)) is None


def test_a_future_expiry_date_in_any_common_form_pays(app):
    client, _, _ = _signed_in(app)
    pay_page = support.post_form(client, "/membership/checkout").headers["Location"]
    typed = {"card_number": "4242424242424242", "exp": "12/2034", "cvc": "123"}
    assert support.post_form(client, pay_page, typed).status_code == 303


def test_payment_page_of_another_user_is_not_found(app):
    owner, _, _ = _signed_in(app)
    pay_page = support.post_form(owner, "/membership/checkout").headers["Location"]
    other, _, _ = _signed_in(app)
    assert other.get(pay_page).status_code == 404
    assert support.post_form(other, pay_page, {"card_number": "4242424242424242"}).status_code == (
        404
    )
    assert other.get("/membership/simulated/checkout/" + "x" * 300).status_code == 404


def test_paying_twice_creates_one_subscription(app):
    client, _, _ = _signed_in(app)
    pay_page = support.post_form(client, "/membership/checkout").headers["Location"]
    support.post_form(client, pay_page, {"card_number": "4242424242424242"})
    support.post_form(client, pay_page, {"card_number": "4242424242424242"})
    with app.app_context():
        assert len(db.session.scalars(select(Subscription)).all()) == 1


def test_joining_again_later_expires_the_earlier_simulated_checkout(app):
    from datetime import timedelta

    from campus.billing.services import CHECKOUT_REUSE_MINUTES

    client, _, email = _signed_in(app)
    first_page = support.post_form(client, "/membership/checkout").headers["Location"]
    with time_machine.travel(timedelta(minutes=CHECKOUT_REUSE_MINUTES + 5)):
        support.login(client, email)
        second_page = support.post_form(client, "/membership/checkout").headers["Location"]
        assert second_page != first_page
        # The earlier tab can no longer be paid; the new one can.
        stale = support.post_form(client, first_page, {"card_number": "4242424242424242"})
        assert stale.status_code == 303 and stale.headers["Location"].endswith("/membership")
        assert "This checkout has expired" in client.get("/membership").text
        paid = support.post_form(client, second_page, {"card_number": "4242424242424242"})
        assert paid.status_code == 303 and "/membership/success" in paid.headers["Location"]
    with app.app_context():
        first_id = first_page.rsplit("/", 1)[1]
        assert simulator.get_object(first_id)["status"] == "expired"
        assert (
            db.session.scalar(
                select(CheckoutSession.status).where(CheckoutSession.stripe_session_id == first_id)
            )
            == "expired"
        )
        assert len(db.session.scalars(select(Subscription)).all()) == 1


def test_unknown_portal_action_is_not_found(app):
    client, _, _ = _signed_in(app)
    assert support.post_form(client, "/membership/simulated/portal/explode").status_code == 404


def test_simulate_needs_a_subscription(app):
    _, _, email = _signed_in(app)
    result = app.test_cli_runner().invoke(args=["billing", "simulate", "renewal", email])
    assert result.exit_code == 1 and "no subscription" in result.output
    result = app.test_cli_runner().invoke(args=["billing", "simulate", "renewal", "x@nowhere.io"])
    assert result.exit_code == 2


def test_sync_repairs_a_mirror_that_missed_events(app):
    import time

    import time_machine

    client, user_id, _ = _signed_in(app)
    app.config["SIMULATED_STRIPE_AUTO_DELIVER"] = False  # Stripe's events never arrive
    _subscribe(client)
    with app.app_context():
        assert db.session.scalar(select(Subscription)) is None
    result = _cli(app, "billing", "sync")
    assert result.exit_code == 0 and "1 repaired" in result.output
    assert _state(app, user_id) == ("active", False, True)
    with time_machine.travel(time.time() + 3600, tick=False):
        with app.app_context():
            sub = db.session.scalar(select(Subscription))
            sub.status = "canceled"  # drift: the mirror disagrees with Stripe
            db.session.commit()
        assert _state(app, user_id)[2] is False
        assert "1 repaired" in _cli(app, "billing", "sync").output
        assert _state(app, user_id) == ("active", False, True)
        assert "0 repaired" in _cli(app, "billing", "sync").output


def test_back_from_the_portal_the_page_shows_the_change_before_its_webhook(app):
    import time

    import time_machine

    client, user_id, _ = _signed_in(app)
    _subscribe(client)
    with time_machine.travel(time.time() + 60, tick=False):
        app.config["SIMULATED_STRIPE_AUTO_DELIVER"] = False  # the portal's events are late
        back = support.post_form(client, "/membership/simulated/portal/cancel")
        assert back.headers["Location"] == "/membership?from=portal"
        assert _state(app, user_id) == ("active", False, True)  # no webhook yet
        page = client.get(back.headers["Location"]).get_data(as_text=True)
        assert "Your membership will end with this period." in page
        assert "You have full access until" in page and "Resume or manage billing" in page
        assert _state(app, user_id) == ("active", True, True)


def test_a_resume_soon_after_a_cancel_shows_the_renewed_membership(app):
    import time

    import time_machine

    client, user_id, _ = _signed_in(app)
    _subscribe(client)
    start = time.time() + 60
    app.config["SIMULATED_STRIPE_AUTO_DELIVER"] = False  # the portal's events are late
    with time_machine.travel(start, tick=False):
        support.post_form(client, "/membership/portal")
        back = support.post_form(client, "/membership/simulated/portal/cancel")
        assert "Resume or manage billing" in client.get(back.headers["Location"]).get_data(
            as_text=True
        )
    # Well within the minute the return sync is otherwise limited to.
    with time_machine.travel(start + 15, tick=False):
        support.post_form(client, "/membership/portal")
        back = support.post_form(client, "/membership/simulated/portal/resume")
        page = client.get(back.headers["Location"]).get_data(as_text=True)
        assert "Your membership will renew as usual." in page
        assert "Your membership renews on" in page and "Resume or manage billing" not in page
        assert _state(app, user_id) == ("active", False, True)


def test_sync_keeps_state_newer_than_the_fetch(app):
    client, user_id, email = _signed_in(app)
    _subscribe(client)
    _cli(app, "billing", "simulate", "cancel", email)
    # An event from this very second is newer than the reconciliation's safety margin.
    assert "0 repaired" in _cli(app, "billing", "sync").output
    assert _state(app, user_id) == ("active", True, True)


def test_reconcile_task_is_scheduled_with_beat():
    from workers.schedule import beat_schedule

    assert beat_schedule()["billing-reconcile"]["task"] == "campus.billing.reconcile"


def test_comp_grant_and_end_from_the_cli(app):
    _, user_id, email = _signed_in(app)
    result = _cli(app, "billing", "comp", "grant", email, "--days", "30", "--reason", "speaker")
    assert result.exit_code == 0 and "comp membership until" in result.output
    with app.app_context():
        assert has_paid_access(db.session.get(User, user_id))
    result = _cli(app, "billing", "comp", "end", email)
    assert "Ended 1 comp membership" in result.output
    with app.app_context():
        assert not has_paid_access(db.session.get(User, user_id))


@pytest.mark.parametrize(
    "args",
    [
        ["--days", "0", "--reason", "x"],
        ["--days", "30", "--reason", "   "],
        ["--days", "many", "--reason", "x"],
    ],
)
def test_comp_grant_rejects_bad_input(app, args):
    _, user_id, email = _signed_in(app)
    result = app.test_cli_runner().invoke(args=["billing", "comp", "grant", email, *args])
    assert result.exit_code == 2
    with app.app_context():
        assert not has_paid_access(db.session.get(User, user_id))


def _production_app(**extra):
    from tests.production import production_app

    return production_app(**extra)


BASE_URL = "https://campus.example"


def test_simulator_does_not_exist_in_production(_database):
    app = _production_app()
    try:
        assert app.config["SIMULATED_STRIPE"] is False
        rules = [rule.rule for rule in app.url_map.iter_rules()]
        assert "/membership" in rules
        assert not [rule for rule in rules if "simulated" in rule]
        assert "billing_sim" not in app.blueprints
        client = app.test_client()
        assert client.post("/webhooks/stripe", data="{}", base_url=BASE_URL).status_code == 400
        assert client.get("/membership/simulated/portal", base_url=BASE_URL).status_code == 404
        result = app.test_cli_runner().invoke(args=["billing", "simulate", "renewal", "a@b.co"])
        assert result.exit_code == 1 and "only runs without Stripe keys" in result.output
    finally:
        support.clean_database(app)  # also closes the pool's connections


def test_simulator_is_off_whenever_a_stripe_key_is_set(stripe_app):
    assert not [rule for rule in stripe_app.url_map.iter_rules() if "simulated" in rule.rule]


def test_simulated_event_delivery_refuses_without_the_simulator(stripe_app):
    from campus.billing.tasks import deliver_simulated_event

    with stripe_app.app_context():
        assert deliver_simulated_event.run("evt_anything") is None
        assert db.session.scalar(select(WebhookEvent)) is None


def test_membership_page_for_visitors_offers_signup(client):
    page = client.get("/membership").get_data(as_text=True)
    assert "$19.95" in page and "Create a free account to join" in page
    assert re.search(r'href="/membership"', client.get("/").get_data(as_text=True))


def test_objects_made_in_one_second_are_listed_in_the_order_made(app):
    from campus.billing import simulated_store
    from campus.billing.models import SimulatedStripeObject

    app.config["SIMULATED_STRIPE_AUTO_DELIVER"] = False
    with app.app_context(), time_machine.travel(datetime(2026, 5, 4, 9, tzinfo=UTC), tick=False):
        made = [simulated_store.emit("test.event", {"id": str(n)}) for n in range(30)]
        db.session.commit()
        # Rewritten newest first, as later changes to stored objects do: PostgreSQL then keeps
        # the rows in that order on disk, and would hand back same-second ties in it.
        for row in reversed(db.session.scalars(select(SimulatedStripeObject)).all()):
            row.data = row.data + " "
            db.session.commit()
        assert [e["id"] for e in simulated_store.objects("event")] == [e["id"] for e in made]


def test_deleting_the_account_leaves_no_personal_data_in_the_simulated_stripe(app):
    # Deletion took the person out of the stored Stripe events, but the simulated Stripe kept
    # them: its checkout session and the customer.deleted event still held the email and name.
    from campus.billing.models import SimulatedStripeObject

    client, _user_id, email = _signed_in(app)
    _subscribe(client)
    deleted = support.post_form(
        client,
        "/account/delete",
        {"password": support.DEFAULT_PASSWORD, "confirmation": "DELETE"},
    )
    assert deleted.status_code == 302
    with app.app_context():
        rows = db.session.scalars(select(SimulatedStripeObject)).all()
        assert rows and any(row.object == "event" for row in rows)
        assert not [row.id for row in rows if email in row.data or "Dana Reyes" in row.data]

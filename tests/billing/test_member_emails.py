"""What a member reads about their membership: the page after a failed payment, and one email
for each change (cancellation scheduled, resumed, comp granted and ended)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from campus.billing import actions
from campus.billing.tasks import email_lapsed_comps
from campus.extensions import db
from campus.models.base import utcnow
from tests import support
from tests.billing.fake_stripe import subscription


def _subjects(app) -> list[str]:
    return [m["Subject"] for m in support.outbox(app)]


def _apply(obj: dict, stamp: int) -> None:
    from campus.billing.subscriptions import apply_subscription

    apply_subscription(obj, stamp, allow_refetch=False)
    db.session.commit()


def test_cancelling_and_resuming_each_send_one_email_however_often_the_event_comes(stripe_app):
    with stripe_app.app_context():
        user = support.create_user()
        sub = {"user_id": user.id}
        now = int(time.time())
        _apply(subscription("sub_m1", "cus_m1", **sub), now - 30)
        for _ in range(3):  # Stripe retries, replays and reconciles repeat the same state
            _apply(subscription("sub_m1", "cus_m1", cancel_at_period_end=True, **sub), now - 20)
        _apply(subscription("sub_m1", "cus_m1", **sub), now - 10)
        _apply(subscription("sub_m1", "cus_m1", **sub), now - 10)
    assert _subjects(stripe_app) == [
        "Your Campus membership is cancelled",
        "Your Campus membership will continue",
    ]
    cancelled = support.body_of(support.outbox(stripe_app)[0])
    assert "ends on" in cancelled and "not be charged for another period" in cancelled
    assert "tried again" not in cancelled  # nothing is owed


def test_cancelling_after_a_failed_payment_shows_the_end_date_not_update_your_card(app, client):
    from campus.models.base import utcnow
    from campus.templating import format_date

    with app.app_context():
        user = support.create_user()
        end = utcnow() + timedelta(days=25)
        support.make_member(
            user.id,
            "past_due",
            cancel_at_period_end=True,
            current_period_end=end,
            past_due_since=utcnow(),
        )
        support.sign_in_directly(client, user.id)
        end_text = format_date(end)  # on the app's calendar, as the page writes it
    page = client.get("/membership").get_data(as_text=True)
    assert "Update your card" not in page and "update your card" not in page.lower()
    assert f"ends on <strong>{end_text}</strong>" in page


def test_a_comp_grant_and_its_end_each_email_the_member_once(app):
    from campus.mail.models import EmailMessage

    with app.app_context():
        user = support.create_user()
        actions.grant_comp(user, days=30, reason="speaker", actor=None)
        db.session.commit()
        actions.end_comp(user, actor=None)
        db.session.commit()
        keys = db.session.scalars(select(EmailMessage.dedupe_key)).all()
    assert _subjects(app) == [
        "You have a complimentary Campus membership",
        "Your complimentary Campus membership has ended",
    ]
    assert len(set(keys)) == 2


def test_a_comp_that_runs_out_emails_the_member_once(app):
    with app.app_context():
        user = support.create_user()
        actions.grant_comp(user, days=3, reason="trial", actor=None)
        db.session.commit()
        assert email_lapsed_comps() == 0
        with time_machine.travel(timedelta(days=3, hours=1), tick=False):
            email_lapsed_comps()
            email_lapsed_comps()
    assert _subjects(app) == [
        "You have a complimentary Campus membership",
        "Your complimentary Campus membership has ended",
    ]


def test_a_comp_granted_to_a_paying_member_does_not_say_there_is_nothing_to_pay(app):
    # Stripe goes on charging a member who is comped: they must not read that it is free now.
    from campus.templating import format_date

    with app.app_context():
        user = support.create_user()
        renews = utcnow() + timedelta(days=12)
        support.make_member(user.id, current_period_end=renews)
        actions.grant_comp(user, days=30, reason="speaker", actor=None)
        db.session.commit()
        renews_text = format_date(renews)
    [message] = support.outbox(app)
    body = support.body_of(message)
    assert "nothing to pay" not in body
    assert f"still renews on {renews_text}" in body
    assert support.link_in(message) == "/membership"


def test_a_comp_that_ends_while_the_member_pays_sends_no_ended_email(app):
    # A member on a trial comp who subscribed before it ran out still has their membership:
    # "has ended ... you can become a member any time" would tell them they lost it.
    with app.app_context():
        lapsing, revoked = support.create_user(), support.create_user()
        for user in (lapsing, revoked):
            actions.grant_comp(user, days=3, reason="trying it out", actor=None)
            support.make_member(user.id, current_period_end=utcnow() + timedelta(days=30))
        db.session.commit()
        actions.end_comp(revoked, actor=None)
        db.session.commit()
        with time_machine.travel(timedelta(days=3, hours=1), tick=False):
            email_lapsed_comps()
    assert _subjects(app).count("Your complimentary Campus membership has ended") == 0


def test_a_comp_that_runs_out_under_a_longer_one_sends_no_ended_email_until_that_ends(app):
    with app.app_context():
        user = support.create_user()
        actions.grant_comp(user, days=3, reason="trial", actor=None)
        actions.grant_comp(user, days=30, reason="speaker", actor=None)
        db.session.commit()
        with time_machine.travel(timedelta(days=3, hours=1), tick=False):
            email_lapsed_comps()  # still complimentary for 27 days: nothing has ended for them
        with time_machine.travel(timedelta(days=30, hours=1), tick=False):
            email_lapsed_comps()
            email_lapsed_comps()
    assert _subjects(app) == [
        "You have a complimentary Campus membership",
        "You have a complimentary Campus membership",
        "Your complimentary Campus membership has ended",
    ]


def test_two_comps_running_out_together_send_one_ended_email(app):
    with app.app_context():
        user = support.create_user()
        actions.grant_comp(user, days=3, reason="trial", actor=None)
        actions.grant_comp(user, days=3, reason="speaker", actor=None)
        db.session.commit()
        with time_machine.travel(timedelta(days=3, hours=1), tick=False):
            email_lapsed_comps()
    assert _subjects(app).count("Your complimentary Campus membership has ended") == 1


def test_ending_two_comps_at_once_emails_the_member_once(app):
    with app.app_context():
        user = support.create_user()
        actions.grant_comp(user, days=30, reason="speaker", actor=None)
        actions.grant_comp(user, days=90, reason="volunteer", actor=None)
        db.session.commit()
        assert actions.end_comp(user, actor=None) == 2
        db.session.commit()
    assert _subjects(app).count("Your complimentary Campus membership has ended") == 1


def test_ending_the_longer_comp_just_after_a_shorter_one_ran_out_emails_once(app):
    with app.app_context():
        user = support.create_user()
        actions.grant_comp(user, days=3, reason="trial", actor=None)
        actions.grant_comp(user, days=30, reason="speaker", actor=None)
        db.session.commit()
        with time_machine.travel(timedelta(days=3, minutes=20), tick=False):
            actions.end_comp(user, actor=None)  # before the hourly job saw the first one end
            db.session.commit()
        with time_machine.travel(timedelta(days=3, hours=1), tick=False):
            email_lapsed_comps()
    assert _subjects(app).count("Your complimentary Campus membership has ended") == 1


def test_a_comped_member_whose_card_keeps_failing_can_still_reach_the_billing_portal(app, client):
    # Stripe keeps retrying (and may charge later): the member must be able to fix the card
    # or cancel, even while a comp grant gives them access.

    from campus.billing.models import StripeCustomer
    from campus.models.base import utcnow

    with app.app_context():
        user = support.create_user()
        db.session.add(StripeCustomer(user_id=user.id, stripe_customer_id="cus_comped"))
        support.make_member(
            user.id,
            "past_due",
            stripe_customer_id="cus_comped",
            past_due_since=utcnow() - timedelta(days=10),
        )
        support.grant_comp(user.id)
        support.sign_in_directly(client, user.id)
    page = client.get("/membership").text
    assert "Complimentary membership" in page
    assert 'action="/membership/portal"' in page and "Update your card" in page


def test_a_paid_subscription_ending_under_a_comp_or_a_newer_one_sends_no_ended_email(
    stripe_app,
):

    with stripe_app.app_context():
        comped, switched, lapsed = (support.create_user() for _ in range(3))
        lapsed_email = lapsed.email
        actions.grant_comp(comped, days=30, reason="speaker", actor=None)
        db.session.commit()
        now = int(time.time())
        _apply(subscription("sub_c1", "cus_c1", user_id=comped.id), now - 30)
        _apply(subscription("sub_s1", "cus_s1", user_id=switched.id), now - 30)
        _apply(subscription("sub_s2", "cus_s1", user_id=switched.id), now - 25)
        _apply(subscription("sub_l1", "cus_l1", user_id=lapsed.id), now - 30)
        for sub_id, customer, user in (
            ("sub_c1", "cus_c1", comped),
            ("sub_s1", "cus_s1", switched),
            ("sub_l1", "cus_l1", lapsed),
        ):
            _apply(subscription(sub_id, customer, status="canceled", user_id=user.id), now - 10)
        ended = [
            m["To"]
            for m in support.outbox(stripe_app)
            if m["Subject"] == "Your Campus membership has ended"
        ]
    # Only the member left without access is told it ended.
    assert ended == [lapsed_email]


def test_a_trial_cancelled_before_it_ends_is_not_said_to_continue_at_a_price(
    stripe_client, stripe_app
):
    # Stripe sends trial_will_end three days ahead whether or not the member cancelled.
    from campus.billing.models import StripeCustomer
    from tests.billing.fake_stripe import event, post_event

    with stripe_app.app_context():
        user_id = support.create_user().id
        db.session.add(StripeCustomer(user_id=user_id, stripe_customer_id="cus_trial"))
        db.session.commit()
    now = int(time.time())
    ends = now + 3 * 86400
    trial = {"status": "trialing", "trial_end": ends, "period_end": ends, "user_id": user_id}
    ending = subscription("sub_trial", "cus_trial", cancel_at_period_end=True, **trial)
    post_event(stripe_client, event("customer.subscription.updated", ending, created=now - 10))
    post_event(stripe_client, event("customer.subscription.trial_will_end", ending, created=now))
    assert _subjects(stripe_app) == ["Your Campus membership is cancelled"]


def test_a_comp_granted_while_a_payment_is_retried_does_not_say_there_is_nothing_to_pay(app):
    # Stripe retries a past-due subscription's card and renews it: the comp stops none of it.
    with app.app_context():
        user = support.create_user()
        support.make_member(user.id, "past_due", past_due_since=utcnow() - timedelta(days=20))
        actions.grant_comp(user, days=30, reason="speaker", actor=None)
        db.session.commit()
    [message] = support.outbox(app)
    body = support.body_of(message)
    assert "nothing to pay" not in body and "still renews on" in body
    assert support.link_in(message) == "/membership"


def test_a_comp_granted_while_the_first_payment_clears_does_not_say_there_is_nothing_to_pay(app):
    # A bank debit still clearing goes through after the grant and the membership then renews:
    # "with nothing to pay" told the member the opposite of what their bank statement will.
    with app.app_context():
        user = support.create_user()
        support.make_member(user.id, "incomplete")
        actions.grant_comp(user, days=30, reason="speaker", actor=None)
        db.session.commit()
    [message] = support.outbox(app)
    body = " ".join(support.body_of(message).split())
    assert "nothing to pay" not in body
    assert "your first payment for it is still going through" in body
    assert "cancel it on your membership page" in body
    assert support.link_in(message) == "/membership"


def test_the_welcome_of_a_membership_already_cancelled_does_not_say_it_renews(stripe_app):
    # Joined and cancelled at once: the welcome is sent when the payment shows, by then with
    # the cancellation, and the next email says it ends and is not charged again.
    with stripe_app.app_context():
        user = support.create_user()
        sub = {"user_id": user.id}
        now = int(time.time())
        _apply(subscription("sub_w1", "cus_w1", status="incomplete", **sub), now - 60)
        _apply(subscription("sub_w1", "cus_w1", cancel_at_period_end=True, **sub), now - 30)
    welcome, cancelled = support.outbox(stripe_app)
    assert welcome["Subject"] == "Welcome to your Campus membership"
    assert "renews on" not in support.body_of(welcome)
    assert "will not be charged again" in support.body_of(welcome)
    assert "not be charged for another period" in support.body_of(cancelled)


@pytest.mark.parametrize("days_past_due", [2, 10], ids=["in-grace", "past-grace"])
def test_cancelling_after_a_failed_payment_emails_the_access_the_member_really_keeps(
    stripe_app, days_past_due
):
    # Past due, access lasts the grace from the first failure, not to the end of the period.
    from campus.billing.access import has_paid_access
    from campus.billing.models import Subscription
    from campus.templating import format_date

    with stripe_app.app_context():
        user = support.create_user()
        sub = {"user_id": user.id, "status": "past_due"}
        now = int(time.time())
        _apply(subscription("sub_pd", "cus_pd", **sub), now - days_past_due * 86400)
        _apply(subscription("sub_pd", "cus_pd", cancel_at_period_end=True, **sub), now - 60)
        row = db.session.scalar(select(Subscription))
        grace_text = format_date(row.past_due_since + timedelta(days=7))
        period_text = format_date(row.current_period_end)
        in_grace = has_paid_access(user)
    assert in_grace == (days_past_due < 7)
    [message] = support.outbox(stripe_app)
    body = support.body_of(message)
    assert f"ends on {period_text}" in body and "not be charged for another period" in body
    # Stripe still retries the open invoice until the period ends: no promise of no charge.
    assert "charged again" not in body
    assert "payment that did not go through may still be tried again" in body
    assert "full access until then" not in body
    if in_grace:
        assert f"access until {grace_text}" in body
    else:
        assert "access until" not in body and "are locked" in body

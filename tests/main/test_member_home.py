"""The signed-in home page, certificates in the navigation, and the past-due banner."""

from __future__ import annotations

from datetime import timedelta

import pytest

from campus.models.base import utcnow
from tests import support
from tests.certificates.helpers import completed_student
from tests.learning.helpers import enroll_directly, make_course


def _signed_in(app, client, user_id: int):
    with app.app_context():
        support.sign_in_directly(client, user_id)
    return client


def test_the_signed_in_home_shows_where_to_continue_membership_and_certificates(app, client):
    done = completed_student(app, title="Hip Pain: Trigger Points")
    with app.app_context():
        course = make_course("neck-basics", title="Neck Pain Basics")
        enroll_directly(done.user_id, course.id)
    page = _signed_in(app, client, done.user_id).get("/").get_data(as_text=True)
    assert "Continue where you left off" in page
    assert "Neck Pain Basics" in page and "/courses/neck-basics/continue" in page
    assert "Your membership" in page and "Renews on" in page
    assert "Your certificates" in page and "Hip Pain: Trigger Points" in page
    assert "Create a free account" not in page  # not the visitors' page
    assert "Manage membership" in page


def test_the_home_dates_a_certificate_as_it_prints_after_the_calendar_changed(app, client, pacific):
    # Finished at 11:30 p.m. on December 31 in California, issued while the provider's calendar
    # was UTC: the certificate says January 1, 2027, and so must the home page that lists it.
    from datetime import UTC, datetime

    import time_machine

    app.config["TIME_ZONE"] = "UTC"
    with time_machine.travel(datetime(2027, 1, 1, 7, 30, tzinfo=UTC), tick=False):
        done = completed_student(app, "utc-dated-home")
    app.config["TIME_ZONE"] = "America/Los_Angeles"
    page = _signed_in(app, client, done.user_id).get("/").get_data(as_text=True)
    assert "January 1, 2027" in page and "December 31, 2026" not in page


def test_a_free_account_is_offered_the_membership_not_asked_to_manage_one(app, client):
    with app.app_context():
        user_id = support.create_user().id
    page = _signed_in(app, client, user_id).get("/").get_data(as_text=True)
    assert "Free account" in page and "See the membership" in page
    assert "Manage membership" not in page


def test_visitors_still_see_the_public_home(client):
    page = client.get("/").get_data(as_text=True)
    assert "Create a free account" in page and "Continue where you left off" not in page


def test_certificates_are_in_the_navigation_when_signed_in(app, client):
    with app.app_context():
        user_id = support.create_user().id
    page = _signed_in(app, client, user_id).get("/articles/").get_data(as_text=True)
    assert 'href="/certificates/"' in page


@pytest.mark.parametrize("path", ["/", "/articles/", "/membership", "/courses/"])
def test_a_past_due_member_sees_the_payment_banner_on_every_page(app, client, path):
    with app.app_context():
        user_id = support.create_user().id
        support.make_member(user_id, "past_due", past_due_since=utcnow() - timedelta(days=1))
    response = _signed_in(app, client, user_id).get(path)
    assert response.status_code == 200
    assert "Your last payment failed." in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/", "/articles/", "/membership"])
def test_an_unpaid_member_still_sees_the_overdue_banner(app, client, path):
    # Stripe stopped retrying and holds the invoice open (unpaid): the member must still act,
    # as they had to when it was past due beyond its grace.
    with app.app_context():
        user_id = support.create_user().id
        support.make_member(user_id, "unpaid")
    page = _signed_in(app, client, user_id).get(path).get_data(as_text=True)
    assert "Your membership payment is overdue" in page


@pytest.mark.parametrize(
    ("status", "fields"),
    [
        ("active", {}),
        ("past_due", {"cancel_at_period_end": True}),
        ("unpaid", {"cancel_at_period_end": True}),
        ("canceled", {}),
    ],
)
def test_no_payment_banner_when_there_is_nothing_to_pay(app, client, status, fields):
    with app.app_context():
        user_id = support.create_user().id
        support.make_member(user_id, status, **fields)
    page = _signed_in(app, client, user_id).get("/articles/").get_data(as_text=True)
    assert "Your last payment failed." not in page and "payment is overdue" not in page


def test_a_database_failure_drawing_the_banner_leaves_the_page_drawable(app, client, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from campus.main import views

    with app.app_context():
        user_id = support.create_user().id
    _signed_in(app, client, user_id)

    def broken(_user):
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    monkeypatch.setattr(views, "past_due_notice", broken)
    response = client.get("/articles/")
    assert response.status_code == 200 and "Your last payment failed." not in response.text


@pytest.mark.parametrize(
    "path, title",
    [
        ("/", "Trigger-point therapy education · Campus"),
        ("/login", "Log in · Campus"),
    ],
)
def test_public_titles_name_the_site_once_at_the_end(client, path, title):
    page = client.get(path).get_data(as_text=True)
    assert f"<title>{title}</title>" in page


def test_the_signed_in_home_title_names_the_site_once(app, client):
    with app.app_context():
        user_id = support.create_user(full_name="Vera Lind").id
    page = _signed_in(app, client, user_id).get("/").get_data(as_text=True)
    assert "<title>Your campus · Campus</title>" in page


def test_the_learning_dashboard_dates_a_completion_as_its_certificate_prints_it(
    app, client, pacific
):
    # The dashboard counts this completion in 2027, as its certificate prints it: its row says
    # the same day, not the moment's day on today's calendar.
    from datetime import UTC, datetime

    import time_machine

    app.config["TIME_ZONE"] = "UTC"
    with time_machine.travel(datetime(2027, 1, 1, 7, 30, tzinfo=UTC), tick=False):
        done = completed_student(app, "utc-dated-dashboard")
    app.config["TIME_ZONE"] = "America/Los_Angeles"
    page = _signed_in(app, client, done.user_id).get("/learning/").get_data(as_text=True)
    assert "January 1, 2027" in page and "December 31, 2026" not in page

    from tests.admin import helpers

    admin = app.test_client()
    helpers.sign_in_admin(app, admin)
    record = admin.get(f"/admin/members/{done.user_id}/").get_data(as_text=True)
    # Its Completed column; enrolling and issuing were moments of December 31 there.
    assert "January 1, 2027" in record


def test_the_course_and_quiz_pages_date_a_completion_as_its_certificate_prints_it(
    app, client, pacific
):
    # Completed (and printed) on January 1, 2027 while the calendar was UTC: the course's own
    # page and its quiz say the day the certificate does, not December 31 on today's calendar.
    from datetime import UTC, datetime

    import time_machine

    app.config["TIME_ZONE"] = "UTC"
    with time_machine.travel(datetime(2027, 1, 1, 7, 30, tzinfo=UTC), tick=False):
        done = completed_student(app, "utc-dated-course")
    app.config["TIME_ZONE"] = "America/Los_Angeles"
    member = _signed_in(app, client, done.user_id)
    course = member.get("/courses/utc-dated-course").get_data(as_text=True)
    assert "Completed on January 1, 2027" in course
    assert "You completed this course on January 1, 2027" in course
    assert "December 31, 2026" not in course
    quiz = member.get("/courses/utc-dated-course/quiz").get_data(as_text=True)
    assert "Course completed on January 1, 2027" in quiz


@pytest.mark.parametrize(
    ("status", "shown"),
    [
        ("incomplete", "Your membership starts as soon as your first payment goes through"),
        ("unpaid", "Paid content is locked until your card is updated"),
    ],
)
def test_a_membership_awaiting_a_payment_is_not_called_ended(app, client, status, shown):
    # Stripe still holds it open for its invoice (and checkout refuses to start another one):
    # the member has something to pay or confirm, not a membership to join again.
    with app.app_context():
        user_id = support.create_user().id
        support.make_member(user_id, status)
    page = _signed_in(app, client, user_id).get("/").get_data(as_text=True)
    assert shown in page
    assert "Ended" not in page and "join again" not in page


def test_a_cancelled_past_due_member_past_the_grace_is_told_access_is_locked(app, client):
    # The membership page says so; the home page read only "Cancelled: ends on ...", as if
    # access ran to that date.
    with app.app_context():
        user_id = support.create_user().id
        support.make_member(
            user_id,
            "past_due",
            cancel_at_period_end=True,
            past_due_since=utcnow() - timedelta(days=60),
            current_period_end=utcnow() + timedelta(days=20),
        )
    page = _signed_in(app, client, user_id).get("/").get_data(as_text=True)
    assert "Cancelled: ends on" in page
    assert "Paid content is locked" in page


def test_a_cancelled_past_due_member_with_a_longer_comp_is_told_when_access_ends(app, client):
    # The membership page and the emails name the comp's end; the home page said only that
    # the cancelled membership ends, sooner.
    with app.app_context():
        user_id = support.create_user().id
        support.make_member(
            user_id,
            "past_due",
            cancel_at_period_end=True,
            past_due_since=utcnow() - timedelta(days=1),
            current_period_end=utcnow() + timedelta(days=20),
        )
        support.grant_comp(user_id, days=90)
    page = _signed_in(app, client, user_id).get("/").get_data(as_text=True)
    assert "Cancelled: ends on" in page
    assert "your complimentary membership keeps your access open until" in page


def test_the_home_keeps_a_certificate_being_reissued_in_its_count_and_hours(
    app, client, monkeypatch
):
    # A reissue correcting a name leaves the completion standing (the transcript, the
    # certificates page and CE Broker's roster keep it); the home page's count and hours must
    # not drop it while the new PDF is drawn, nor link to a PDF that is not there yet.
    from campus.certificates import actions
    from campus.extensions import db
    from tests.certificates.helpers import code_of

    done = completed_student(app, title="Hip Pain: Trigger Points")  # 2 CE hours
    old = code_of(app, done.user_id)
    with app.app_context():
        monkeypatch.setattr(actions, "enqueue_after_commit", lambda *args, **kwargs: None)
        actions.reissue(old, "Name misspelled", actor=None)
        db.session.commit()
    new = code_of(app, done.user_id)
    page = _signed_in(app, client, done.user_id).get("/").get_data(as_text=True)
    section = page.split('id="certificates-heading"', 1)[1].split("</section>", 1)[0]
    assert "<span>1 certificate</span><span>2 CE hours</span>" in section
    assert "Hip Pain: Trigger Points" in section
    assert f"/certificates/{new}.pdf" not in section and f"/certificates/{old}.pdf" not in section

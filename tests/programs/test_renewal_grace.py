"""The days after a credential's expiry in which the nightly check still renews it on hours
earned within it: the holder is told so, and is not sent to the exam."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import func, select

from campus.accounts.models import User
from campus.extensions import db
from campus.programs import actions, exam
from campus.programs.models import ExamSitting, Program
from campus.programs.tasks import renew_credentials
from tests import support
from tests.programs.helpers import candidate, complete, make_course, ready_program, right_answers

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)  # the credential runs to February 29, 2028
IN_GRACE = datetime(2028, 3, 2, 10, 0, tzinfo=UTC)


def _renewal_waiting(app) -> tuple[int, str]:
    """A holder who earned the renewal hours in time, whose credential lapsed unrenewed."""
    with app.app_context():
        program, courses = ready_program(validity_months=24, renewal_hours=4)
        user = candidate(courses, when=START - timedelta(days=10))
        with time_machine.travel(START, tick=False):
            sitting = actions.start_exam(user, program)
            actions.submit_exam(user, sitting, right_answers(sitting))
            db.session.commit()
        # Earned late on the last day; no check has run since.
        complete(
            user.id,
            make_course("last-day", hours="4"),
            when=datetime(2028, 2, 29, 23, 0, tzinfo=UTC),
        )
        return user.id, program.slug


def _sittings() -> int:
    return db.session.scalar(select(func.count(ExamSitting.id))) or 0


def test_a_holder_awaiting_the_nightly_renewal_is_offered_no_exam(app, client):
    user_id, slug = _renewal_waiting(app)
    with time_machine.travel(IN_GRACE, tick=False):
        with app.app_context():
            support.sign_in_directly(client, user_id)
        page = client.get(f"/programs/{slug}").text
    assert "It will be renewed on the CE hours you earned" in page
    # An attempt spent on an exam the renewal makes needless: no button leads to one.
    assert "Start the exam" not in page
    assert "Exam: not needed to renew" in page


def test_a_holder_awaiting_the_nightly_renewal_cannot_start_the_exam_anyway(app, client):
    user_id, slug = _renewal_waiting(app)
    with time_machine.travel(IN_GRACE, tick=False):
        with app.app_context():
            support.sign_in_directly(client, user_id)
            before = _sittings()
        response = support.post_form(client, f"/programs/{slug}/exam")
        assert response.status_code == 302
        assert response.headers["Location"].endswith(f"/programs/{slug}")
        page = client.get(f"/programs/{slug}").text
        with app.app_context():
            assert _sittings() == before  # no attempt used
            program = db.session.scalar(select(Program).where(Program.slug == slug))
            user = db.session.get(User, user_id)
            assert exam.state(user, program).attempts_left == program.exam_attempts_allowed
    assert "you need not pass the exam again" in page


def test_once_renewed_the_page_shows_the_new_period(app, client):
    user_id, slug = _renewal_waiting(app)
    with time_machine.travel(IN_GRACE, tick=False):
        with app.app_context():
            assert renew_credentials.delay().get() == 1
            support.sign_in_directly(client, user_id)
        page = client.get(f"/programs/{slug}").text
    assert "expired" not in page and "Start the exam" not in page
    assert "valid until February 28, 2030" in page


def test_the_api_tells_an_app_the_renewal_is_coming_and_no_exam_is_needed(app, client):
    # It said only "expired", the exam not passed and 3 attempts left: an app would send the
    # holder to the exam the page no longer offers, and the server refuses to start.
    user_id, _slug = _renewal_waiting(app)
    with time_machine.travel(IN_GRACE, tick=False):
        with app.app_context():
            support.sign_in_directly(client, user_id)
        [listed] = client.get("/api/v1/programs").json["programs"]
        assert listed["progress"]["status"] == "expired"
        assert listed["progress"]["renewal_pending"] is True
        with app.app_context():
            assert renew_credentials.delay().get() == 1
        [listed] = client.get("/api/v1/programs").json["programs"]
    assert listed["progress"]["status"] == "valid"
    assert listed["progress"]["renewal_pending"] is False
    schema = client.get("/api/v1/openapi.json").json["components"]["schemas"]
    assert "renewal_pending" in schema["ProgramProgress"]["properties"]


def test_a_holder_who_earned_the_renewal_hours_is_not_asked_to_earn_them(app, client):
    # Earned before the period ends, the check after the course lost: the next nightly check
    # renews it, while the page still asked for the hours already earned.
    user_id, slug = _renewal_waiting(app)
    with time_machine.travel(datetime(2028, 2, 29, 23, 30, tzinfo=UTC), tick=False):
        with app.app_context():
            support.sign_in_directly(client, user_id)
        page = client.get(f"/programs/{slug}").text
    assert "Renews automatically when you earn" not in page
    assert (
        "You have earned the 4 CE hours it needs: the next nightly renewal check renews it." in page
    )


# The grace's last day is March 7, 2028; the nightly check runs at 03:30 UTC (beat's clock).
def _read(app, client, user_id: int, slug: str, moment: datetime) -> tuple[str, bool]:
    """The program page and the API's renewal_pending at a moment."""
    with time_machine.travel(moment, tick=False):
        with app.app_context():
            support.sign_in_directly(client, user_id)
        page = client.get(f"/programs/{slug}").text
        [listed] = client.get("/api/v1/programs").json["programs"]
    return page, listed["progress"]["renewal_pending"]


def _next_check_renews(app, moment: datetime) -> int:
    """Run the renewal check at the next 03:30 UTC after a moment; how many it renewed."""
    check = moment.replace(hour=3, minute=30, second=0, microsecond=0)
    if check <= moment:
        check += timedelta(days=1)
    with time_machine.travel(check, tick=False), app.app_context():
        return renew_credentials.delay().get()


def _after_the_last_check(app, client, moment: datetime) -> None:
    user_id, slug = _renewal_waiting(app)
    page, pending = _read(app, client, user_id, slug, moment)
    # That night's check has run: the next one finds the grace over and renews nothing, so
    # the page promised a renewal that never comes and refused the exam that would.
    assert "next nightly renewal check" not in page and pending is False
    assert "Start the exam" in page
    with time_machine.travel(moment, tick=False):
        with app.app_context():
            before = _sittings()
        assert support.post_form(client, f"/programs/{slug}/exam").status_code == 302
        with app.app_context():
            assert _sittings() == before + 1  # started, not refused
    assert _next_check_renews(app, moment) == 0


def _before_the_last_check(app, client, moment: datetime) -> None:
    user_id, slug = _renewal_waiting(app)
    page, pending = _read(app, client, user_id, slug, moment)
    assert "next nightly renewal check" in page and pending is True
    assert "Start the exam" not in page
    assert _next_check_renews(app, moment) == 1  # as promised


def test_the_last_grace_day_after_its_check_offers_the_exam(app, client):
    _after_the_last_check(app, client, datetime(2028, 3, 7, 10, 0, tzinfo=UTC))


def test_the_last_grace_day_before_its_check_still_awaits_it(app, client):
    _before_the_last_check(app, client, datetime(2028, 3, 7, 2, 0, tzinfo=UTC))


def test_the_last_grace_day_in_the_providers_zone_after_its_check(app, client, pacific):
    # 03:30 UTC on March 8 is 19:30 on March 7 in California: that is the last day's check.
    _after_the_last_check(app, client, datetime(2028, 3, 8, 4, 0, tzinfo=UTC))


def test_the_last_grace_day_in_the_providers_zone_before_its_check(app, client, pacific):
    _before_the_last_check(app, client, datetime(2028, 3, 7, 20, 0, tzinfo=UTC))


def test_the_api_schema_says_an_open_sitting_is_returned_not_refused(app, client):
    schema = client.get("/api/v1/openapi.json").json["components"]["schemas"]
    text = schema["ProgramProgress"]["properties"]["renewal_pending"]["description"]
    # It said "a start is refused", while with a sitting open a start returns that sitting.
    assert "a start is refused" not in text
    assert "with one open already a start returns that sitting" in text

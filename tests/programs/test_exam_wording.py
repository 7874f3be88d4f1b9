"""What the program and exam pages tell a candidate about attempts, retakes and the wait."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import select

from campus.extensions import db
from campus.programs.models import ExamSitting
from tests import support
from tests.programs.helpers import candidate, ready_program

START = datetime(2026, 6, 1, 13, 0, tzinfo=UTC)


def _failed_once(app, client, **fields) -> tuple[str, str]:
    """A candidate who sat the exam once and answered nothing: (program slug, sitting url)."""
    with app.app_context(), time_machine.travel(START, tick=False):
        program, courses = ready_program(**fields)
        user = candidate(courses)
        support.sign_in_directly(client, user.id)
        slug = program.slug
        started = support.post_form(client, f"/programs/{slug}/exam", {})
        sitting_url = started.headers["Location"]
        assert support.post_form(client, f"{sitting_url}/submit", {}).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(ExamSitting)).passed is False
    return slug, sitting_url


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_a_retake_a_year_away_is_dated_with_its_year(app, client):
    slug, _url = _failed_once(app, client, exam_retake_wait_days=365)
    with time_machine.travel(START, tick=False):
        page = _text(client.get(f"/programs/{slug}").text)
    # Without the year it read "June 1 at 13:00 UTC", the very day the attempt failed.
    assert "Your next attempt opens June 1, 2027 at 13:00 UTC." in page


@pytest.mark.parametrize(
    ("attempts", "wait", "said", "unsaid"),
    [
        (1, 7, "1 attempt, with no retake.", "between attempts"),
        (3, 0, "3 attempts; a retake may start as soon as an attempt ends.", "0 days"),
        (3, 1, "3 attempts; 1 day between attempts.", "no retake"),
    ],
)
def test_the_exam_rules_fit_the_attempts_and_the_wait(app, client, attempts, wait, said, unsaid):
    with app.app_context():
        program, _courses = ready_program(
            exam_attempts_allowed=attempts, exam_retake_wait_days=wait
        )
        slug = program.slug
    page = _text(client.get(f"/programs/{slug}").text)
    assert said in page
    assert unsaid not in page


@pytest.mark.parametrize(
    ("attempts", "wait", "said"),
    [
        (3, 1, "You have 2 attempts left; the next opens June 2, 2026 at 13:00 UTC."),
        (2, 0, "You have 1 attempt left."),
        (1, 7, "That was your last attempt at this exam."),
    ],
)
def test_a_failed_attempt_says_what_comes_next(app, client, attempts, wait, said):
    _slug, sitting_url = _failed_once(
        app, client, exam_attempts_allowed=attempts, exam_retake_wait_days=wait
    )
    with time_machine.travel(START, tick=False):
        result = _text(client.get(sitting_url).text)
    assert "Not passed this time" in result
    assert said in result


def test_a_one_question_one_minute_exam_is_not_written_in_plurals(app, client):
    with app.app_context():
        program, _courses = ready_program(exam_question_count=1, exam_time_limit_minutes=1)
        slug = program.slug
    listed = _text(client.get("/programs/").text)
    page = _text(client.get(f"/programs/{slug}").text)
    assert "Exam: 1 question, 1 minute" in listed
    assert "1 question drawn from the bank" in page
    assert "1 minute on the server's clock" in page
    assert "1 questions" not in listed + page and "1 minutes" not in listed + page


def test_a_failed_attempt_on_a_retired_program_promises_no_retake(app, client):
    from campus.programs.models import Program

    _slug, sitting_url = _failed_once(app, client, exam_attempts_allowed=3)
    with app.app_context():
        db.session.scalar(select(Program)).published = False
        db.session.commit()
    with time_machine.travel(START, tick=False):
        result = _text(client.get(sitting_url).text)
    assert "Not passed this time" in result
    assert "attempts left" not in result


def test_an_exam_ending_the_next_day_says_which_day_it_ends(app, client):
    # A 600-minute exam started in the evening ends the next morning: "ends 07:00 UTC" read
    # as this morning, already past.
    with app.app_context(), time_machine.travel(datetime(2026, 6, 1, 21, 0, tzinfo=UTC)):
        program, courses = ready_program(exam_time_limit_minutes=600)
        support.sign_in_directly(client, candidate(courses).id)
        started = support.post_form(client, f"/programs/{program.slug}/exam", {})
        page = _text(client.get(started.headers["Location"]).text)
    assert "(ends June 2, 2026 at 07:00 UTC)" in page


def test_a_candidate_out_of_attempts_is_told_whom_to_ask_for_another(app, client):
    # "You have used every attempt" was a dead end: no attempt opens again by itself, and the
    # provider, who may allow more (the program's attempts), was not named.
    slug, sitting_url = _failed_once(app, client, exam_attempts_allowed=1)
    email = app.config["PROVIDER_EMAIL"]
    with time_machine.travel(START, tick=False):
        page = client.get(f"/programs/{slug}").text
        result = client.get(sitting_url).text
    said = f"To ask for another attempt, write to {email}"
    assert "You have used your 1 attempt at this exam." in _text(page)
    assert said in _text(page)
    assert f'href="mailto:{email}"' in page
    assert "That was your last attempt at this exam." in _text(result)
    assert said in _text(result)


def test_starting_again_with_no_attempt_left_names_the_next_step(app, client):
    slug, _url = _failed_once(app, client, exam_attempts_allowed=1)
    email = app.config["PROVIDER_EMAIL"]
    with time_machine.travel(START, tick=False):
        refused = support.post_form(client, f"/programs/{slug}/exam", {})
        page = _text(client.get(refused.headers["Location"]).text)
    # It read "You have used all 1 attempts", and ended there.
    assert (
        f"You have used your 1 attempt at this exam. To ask for another attempt, write to {email}."
        in page
    )
    assert "all 1 attempts" not in page


def test_a_sitting_on_a_retired_program_links_to_a_page_that_opens(app, client):
    # Its result offers "Back to the program", and its breadcrumb the program: a page that
    # still opens to a candidate with a sitting of it once the program is unpublished.
    from campus.programs.models import Program

    slug, sitting_url = _failed_once(app, client, exam_attempts_allowed=3)
    with app.app_context():
        db.session.scalar(select(Program)).published = False
        db.session.commit()
    with time_machine.travel(START, tick=False):
        result = client.get(sitting_url).text
        page = client.get(f"/programs/{slug}")
    assert f'href="/programs/{slug}"' in result
    assert "This program is no longer offered." in _text(result)
    assert page.status_code == 200 and "This program is retired" in page.text


def test_a_retake_opens_at_the_minute_the_page_gives(app, client):
    # An attempt submitted at 13:00:40 read "opens June 8 at 13:00", but a start at 13:00:20
    # that day was refused "from June 8, 2026 at 13:00": the wait ran to the second.
    with app.app_context(), time_machine.travel(START.replace(second=40), tick=False):
        program, courses = ready_program(exam_retake_wait_days=7)
        user = candidate(courses)
        support.sign_in_directly(client, user.id)
        slug, user_id = program.slug, user.id
        started = support.post_form(client, f"/programs/{slug}/exam", {})
        assert support.post_form(client, started.headers["Location"] + "/submit").status_code
    week_later = datetime(2026, 6, 8, 13, 0, 20, tzinfo=UTC)
    with time_machine.travel(week_later, tick=False):
        with app.app_context():
            support.sign_in_directly(client, user_id)  # a week on: signed in again
        page = _text(client.get(f"/programs/{slug}").text)
        assert "Your next attempt opens June 8, 2026 at 13:01 UTC." in page
        refused = support.post_form(client, f"/programs/{slug}/exam", {}, follow_redirects=True)
        assert "You can retake the exam from June 8, 2026 at 13:01 UTC." in _text(refused.text)
    with time_machine.travel(week_later.replace(minute=1, second=0), tick=False):
        again = support.post_form(client, f"/programs/{slug}/exam", {})
        assert "/exam/" in again.headers["Location"]


def test_with_no_wait_a_retake_starts_the_moment_an_attempt_ends(app, client):
    with app.app_context(), time_machine.travel(START.replace(second=40), tick=False):
        program, courses = ready_program(exam_retake_wait_days=0)
        support.sign_in_directly(client, candidate(courses).id)
        slug = program.slug
        started = support.post_form(client, f"/programs/{slug}/exam", {})
        support.post_form(client, started.headers["Location"] + "/submit")
        page = _text(client.get(f"/programs/{slug}").text)
        assert "Your next attempt opens" not in page and "Start the exam" in page
        again = support.post_form(client, f"/programs/{slug}/exam", {})
        assert "/exam/" in again.headers["Location"]


def test_a_candidate_over_a_lowered_limit_is_told_how_many_they_used(app, client):
    # An admin lowered the limit from 3 to 2 after the candidate had used 3: the page and the
    # refusal read "You have used all 2 attempts", though they used 3.
    from campus.programs.models import Program

    with app.app_context(), time_machine.travel(START, tick=False):
        program, courses = ready_program(exam_attempts_allowed=3, exam_retake_wait_days=0)
        user = candidate(courses)
        support.sign_in_directly(client, user.id)
        slug = program.slug
        for _ in range(3):
            started = support.post_form(client, f"/programs/{slug}/exam", {})
            assert support.post_form(client, started.headers["Location"] + "/submit", {})
    with app.app_context():
        db.session.scalar(select(Program)).exam_attempts_allowed = 2
        db.session.commit()
    with time_machine.travel(START, tick=False):
        page = _text(client.get(f"/programs/{slug}").text)
        refused = support.post_form(client, f"/programs/{slug}/exam", {})
        after = _text(client.get(refused.headers["Location"]).text)
    said = "You have used 3 attempts at this exam, and it now allows 2."
    assert said in page and said in after
    assert "all 2 attempts" not in page and "all 2 attempts" not in after

"""Quiz scoring (the partial-credit rule), the daily attempt limit and bad submissions."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from tests.learning.helpers import (
    api_post,
    as_form,
    as_payload,
    complete_all_lessons,
    make_course,
    make_reader,
    right_answers,
    sign_in,
)
from tests.support import csrf_token, post_form


@pytest.fixture
def course(app):
    with app.app_context():
        return make_course(pass_mark=75, attempts_per_day=3)


@pytest.fixture
def member(app, client, course):
    user_id = make_reader(app, "member", client, course)
    with app.app_context():
        complete_all_lessons(user_id, course)
    return user_id


def _attempts(app) -> list:
    from campus.extensions import db
    from campus.learning.models import QuizAttempt

    with app.app_context():
        return list(
            db.session.execute(
                select(QuizAttempt.correct_count, QuizAttempt.score_percent, QuizAttempt.passed)
            ).all()
        )


def _submit(client, course, answers):
    return api_post(client, f"/api/v1/courses/{course.slug}/quiz/attempts", as_payload(answers))


# --- scoring -------------------------------------------------------------------------------


def test_all_right_answers_pass_and_reveal_explanations(app, client, course, member):
    response = _submit(client, course, right_answers(course))
    assert response.status_code == 201
    body = response.get_json()
    assert (body["correct_count"], body["score_percent"], body["passed"]) == (4, 100, True)
    assert {r["explanation"] for r in body["results"]} >= {"A and C, both of them."}
    assert "no partial credit" in body["scoring_rule"]


def test_multiple_answer_question_with_a_subset_of_the_right_choices_scores_zero(
    app, client, course, member
):
    answers = right_answers(course)
    multi = course.questions[1]  # A and C are correct
    answers[multi.id] = [multi.correct[0]]  # only A
    body = _submit(client, course, answers).get_json()
    assert body["correct_count"] == 3
    assert body["score_percent"] == 75
    assert body["passed"] is True  # 3/4 = 75% meets a 75% pass mark exactly


def test_multiple_answer_question_with_an_extra_wrong_choice_scores_zero(
    app, client, course, member
):
    answers = right_answers(course)
    multi = course.questions[1]
    answers[multi.id] = [*multi.correct, multi.wrong[0]]
    single = course.questions[0]
    answers[single.id] = [single.wrong[0]]
    body = _submit(client, course, answers).get_json()
    assert (body["correct_count"], body["score_percent"], body["passed"]) == (2, 50, False)
    assert "results" not in body  # explanations and the key only after a pass


def test_score_below_the_pass_mark_fails_but_is_recorded(app, client, course, member):
    answers = {q.id: [q.wrong[0]] for q in course.questions}
    body = _submit(client, course, answers).get_json()
    assert body["passed"] is False and body["score_percent"] == 0
    assert _attempts(app) == [(0, 0, False)]


def test_scoring_rule_unit(app):
    """score(): a point only for exactly the correct set; pass compares exact fractions."""
    from campus.extensions import db
    from campus.learning import quiz as quizzes
    from campus.learning.models import Quiz

    with app.app_context():
        info = make_course("unit", pass_mark=70)
        quiz = db.session.get(Quiz, info.quiz_id)
        answers = {q.id: frozenset(q.correct) for q in info.questions}
        assert quizzes.score(quiz, answers).percent == 100
        answers[info.questions[3].id] = frozenset(info.questions[3].choices)  # everything
        result = quizzes.score(quiz, answers)
        assert (result.correct, result.percent, result.passed) == (3, 75, True)
        answers[info.questions[1].id] = frozenset()
        result = quizzes.score(quiz, answers)
        assert (result.correct, result.percent, result.passed) == (2, 50, False)
        # 2 of 3 is 66.66...%: shown as 66, and below a 67% pass mark even though it rounds up.
        exact = quizzes.Score(correct=2, total=3, pass_mark_percent=67, question_correct={})
        assert (exact.percent, exact.passed) == (66, False)


def test_quiz_page_states_the_rule_and_hides_the_key(app, client, course, member):
    html = client.get(f"/courses/{course.slug}/quiz").get_data(as_text=True)
    assert "there is no partial credit" in html
    assert "A is right because" not in html and "is-correct" not in html
    assert 'type="checkbox"' in html and 'type="radio"' in html


def test_passing_through_the_form_shows_answers_and_explanations(app, client, course, member):
    response = post_form(client, f"/courses/{course.slug}/quiz", as_form(right_answers(course)))
    assert response.status_code == 302
    html = client.get(f"/courses/{course.slug}/quiz").get_data(as_text=True)
    assert "You passed" in html
    assert "A is right because it is A." in html
    assert "is-correct" in html


def test_failed_attempt_keeps_the_key_hidden_on_the_page(app, client, course, member):
    answers = {q.id: [q.wrong[0]] for q in course.questions}
    post_form(client, f"/courses/{course.slug}/quiz", as_form(answers))
    html = client.get(f"/courses/{course.slug}/quiz").get_data(as_text=True)
    assert "Not passed" in html
    assert "A is right because" not in html and "is-correct" not in html


def test_api_course_detail_reveals_the_key_only_after_a_pass(app, client, course, member):
    api_post(client, f"/api/v1/courses/{course.slug}/quiz/attempt")
    before = client.get(f"/api/v1/courses/{course.slug}").get_json()
    assert len(before["quiz"]["questions"]) == 4
    assert all("correct_choice_ids" not in q for q in before["quiz"]["questions"])
    _submit(client, course, right_answers(course))
    after = client.get(f"/api/v1/courses/{course.slug}").get_json()
    keys = {q["id"]: sorted(q["correct_choice_ids"]) for q in after["quiz"]["questions"]}
    assert keys == {q.id: sorted(q.correct) for q in course.questions}


# --- attempt limits --------------------------------------------------------------------------


def _soon() -> datetime:
    return datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=5)


def test_attempts_per_day_limit_with_a_frozen_clock(app, client, course, member):
    wrong = {q.id: [q.wrong[0]] for q in course.questions}
    # Forward in time only: signed session cookies refuse timestamps from the future.
    start = _soon()
    with time_machine.travel(start, tick=False):
        for _ in range(3):
            assert _submit(client, course, wrong).status_code == 201
        over = _submit(client, course, right_answers(course))
        assert over.status_code == 429
        assert over.get_json()["error"]["code"] == "attempt_limit"
        assert over.get_json()["error"]["retry_at"] == (start + timedelta(hours=24)).isoformat()
    assert len(_attempts(app)) == 3  # the refused attempt changed nothing
    # Hours later the session has timed out (SESSION_IDLE_TIMEOUT): sign in again each time.
    with time_machine.travel(start + timedelta(hours=23, minutes=59), tick=False):
        sign_in(client, member)
        assert _submit(client, course, right_answers(course)).status_code == 429
    with time_machine.travel(start + timedelta(hours=24, seconds=1), tick=False):
        sign_in(client, member)
        response = _submit(client, course, right_answers(course))
        assert response.status_code == 201 and response.get_json()["passed"] is True
    assert len(_attempts(app)) == 4


def test_over_the_limit_the_api_says_when_to_retry_in_the_retry_after_header(
    app, client, course, member
):
    wrong = {q.id: [q.wrong[0]] for q in course.questions}
    start = _soon()
    with time_machine.travel(start, tick=False):
        for _ in range(3):
            assert _submit(client, course, wrong).status_code == 201
        over = _submit(client, course, wrong)
        started = api_post(client, f"/api/v1/courses/{course.slug}/quiz/attempt", None)
    for response in (over, started):
        assert response.status_code == 429
        # An HTTP client backs off by the header, not by reading the error body.
        assert response.headers["Retry-After"] == str(24 * 3600)


def test_over_the_limit_on_the_page_shows_when_to_come_back(app, client, course, member):
    wrong = {q.id: [q.wrong[0]] for q in course.questions}
    start = _soon()
    with time_machine.travel(start, tick=False):
        for _ in range(3):
            post_form(client, f"/courses/{course.slug}/quiz", as_form(wrong))
        page = client.get(f"/courses/{course.slug}/quiz").get_data(as_text=True)
        assert "0</strong> left now" in page
        assert (start + timedelta(hours=24)).strftime("%B %-d at %H:%M UTC") in page
        response = post_form(client, f"/courses/{course.slug}/quiz", as_form(wrong))
        assert response.status_code == 429
    assert len(_attempts(app)) == 3


def test_passed_quiz_cannot_be_attempted_again(app, client, course, member):
    assert _submit(client, course, right_answers(course)).status_code == 201
    again = _submit(client, course, right_answers(course))
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_passed"
    assert len(_attempts(app)) == 1


# --- bad submissions: a clear error and nothing changed ----------------------------------------


def _bad_cases(course, other):
    right = right_answers(course)
    first, single = course.questions[0], course.questions[2]
    missing = dict(list(right.items())[1:])
    foreign = {**right, other.questions[0].id: other.questions[0].correct}
    wrong_choice = {**right, first.id: [other.questions[0].correct[0]]}
    two_on_single = {**right, single.id: single.choices}
    empty = {**right, first.id: []}
    return {
        "missing answer": missing,
        "question of another quiz": foreign,
        "choice of another question": wrong_choice,
        "two answers to a single-answer question": two_on_single,
        "empty answer": empty,
    }


@pytest.mark.parametrize(
    "case",
    [
        "missing answer",
        "question of another quiz",
        "choice of another question",
        "two answers to a single-answer question",
        "empty answer",
    ],
)
def test_bad_submission_is_refused_and_records_nothing(app, client, course, member, case):
    with app.app_context():
        other = make_course("other-course")
    answers = _bad_cases(course, other)[case]
    response = _submit(client, course, answers)
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] in ("invalid_answers", "validation_error")
    assert _attempts(app) == []
    form = post_form(client, f"/courses/{course.slug}/quiz", as_form(answers))
    assert form.status_code == 422
    assert "Answer every question" in form.get_data(as_text=True)
    assert _attempts(app) == []


def test_a_refused_submission_names_its_problems_where_the_document_says(
    app, client, course, member
):
    with app.app_context():
        other = make_course("other-course")
    response = _submit(client, course, _bad_cases(course, other)["question of another quiz"])
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "invalid_answers"
    # The document's error body keeps a validation's per-field messages under details.
    assert error["details"] == {"json": {"answers": error["problems"]}}
    assert any("is not part of this attempt" in problem for problem in error["problems"])


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"answers": "all of them"},
        {"answers": [{"question_id": "1", "choice_ids": [1]}]},
        {"answers": [{"question_id": 1, "choice_ids": [1]}, {"question_id": 1, "choice_ids": [2]}]},
        {"answers": [{"question_id": 1}]},
    ],
)
def test_malformed_api_payload_is_a_422(app, client, course, member, payload):
    response = api_post(client, f"/api/v1/courses/{course.slug}/quiz/attempts", payload)
    assert response.status_code == 422
    assert "error" in response.get_json()
    assert _attempts(app) == []


@pytest.mark.parametrize(
    "answer",
    [{"q-1": "drop table"}, {"q-1": "²"}, {"q-1": "\u0661"}, {"q-\u0661": "1"}, {"q-1": "1²"}],
)
def test_form_with_garbage_values_is_refused(app, client, course, member, answer):
    response = post_form(client, f"/courses/{course.slug}/quiz", answer)
    assert response.status_code == 422
    assert _attempts(app) == []


def test_quiz_is_closed_until_every_lesson_is_complete(app, client):
    with app.app_context():
        course = make_course("unfinished")
    make_reader(app, "member", client, course)
    response = _submit(client, course, right_answers(course))
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "lessons_incomplete"
    assert "Finish the lessons first" in client.get(f"/courses/{course.slug}/quiz").get_data(
        as_text=True
    )
    assert _attempts(app) == []


def test_quiz_of_unknown_or_draft_course_is_404(app, client, course, member):
    with app.app_context():
        draft = make_course("draft-quiz", published=False)
    assert _submit(client, draft, right_answers(draft)).status_code == 404
    missing = api_post(client, "/api/v1/courses/no-such-course/quiz/attempts", {"answers": []})
    assert missing.status_code in (404, 422)
    missing = api_post(
        client,
        "/api/v1/courses/no-such-course/quiz/attempts",
        {"answers": [{"question_id": 1, "choice_ids": [1]}]},
    )
    assert missing.status_code == 404
    assert _attempts(app) == []


def test_api_post_without_csrf_header_is_refused(app, client, course, member):
    csrf_token(client)
    response = client.post(
        f"/api/v1/courses/{course.slug}/quiz/attempts", json=as_payload(right_answers(course))
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"
    assert _attempts(app) == []


def test_every_attempt_is_recorded_with_its_answers(app, client, course, member):
    wrong = {q.id: [q.wrong[0]] for q in course.questions}
    _submit(client, course, wrong)
    _submit(client, course, right_answers(course))
    from campus.extensions import db
    from campus.learning.models import QuizAttempt

    with app.app_context():
        rows = db.session.scalars(select(QuizAttempt).order_by(QuizAttempt.id)).all()
        assert [r.passed for r in rows] == [False, True]
        assert rows[1].answers == {str(k): sorted(v) for k, v in right_answers(course).items()}
        assert db.session.scalar(select(func.count(QuizAttempt.id))) == 2


def test_the_attempt_limit_says_when_to_come_back_on_the_providers_clock(
    app, client, course, member, pacific
):
    from zoneinfo import ZoneInfo

    wrong = {q.id: [q.wrong[0]] for q in course.questions}
    start = _soon()
    with time_machine.travel(start, tick=False):
        for _ in range(3):
            assert _submit(client, course, wrong).status_code == 201
        message = _submit(client, course, wrong).get_json()["error"]["message"]
    back = (start + timedelta(hours=24)).astimezone(ZoneInfo("America/Los_Angeles"))
    assert message.endswith(f"You can try again after {back:%B %-d at %H:%M %Z}.")
    assert back.strftime("%Z") in ("PST", "PDT")


def test_a_double_click_on_submit_records_one_attempt(app, client, course, member):
    import re

    page = client.get(f"/courses/{course.slug}/quiz").get_data(as_text=True)
    # The form as the browser sends it: its hidden fields and the answers chosen.
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    form = {**hidden, **as_form({q.id: [q.wrong[0]] for q in course.questions})}
    first = client.post(f"/courses/{course.slug}/quiz", data=form)
    assert first.status_code == 302
    # The second click of a double click reaches the server after the first was scored: the
    # page the browser shows is its answer, so it tells the one result.
    second = client.post(f"/courses/{course.slug}/quiz", data=form, follow_redirects=True)
    assert second.status_code == 200
    assert "You scored 0%" in second.get_data(as_text=True)
    assert _attempts(app) == [(0, 0, False)]  # one attempt of the day's three used
    # Another tab's different answers to the same attempt are refused, not scored.
    other = {**hidden, **as_form(right_answers(course))}
    refused = client.post(f"/courses/{course.slug}/quiz", data=other)
    assert refused.status_code == 409
    assert "submitted already" in refused.get_data(as_text=True)
    assert _attempts(app) == [(0, 0, False)]


def test_a_refused_quiz_opens_at_what_is_wrong(app, client, course, member):
    with app.app_context():
        other = make_course("other-course")
    answers = _bad_cases(course, other)["missing answer"]
    page = post_form(client, f"/courses/{course.slug}/quiz", as_form(answers)).get_data(
        as_text=True
    )
    # Focus starts on the problem, not at the top of the page: the browser scrolls to it and a
    # screen reader reads it (an alert already on the page when it loads is often not read).
    box = re.search(r'<div class="flash flash-error"[^>]*>', page)
    assert box and 'tabindex="-1"' in box.group(0) and "autofocus" in box.group(0)
    assert page.count("autofocus") == 1


def test_raising_the_pass_mark_mid_attempt_does_not_fail_the_open_attempt(
    app, client, course, member
):
    from campus.extensions import db
    from campus.learning.models import Quiz

    start = api_post(client, f"/api/v1/courses/{course.slug}/quiz/attempt")
    assert start.get_json()["pass_mark_percent"] == 75
    with app.app_context():
        quiz = db.session.scalar(select(Quiz).where(Quiz.course_id == course.id))
        quiz.pass_mark_percent = 100  # the admin's edit while the learner answers
        db.session.commit()
    shown = client.get(f"/api/v1/courses/{course.slug}/quiz/attempt").get_json()
    assert shown["pass_mark_percent"] == 75
    answers = right_answers(course)
    first = course.questions[0]
    answers[first.id] = [first.wrong[0]]  # three of four: 75%

    body = _submit(client, course, answers).get_json()

    assert (body["score_percent"], body["pass_mark_percent"], body["passed"]) == (75, 75, True)
    assert _attempts(app) == [(3, 75, True)]


def test_the_quiz_page_states_the_open_attempts_pass_mark(app, client, course, member):
    from campus.extensions import db
    from campus.learning.models import Quiz

    client.get(f"/courses/{course.slug}/quiz")  # the attempt is drawn and frozen here
    with app.app_context():
        quiz = db.session.scalar(select(Quiz).where(Quiz.course_id == course.id))
        quiz.pass_mark_percent = 90
        db.session.commit()

    page = client.get(f"/courses/{course.slug}/quiz").get_data(as_text=True)

    assert "pass mark 75%" in page and "90%" not in page

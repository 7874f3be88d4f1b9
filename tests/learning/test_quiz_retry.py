"""A quiz submission sent again (a lost answer, a double click) is answered, not scored again."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.learning.helpers import (
    answers_to,
    api_post,
    as_payload,
    complete_all_lessons,
    make_course,
    make_reader,
    start_attempt,
)


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


def _attempt_count(app) -> int:
    from campus.extensions import db
    from campus.learning.models import QuizAttempt

    with app.app_context():
        return db.session.scalar(select(func.count(QuizAttempt.id)))


def _submit(client, course, answers, attempt_id=None):
    payload = as_payload(answers)
    if attempt_id is not None:
        payload["attempt_id"] = attempt_id
    return api_post(client, f"/api/v1/courses/{course.slug}/quiz/attempts", payload)


@pytest.mark.parametrize("right", [False, True], ids=["failed", "passed"])
def test_a_resent_submission_answers_the_recorded_result(app, client, course, member, right):
    attempt = start_attempt(client, course.slug)
    answers = answers_to(attempt, course, right=right)
    first = _submit(client, course, answers, attempt["id"])
    assert first.status_code == 201, first.get_json()
    # The answer was lost on the way back; the client sends the same submission again.
    again = _submit(client, course, answers, attempt["id"])
    assert again.status_code == 200, again.get_json()
    assert again.get_json() == first.get_json()
    assert first.get_json()["attempt_id"] == attempt["id"]
    assert _attempt_count(app) == 1
    # The day's allowance is spent once: a fresh attempt is still open to a failed student.
    if not right:
        assert start_attempt(client, course.slug)["id"] != attempt["id"]


def test_other_answers_for_a_submitted_attempt_are_a_conflict(app, client, course, member):
    attempt = start_attempt(client, course.slug)
    first = _submit(client, course, answers_to(attempt, course, False), attempt["id"])
    assert first.status_code == 201, first.get_json()
    changed = _submit(client, course, answers_to(attempt, course, True), attempt["id"])
    assert changed.status_code == 409
    assert changed.get_json()["error"]["code"] == "attempt_submitted"
    assert _attempt_count(app) == 1


def test_an_attempt_id_that_is_not_the_students_is_refused(app, client, course, member):
    other_client = app.test_client()
    other = make_reader(app, "member", other_client, course)
    with app.app_context():
        complete_all_lessons(other, course)
    theirs = start_attempt(client, course.slug)
    answers = answers_to(theirs, course, right=True)
    for unknown in (theirs["id"] + 1000, theirs["id"]):
        response = _submit(other_client, course, answers, unknown)
        assert response.status_code == 422, response.get_json()
        assert response.get_json()["error"]["code"] == "unknown_attempt"
    assert _attempt_count(app) == 0


def test_a_submission_without_attempt_id_still_scores_the_open_attempt(app, client, course, member):
    attempt = start_attempt(client, course.slug)
    response = _submit(client, course, answers_to(attempt, course, right=True))
    assert response.status_code == 201
    assert response.get_json()["attempt_id"] == attempt["id"]


def test_the_document_describes_the_attempt_id_and_the_replayed_answer(client):
    document = client.get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/api/v1/courses/{slug}/quiz/attempts"]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    schema = document["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
    assert "attempt_id" in schema["properties"]
    assert "answers" in schema.get("required", [])
    assert {"200", "201", "409", "422"} <= set(operation["responses"])
    assert "attempt_id" in operation["responses"]["200"]["description"]


def test_the_document_says_what_course_completed_reports_on_a_resent_submission(client):
    # A client told course_completed on a resent submission must know whether it is this
    # request's doing or the recorded answer: the body sent again is the one first sent.
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    attempt = schemas["AttemptOut"]["properties"]["course_completed"]["description"]
    assert "completed the course" in attempt and "sent again" in attempt
    lesson = schemas["LessonCompletion"]["properties"]["course_completed"]["description"]
    assert "completed the course" in lesson

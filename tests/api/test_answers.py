"""Real answers of every operation, on a campus with data in every state, fit the document.

The fuzz run in test_contract.py reaches what a bare catalog answers; here a member has a
certificate (and a reissued code), licenses, an open quiz attempt, a program credential, and
there are articles and practitioners, so every field of every answer is sent and checked
against its schema: required fields, types, nullability and date and date-time formats.
"""

from __future__ import annotations

import json
from datetime import date

from openapi_schema_validator import OAS30Validator

from tests import support
from tests.api.helpers import bearer, make_token
from tests.certificates.helpers import certificate_of, completed_student
from tests.content.helpers import make_article
from tests.directory.helpers import make_profile
from tests.learning.helpers import answers_to, as_payload, complete_all_lessons, enroll_directly
from tests.learning.helpers import make_course as make_learning_course
from tests.licenses.helpers import add_license
from tests.programs.helpers import make_credential, ready_program


def _resolved(node, document: dict):
    """The node with every $ref replaced by what it points to."""
    if isinstance(node, dict):
        if "$ref" in node:
            target = document
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            return _resolved(target, document)
        return {key: _resolved(value, document) for key, value in node.items()}
    if isinstance(node, list):
        return [_resolved(value, document) for value in node]
    return node


def _problems(document: dict, path: str, method: str, response) -> list[str]:
    """What in an answer the document does not describe."""
    responses = document["paths"][path][method]["responses"]
    status = str(response.status_code)
    if status not in responses:
        return [f"status {status} is not documented"]
    documented = _resolved(responses[status], document)
    problems = []
    if response.mimetype != "application/json":
        problems.append(f"Content-Type {response.content_type}")
    schema = documented["content"]["application/json"]["schema"]
    validator = OAS30Validator(schema, format_checker=OAS30Validator.FORMAT_CHECKER)
    body = json.loads(response.get_data(as_text=True))
    problems += [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(body)]
    for header in documented.get("headers", {}):
        if header not in response.headers:
            problems.append(f"no {header} header")
    if response.status_code == 401 and "WWW-Authenticate" not in response.headers:
        problems.append("a 401 without WWW-Authenticate")
    return problems


def _campus(app) -> dict[str, str]:
    """A member with something in every state, and their tokens; the names the calls use."""
    student = completed_student(app, "done-course")
    with app.app_context():
        user_id = student.user_id
        add_license(user_id, jurisdiction="NCBTMB", number="X-1", expires_on=date(2031, 1, 31))
        old_code = certificate_of(user_id).code
        from campus.certificates import actions
        from campus.extensions import db

        actions.reissue(old_code, "Name corrected", actor=None)
        db.session.commit()
        quiz_course = make_learning_course("quiz-course", attempts_per_day=1)
        enroll_directly(user_id, quiz_course.id)
        complete_all_lessons(user_id, quiz_course)
        new_course = make_learning_course("new-course")
        program, _courses = ready_program()
        make_credential(user_id, program)
        make_article(slug="open-article", tags=["neck", "jaw"], category="Neck")
        make_article(slug="paid-article", visibility="paid", category=None)
        make_profile("10001", display_name="Near by")
        make_profile("10002", display_name="A little further")
        other = support.create_user()
        support.make_member(other.id)
        return {
            "write": make_token(user_id, "write"),
            "read": make_token(user_id, "read"),
            "code": certificate_of(user_id).code,
            "old_code": old_code,
            "lesson": str(new_course.lesson_ids[0]),
            "quiz_course": quiz_course,
        }


def test_every_answer_in_every_state_fits_the_document(app, client):
    campus = _campus(app)
    document = client.get("/api/v1/openapi.json").get_json()
    write, read = bearer(campus["write"]), bearer(campus["read"])
    answered: set[tuple[str, str]] = set()
    statuses: set[int] = set()
    failures: list[str] = []

    def call(method: str, path: str, url: str, headers: dict, **kwargs):
        response = client.open(url, method=method.upper(), headers=headers, **kwargs)
        statuses.add(response.status_code)
        if response.status_code < 300:
            answered.add((path, method))
        for problem in _problems(document, path, method, response):
            failures.append(f"{method.upper()} {url} ({response.status_code}): {problem}")
        return response

    attempt, attempts = (
        "/api/v1/courses/{slug}/quiz/attempt",
        "/api/v1/courses/{slug}/quiz/attempts",
    )
    quiz = "/api/v1/courses/quiz-course/quiz/attempt"
    for headers in (write, {}):
        call("get", "/api/v1/me", "/api/v1/me", headers)
        call("get", "/api/v1/me/licenses", "/api/v1/me/licenses", headers)
        call("get", "/api/v1/articles", "/api/v1/articles", headers)
        call("get", "/api/v1/articles", "/api/v1/articles?q=opening&per_page=1", headers)
        call("get", "/api/v1/articles", "/api/v1/articles?page=0", headers)
        for slug in ("open-article", "paid-article", "no-such-article"):
            call("get", "/api/v1/articles/{slug}", f"/api/v1/articles/{slug}", headers)
        call("get", "/api/v1/courses", "/api/v1/courses", headers)
        call("get", "/api/v1/courses", "/api/v1/courses?page=x", headers)
        for slug in ("done-course", "quiz-course", "new-course", "no-such-course"):
            call("get", "/api/v1/courses/{slug}", f"/api/v1/courses/{slug}", headers)
        call("get", "/api/v1/enrollments", "/api/v1/enrollments", headers)
        call("get", "/api/v1/certificates", "/api/v1/certificates", headers)
        for code in (campus["code"], campus["old_code"], "CE-NONE"):
            call("get", "/api/v1/certificates/{code}", f"/api/v1/certificates/{code}", headers)
        call("get", "/api/v1/programs", "/api/v1/programs", headers)
        call("get", "/api/v1/directory", "/api/v1/directory?zip=10001&per_page=1", headers)
        call("get", "/api/v1/directory", "/api/v1/directory?zip=00000", headers)
        call("post", "/api/v1/courses/{slug}/enroll", "/api/v1/courses/new-course/enroll", headers)
    # The writes' other answers: a read-only token, again, unknown, and the quiz's steps.
    lesson = "/api/v1/lessons/{lesson_id}/complete"
    call("post", "/api/v1/courses/{slug}/enroll", "/api/v1/courses/new-course/enroll", read)
    call("post", "/api/v1/courses/{slug}/enroll", "/api/v1/courses/new-course/enroll", write)
    call("post", lesson, f"/api/v1/lessons/{campus['lesson']}/complete", write)
    call("post", lesson, "/api/v1/lessons/2147483647/complete", write)
    call("get", attempt, quiz, write)  # none open yet: a 404
    opened = call("post", attempt, quiz, write).get_json()
    call("get", attempt, quiz, write)
    call("get", "/api/v1/courses/{slug}", "/api/v1/courses/quiz-course", write)
    answers = {**as_payload(answers_to(opened, campus["quiz_course"], right=False))}
    answers["attempt_id"] = opened["id"]
    submit = f"{quiz}s"
    call("post", attempts, submit, write, json={"answers": []})
    call("post", attempts, submit, write, data="answers", content_type="text/plain")
    call("post", attempts, submit, write, json=answers)
    call("post", attempts, submit, write, json=answers)  # sent again: its recorded result
    call("post", attempts, submit, write, json={**answers, "attempt_id": 2147483647})
    call("post", attempt, quiz, write)  # the day's one attempt is used: a 429
    documented = {
        (path, method)
        for path, operations in document["paths"].items()
        for method in operations
        if method != "parameters"
    }
    assert documented - answered == set(), "operations never answered with success"
    assert {200, 201, 401, 403, 404, 409, 410, 415, 422, 429} <= statuses, sorted(statuses)
    assert not failures, "\n".join(failures)


def test_a_nullable_object_in_an_answer_is_null_or_that_object_whole(client):
    # OpenAPI 3.0 writes a nullable object as anyOf [its schema, a nullable object]: an object
    # of any shape fitted the second branch, so a quiz without its title passed for a quiz.
    document = client.get("/api/v1/openapi.json").get_json()
    checked = []
    for name, schema in document["components"]["schemas"].items():
        for field, spec in schema.get("properties", {}).items():
            if "anyOf" not in spec:
                continue
            checked.append(f"{name}.{field}")
            validator = OAS30Validator(_resolved(spec, document))
            assert validator.is_valid(None), f"{name}.{field}"
            assert not validator.is_valid({}), f"{name}.{field}"
            assert not validator.is_valid({"any": "thing"}), f"{name}.{field}"
    assert {"CourseDetail.quiz", "CourseDetail.enrollment", "Program.progress"} <= set(checked)

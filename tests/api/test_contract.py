"""The OpenAPI document is valid, describes the real error body, and the server keeps to it.

The fuzz run drives schemathesis from the app's own document through the WSGI app (no
network), derandomized and bounded, anonymously and with a read-write token: it must find no
server error and no status, content type or body the document does not describe, and where the
document requires a token or session, a call without one must be refused.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from openapi_spec_validator import validate
from schemathesis.checks import (
    content_type_conformance,
    ignored_auth,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests import support
from tests.api.helpers import bearer, member_with_token
from tests.learning.helpers import complete_all_lessons, enroll_directly, make_course

CHECKS = [
    ignored_auth,  # where the document requires a token or session, a call without one is refused
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES_PER_OPERATION = 12


def _document(client) -> dict:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def test_the_openapi_document_is_valid(client):
    validate(_document(client))


@pytest.mark.parametrize(
    "site", ["https://learn.example.org/campus", "https://campus.example"], ids=["prefix", "root"]
)
def test_the_documents_paths_resolve_to_the_site_under_its_path_prefix(app, site):
    from urllib.parse import urljoin

    app.config["PUBLIC_BASE_URL"] = site
    response = app.test_client().get("/api/v1/openapi.json", base_url=site)
    document = response.get_json()
    # OpenAPI 3: with no servers the server is "/", resolved against the document's address.
    server = document.get("servers", [{"url": "/"}])[0]["url"]
    base = urljoin(f"{site}/api/v1/openapi.json", server).rstrip("/")
    assert "/api/v1/me" in document["paths"]
    assert base + "/api/v1/me" == f"{site}/api/v1/me"


def test_errors_are_documented_with_the_body_the_server_sends(client):
    document = _document(client)
    error = document["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    body = document["components"]["schemas"]["ErrorBody"]
    assert set(body["required"]) == {"code", "message"}
    assert "status" not in body["properties"] and "errors" not in body["properties"]
    operation = document["paths"]["/api/v1/courses/{slug}/quiz/attempts"]["post"]
    for status in ("400", "401", "403", "404", "409", "413", "422", "429"):
        assert status in operation["responses"], status
    reads = document["paths"]["/api/v1/me"]["get"]["responses"]
    assert {"400", "401", "429"} <= set(reads)
    assert not {"403", "413"} & set(reads)


def test_a_422_is_documented_only_where_a_query_or_body_is_validated(client):
    # A path value that fits no route is a 404 (a slug is any text, an id past the column or
    # not a number matches no route): nothing validates it, so no 422 can come of it.
    document = _document(client)
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            validated = bool(operation.get("parameters") or operation.get("requestBody"))
            assert ("422" in operation["responses"]) == validated, f"{method.upper()} {path}"
    assert "422" not in document["paths"]["/api/v1/courses/{slug}"]["get"]["responses"]
    lesson = document["paths"]["/api/v1/lessons/{lesson_id}/complete"]["post"]["responses"]
    assert "422" not in lesson and "404" in lesson


def test_a_path_value_that_fits_no_route_is_a_404_not_a_422(app, client):
    _user_id, raw = member_with_token(app, "write")
    for path in (
        "/api/v1/lessons/0/complete",
        "/api/v1/lessons/-1/complete",
        "/api/v1/lessons/abc/complete",
        f"/api/v1/lessons/{2**31}/complete",
        "/api/v1/courses/%20/enroll",
    ):
        response = client.post(path, headers=bearer(raw))
        assert response.status_code == 404, path
        assert response.get_json()["error"]["code"] == "not_found", path


def _readme_api_section() -> str:
    """The README's API section, from its heading to the next one."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = text[text.index("\n## API\n") :]
    return section[: section.index("\n## ", 1)]


def _readme_error_rows() -> dict[str, str]:
    """The README's table of API errors: each status with its code and when it comes."""
    rows = {}
    for line in _readme_api_section().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("| ") and cells[0].isdigit():
            rows[cells[0]] = " | ".join(cells[1:])
    return rows


def test_the_readme_lists_every_error_status_and_rule_code_the_api_answers(client):
    rows = _readme_error_rows()
    document = _document(client)
    answered = {
        status
        for operations in document["paths"].values()
        for method, operation in operations.items()
        if method != "parameters"
        for status in operation["responses"]
        if status.isdigit() and int(status) >= 400
    }
    assert answered - set(rows) == set()
    # The statuses the course rules and the certificates answer with codes of their own.
    for status, code in (
        ("404", "no_open_attempt"),
        ("410", "superseded"),
        ("422", "invalid_answers"),
        ("422", "unknown_attempt"),
        ("429", "attempt_limit"),
    ):
        assert code in rows[status], (status, code)


def test_the_readme_says_options_with_a_bad_token_gets_the_401_first(client):
    # Every /api/ request is authenticated before anything else, OPTIONS too: the README must
    # not promise a 204 that a script with an expired token never gets.
    refused = client.options("/api/v1/me", headers={"Authorization": "Bearer campus_unknown"})
    assert refused.status_code == 401
    section = " ".join(_readme_api_section().split())
    start = section.index("OPTIONS answers 204")
    sentence = section[start : section.index(". ", start)]
    assert "401" in sentence, sentence


def test_the_readme_names_only_the_rate_limits_the_api_has(client):
    # The API has the token's limit and the quiz's daily attempts, no limit of an endpoint's own.
    row = _readme_error_rows()["429"]
    assert "endpoint" not in row, row
    assert "token" in row and "attempt_limit" in row
    document = _document(client)
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method == "parameters" or "429" not in operation["responses"]:
                continue
            description = operation["responses"]["429"]["description"]
            assert "endpoint" not in description, f"{method.upper()} {path}: {description}"


def test_every_id_in_a_path_is_declared_from_1_as_ids_start(client):
    # Werkzeug's int converter allows 0, which no row has: the document should not offer it.
    declared = 0
    for path, operations in _document(client)["paths"].items():
        parameters = list(operations.get("parameters", []))
        for method, operation in operations.items():
            if method != "parameters":
                parameters += operation.get("parameters", [])
        for parameter in parameters:
            schema = parameter.get("schema", {})
            if parameter.get("in") == "path" and schema.get("type") == "integer":
                declared += 1
                assert schema.get("minimum") == 1, f"{path} {parameter['name']}: {schema}"
    assert declared  # /api/v1/lessons/{lesson_id}/complete at least


def test_a_lesson_completed_too_soon_answers_a_409_the_document_lists(_database):
    app = support.make_app(SEAT_TIME_SCALE=1.0)  # the testing default lets no time be needed
    try:
        user_id, raw = member_with_token(app, "write")
        with app.app_context():
            course = make_course("timed-course", lessons=2, ce_hours="1")
            enroll_directly(user_id, course.id)
        client = app.test_client()
        lesson = f"/api/v1/lessons/{course.lesson_ids[0]}/complete"
        response = client.post(lesson, headers=bearer(raw))
        assert response.status_code == 409
        assert response.get_json()["error"]["code"] == "needs_more_time"
        operation = _document(client)["paths"]["/api/v1/lessons/{lesson_id}/complete"]["post"]
        assert "409" in operation["responses"]
    finally:
        support.clean_database(app)


def test_a_quiz_opened_too_soon_answers_a_409_the_document_names(_database):
    app = support.make_app(SEAT_TIME_SCALE=1.0)  # the testing default lets no time be needed
    try:
        user_id, raw = member_with_token(app, "write")
        with app.app_context():
            course = make_course("timed-quiz", lessons=2, ce_hours="1")
            enroll_directly(user_id, course.id)
            complete_all_lessons(user_id, course)  # recorded, with no study time behind them
        client = app.test_client()
        response = client.post(f"/api/v1/courses/{course.slug}/quiz/attempt", headers=bearer(raw))
        assert response.status_code == 409
        assert response.get_json()["error"]["code"] == "needs_more_time"
        responses = _document(client)["paths"]["/api/v1/courses/{slug}/quiz/attempt"]["post"][
            "responses"
        ]
        assert "needs_more_time" in responses["409"]["description"]
        assert "read-only token" in responses["403"]["description"]
    finally:
        support.clean_database(app)


def test_an_admin_enrolling_in_a_draft_gets_the_409_the_document_names(app, client):
    # An admin (second factor passed) sees drafts, so the enrollment reaches the rule that
    # refuses a draft: a 409 the document has to name beside "already enrolled".
    with app.app_context():
        admin_id = support.create_user(email="admin@example.com", role="admin").id
        support.enable_totp(admin_id)
        make_course("draft-course", published=False)
        support.sign_in_directly(client, admin_id, second_factor=True)
    token = support.csrf_token(client, "/account/security")
    response = client.post("/api/v1/courses/draft-course/enroll", headers={"X-CSRFToken": token})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "not_published"
    responses = _document(client)["paths"]["/api/v1/courses/{slug}/enroll"]["post"]["responses"]
    assert "not_published" in responses["409"]["description"]
    assert "already_enrolled" in responses["409"]["description"]


def test_the_document_declares_the_bearer_token_and_the_session(client):
    document = _document(client)
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {**schemes["bearerAuth"], "type": "http", "scheme": "bearer"}
    assert {"bearerAuth": []} in document["security"]


def _anonymous_call(client, path: str, method: str):
    """Call an operation with no credentials and made-up path values."""
    url = path.replace("{slug}", "any").replace("{code}", "any").replace("{lesson_id}", "1")
    if path.endswith("/directory"):
        url += "?zip=10001"
    return client.open(url, method=method.upper(), json={} if method == "post" else None)


def test_operations_that_refuse_anonymous_callers_do_not_declare_anonymous_access(client):
    document = _document(client)
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            security = operation.get("security", document["security"])
            anonymous_allowed = {} in security
            refused = _anonymous_call(client, path, method).status_code == 401
            assert anonymous_allowed != refused, f"{method.upper()} {path}"


def _passes(operation) -> list[tuple[schemathesis.GenerationMode, dict[str, str]]]:
    """Positive and negative inputs, and positive ones on the seeded course where a slug goes."""
    passes = [
        (schemathesis.GenerationMode.POSITIVE, {}),
        (schemathesis.GenerationMode.NEGATIVE, {}),
    ]
    if "{slug}" in operation.path:
        passes.append((schemathesis.GenerationMode.POSITIVE, {"slug": "fuzz-course"}))
    return passes


def _fuzz(app, headers: dict[str, str], statuses: list[int] | None = None) -> list[str]:
    """Run every operation of the document against the app; return the failures."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode, path_parameters in _passes(operation):
            strategy = operation.as_strategy(
                generation_mode=mode, path_parameters=path_parameters or None
            )

            @settings(
                max_examples=EXAMPLES_PER_OPERATION,
                derandomize=True,
                deadline=None,
                database=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=strategy)
            def run(case) -> None:
                response = case.call(headers=headers)
                if statuses is not None:
                    statuses.append(response.status_code)
                case.validate_response(response, checks=CHECKS, headers=headers)

            try:
                run()
            except Unsatisfiable:
                continue  # no input to make invalid (e.g. GET /me in negative mode)
            except Exception as exc:  # one report per operation and pass, then go on
                where = f"{operation.method.upper()} {operation.path} ({mode.value})"
                failures.append(f"{where} {path_parameters or ''}: {exc}")
    return failures


@pytest.fixture
def fuzz_app(_database):
    """An app whose token limit the fuzz run cannot reach, with a course and a token."""
    app = support.make_app(API_TOKEN_RATE_LIMIT="100000 per hour")
    _user_id, raw = member_with_token(app, "write")
    with app.app_context():
        make_course("fuzz-course")
    app.config["FUZZ_TOKEN"] = raw
    yield app
    support.clean_database(app)


def test_fuzzing_the_api_anonymously_finds_nothing_undocumented(fuzz_app):
    failures = _fuzz(fuzz_app, {})
    assert not failures, "\n\n".join(failures)


def test_fuzzing_the_api_with_a_token_finds_nothing_undocumented(fuzz_app):
    statuses: list[int] = []
    failures = _fuzz(fuzz_app, bearer(fuzz_app.config["FUZZ_TOKEN"]), statuses)
    assert not failures, "\n\n".join(failures)
    assert 429 not in statuses  # the run exercised the endpoints, not the rate limit
    assert statuses.count(401) < len(statuses) // 2  # and was signed in
    assert 201 in statuses  # and wrote (an enrollment in the seeded course)


def test_the_docs_page_names_every_status_and_the_token(client):
    page = client.get("/api/v1/docs").get_data(as_text=True)
    assert "Authorization: Bearer" in page
    assert "The JSON body is too large" in page
    assert "Any other error, as a JSON error body" in page


def test_the_docs_page_names_the_path_parameters_and_the_body_fields(client):
    page = client.get("/api/v1/docs").get_data(as_text=True)
    start = page.index("<code>/api/v1/courses/{slug}/quiz/attempts</code>")
    section = page[start : page.index("</section>", start)]
    assert "<td><code>slug</code></td><td>path</td>" in section
    assert "<td><code>answers</code></td>" in section
    lesson = page.index("<code>/api/v1/lessons/{lesson_id}/complete</code>")
    assert "<td><code>lesson_id</code></td>" in page[lesson : page.index("</section>", lesson)]


# What an answer carries only sometimes; every other field of every answer is always there.
SOMETIMES = {
    ("Quiz", "questions"),  # only to a reader who may study the course
    ("Question", "correct_choice_ids"),  # only after a pass
    ("Question", "explanation"),
    ("AttemptOut", "results"),  # only on a pass
    ("AttemptOut", "revisit"),  # only on a fail
    ("ErrorBody", "details"),  # only for a validation's per-field messages
}


def _answer_schemas(document: dict) -> set[str]:
    """The component schemas the answers of the document's operations use, nested ones too."""
    found: set[str] = set()

    def visit(node) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/components/schemas/"):
                name = ref.rsplit("/", 1)[1]
                if name not in found:
                    found.add(name)
                    visit(document["components"]["schemas"][name])
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    for operations in document["paths"].values():
        for method, operation in operations.items():
            if method != "parameters":
                visit(operation["responses"])
    return found


def test_every_field_an_answer_always_carries_is_declared_required(client):
    # A client generated from the document makes an optional field nullable or absent in its
    # types, and no check would notice an answer that stopped sending one.
    document = _document(client)
    schemas = document["components"]["schemas"]
    names = _answer_schemas(document)
    assert {"Me", "Certificate", "DirectoryPage", "Question"} <= names
    for name in sorted(names):
        schema = schemas[name]
        expected = {p for p in schema.get("properties", {}) if (name, p) not in SOMETIMES}
        assert set(schema.get("required", [])) == expected, name

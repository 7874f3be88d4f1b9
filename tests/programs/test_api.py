"""GET /api/v1/programs: requirements for anyone, progress for the signed-in member."""

from __future__ import annotations

from tests import support
from tests.api.helpers import bearer, make_token
from tests.programs.helpers import complete, ready_program


def test_anyone_lists_programs_with_their_requirements(app, client):
    with app.app_context():
        program, courses = ready_program(slug="listed", renewal_hours=12)
        ready_program(slug="draft", published=False)
        required = sorted(c.slug for c in courses)
        assert program
    response = client.get("/api/v1/programs")
    assert response.status_code == 200
    [item] = response.json["programs"]
    assert item["slug"] == "listed" and item["progress"] is None
    assert sorted(c["slug"] for c in item["required_courses"]) == required
    assert item["exam"]["domain_weights"] == {"Anatomy": 1, "Technique": 1}
    assert item["renewal_hours"] == 12.0
    assert "not an accredited certification" in item["standing"]


def test_a_token_holder_sees_their_progress(app, client):
    with app.app_context():
        _program, courses = ready_program(slug="mine")
        user = support.create_user()
        complete(user.id, courses[0])
        raw = make_token(user.id)
        done = courses[0].slug
    response = client.get("/api/v1/programs", headers=bearer(raw))
    progress = response.json["programs"][0]["progress"]
    assert progress["courses_done"] == [done]
    assert progress["status"] == "in progress" and progress["exam_passed"] is False


def test_the_openapi_document_describes_programs(client):
    document = client.get("/api/v1/openapi.json").json
    operation = document["paths"]["/api/v1/programs"]["get"]
    assert "200" in operation["responses"]
    assert "Program" in document["components"]["schemas"]

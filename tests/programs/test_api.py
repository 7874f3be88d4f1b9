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


def test_a_course_closed_after_publishing_is_named_but_not_linked(app, client):
    from campus.extensions import db

    with app.app_context():
        _program, courses = ready_program(slug="closing")
        closed, still_open = courses[0], courses[1]
        closed.status = "draft"  # its approval lapsed, and the admin closed it
        db.session.commit()
        closed_slug, closed_title, open_slug = closed.slug, closed.title, still_open.slug
    page = client.get("/programs/closing").get_data(as_text=True)
    assert f"/courses/{closed_slug}" not in page  # its page is gone: no link to a 404
    assert closed_title in page and "not offered at the moment" in page
    assert f"/courses/{open_slug}" in page
    listed = client.get("/api/v1/programs").json["programs"][0]["required_courses"]
    offered = {c["slug"]: c["offered"] for c in listed}
    assert offered == {closed_slug: False, open_slug: True}


def _progress_after_one_failed_sitting(app, client, slug: str, attempts: int) -> dict:
    """The API's progress of a candidate who failed one sitting of an exam with a 7-day wait."""
    from datetime import UTC, datetime

    import time_machine

    from campus.extensions import db
    from campus.programs import actions
    from tests.programs.helpers import candidate

    start = datetime(2026, 6, 1, 13, 0, tzinfo=UTC)
    with app.app_context(), time_machine.travel(start, tick=False):
        program, courses = ready_program(
            slug=slug, exam_attempts_allowed=attempts, exam_retake_wait_days=7
        )
        user = candidate(courses)
        sitting = actions.start_exam(user, program)
        actions.submit_exam(user, sitting, {})
        db.session.commit()
        raw = make_token(user.id)
    with time_machine.travel(start, tick=False):
        return client.get("/api/v1/programs", headers=bearer(raw)).json["programs"][0]["progress"]


def test_a_candidate_app_is_told_the_attempts_left_and_when_the_next_opens(app, client):
    progress = _progress_after_one_failed_sitting(app, client, "retake", attempts=3)
    # Only the attempts used were given: neither how many are left after a lapse restarted
    # the count, nor when the retake wait ends, so an app could not say what comes next.
    assert progress["exam_attempts_used"] == 1
    assert progress["exam_attempts_left"] == 2
    assert progress["exam_next_attempt_at"] == "2026-06-08T13:00:00+00:00"


def test_no_next_attempt_is_announced_after_the_last_one(app, client):
    progress = _progress_after_one_failed_sitting(app, client, "last", attempts=1)
    assert progress["exam_attempts_left"] == 0
    assert progress["exam_next_attempt_at"] is None

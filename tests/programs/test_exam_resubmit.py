"""An exam submission sent again (a double click, a lost answer) shows its result, once."""

from __future__ import annotations

from sqlalchemy import select

from campus.extensions import db
from campus.programs.models import ExamSitting
from tests import support
from tests.admin.helpers import audit_entries
from tests.learning.test_concurrency import _race
from tests.programs.helpers import candidate, ready_program, right_answers


def _started(app, client) -> tuple[str, dict[int, int]]:
    with app.app_context():
        program, courses = ready_program()
        user = candidate(courses)
        support.sign_in_directly(client, user.id)
        slug = program.slug
    started = support.post_form(client, f"/programs/{slug}/exam", {})
    assert started.status_code == 302
    with app.app_context():
        key = right_answers(db.session.scalar(select(ExamSitting)))
    return started.headers["Location"], key


def test_a_double_click_on_submit_shows_the_result_without_an_error(app, client):
    sitting_url, key = _started(app, client)
    answers = {f"q-{q}": str(c) for q, c in key.items()}
    assert support.post_form(client, f"{sitting_url}/submit", answers).status_code == 302
    # The second click reaches the server after the first closed the sitting.
    again = support.post_form(client, f"{sitting_url}/submit", answers, follow_redirects=True)
    assert again.status_code == 200
    assert "You passed the exam" in again.text
    assert "This sitting is closed" not in again.text
    assert len(audit_entries(app, action="program_exam_submit")) == 1


def test_other_answers_after_the_submission_are_still_refused(app, client):
    sitting_url, key = _started(app, client)
    answers = {f"q-{q}": str(c) for q, c in key.items()}
    support.post_form(client, f"{sitting_url}/submit", answers)
    first = next(iter(key))
    changed = {**answers, f"q-{first}": str(key[first] % 4 + 1)}
    again = support.post_form(client, f"{sitting_url}/submit", changed, follow_redirects=True)
    assert "This sitting is closed" in again.text
    with app.app_context():
        assert db.session.scalar(select(ExamSitting)).answers[str(first)] == key[first]
    assert len(audit_entries(app, action="program_exam_submit")) == 1


def test_an_empty_or_partial_post_after_the_submission_is_refused(app, client):
    sitting_url, key = _started(app, client)
    answers = {f"q-{q}": str(c) for q, c in key.items()}
    support.post_form(client, f"{sitting_url}/submit", answers)
    first = next(iter(answers))
    for sheet in ({}, {first: answers[first]}):
        again = support.post_form(client, f"{sitting_url}/submit", sheet, follow_redirects=True)
        assert "This sitting is closed" in again.text
    assert len(audit_entries(app, action="program_exam_submit")) == 1


def test_two_submissions_of_a_sitting_at_once_score_it_once(app, client):
    from campus.accounts.models import User
    from campus.programs import actions

    _started(app, client)
    with app.app_context():
        sitting = db.session.scalar(select(ExamSitting))
        sitting_id, user_id, key = sitting.id, sitting.user_id, right_answers(sitting)

    def submit() -> None:
        actions.submit_exam(
            db.session.get_one(User, user_id), db.session.get_one(ExamSitting, sitting_id), key
        )

    results, errors = _race(app, 2, submit)
    assert errors == [] and len(results) == 2
    assert len(audit_entries(app, action="program_exam_submit")) == 1

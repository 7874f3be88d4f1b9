"""Exam attempts are numbered within the period they count in, as their count is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import select

from campus.extensions import db
from campus.programs import actions
from campus.programs.models import ExamSitting
from tests import support
from tests.programs.helpers import candidate, ready_program, right_answers

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
LAPSED = datetime(2028, 6, 1, 10, 0, tzinfo=UTC)


def test_the_first_attempt_after_a_lapse_is_attempt_1_on_every_page(app, client):
    with app.app_context():
        program, courses = ready_program(validity_months=24, exam_attempts_allowed=3)
        user = candidate(courses, when=START - timedelta(days=10))
        with time_machine.travel(START, tick=False):
            failed = actions.start_exam(user, program)
            actions.submit_exam(user, failed, {})
            db.session.commit()
        with time_machine.travel(START + timedelta(days=30), tick=False):
            sitting = actions.start_exam(user, program)
            actions.submit_exam(user, sitting, right_answers(sitting))
            db.session.commit()
        slug, user_id = program.slug, user.id
    with time_machine.travel(LAPSED, tick=False):
        with app.app_context():
            support.sign_in_directly(client, user_id)
        started = support.post_form(client, f"/programs/{slug}/exam", {})
        sitting_url = started.headers["Location"]
        assert "Attempt 1</span>" in client.get(sitting_url).text
        support.post_form(client, f"{sitting_url}/submit", {})
        with app.app_context():
            numbers = list(db.session.scalars(select(ExamSitting.number)))
            assert sorted(numbers) == [1, 2, 3]  # stored numbers stay unique
        result = client.get(sitting_url).text
        assert "Attempt 1</span>" in result and "2 attempts left" in result
        page = client.get(f"/programs/{slug}").text
        assert "Attempt 1: <strong>0%" in page and "Attempt 3" not in page

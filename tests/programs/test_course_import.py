"""A course import cannot take a course out of the catalog that a published program needs."""

from __future__ import annotations

import yaml
from sqlalchemy import select

from campus.extensions import db
from campus.learning.models import Course
from tests.learning.test_import import COURSE, run_import, write_course
from tests.programs.helpers import add_questions, make_program


def test_an_import_saying_draft_keeps_a_course_a_published_program_requires(app, tmp_path):
    root = write_course(tmp_path)
    assert run_import(app, tmp_path).exit_code == 0
    with app.app_context():
        course = db.session.scalar(select(Course).where(Course.slug == "scalenes"))
        assert course.status == "published"
        program = make_program(courses=[course], title="Neck program")
        add_questions(program, "Anatomy", 2)
        add_questions(program, "Technique", 2)

    # As the admin's Draft is refused: its candidates could never complete the program.
    (root / "course.yaml").write_text(yaml.safe_dump({**COURSE, "status": "draft"}))
    result = run_import(app, tmp_path)
    assert result.exit_code == 1
    assert "Neck program" in result.output
    with app.app_context():
        assert db.session.scalar(select(Course.status).where(Course.slug == "scalenes")) == (
            "published"
        )

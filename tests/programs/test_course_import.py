"""A course import cannot take a course out of the catalog that a published program needs."""

from __future__ import annotations

from datetime import date

import yaml
from sqlalchemy import select

from campus.extensions import db
from campus.learning.models import BoardApproval, Course
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


def _published_in_a_program(app, tmp_path):
    """Import the course, published, and make it a required course of a published program."""
    root = write_course(tmp_path)
    assert run_import(app, tmp_path).exit_code == 0
    with app.app_context():
        course = db.session.scalar(select(Course).where(Course.slug == "scalenes"))
        make_program(courses=[course], title="Neck program")
    return root


def _approval(app) -> BoardApproval:
    with app.app_context():
        approval = db.session.scalars(select(BoardApproval)).one()
        db.session.expunge(approval)
        return approval


def test_an_import_closing_a_course_of_a_program_says_the_program_cannot_be_completed(
    app, tmp_path
):
    root = _published_in_a_program(app, tmp_path)
    with app.app_context():
        # The board's approval starts later than the admin first thought: none in force today.
        db.session.scalars(select(BoardApproval)).one().valid_from = date(2099, 1, 1)
        db.session.commit()
    # The file is silent on the first day, so the admin's stays; the course must close.
    (root / "course.yaml").write_text(yaml.safe_dump({**COURSE, "status": "draft"}))
    result = run_import(app, tmp_path)
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(Course.status).where(Course.slug == "scalenes")) == (
            "draft"
        )
    # As the admin's flash: the operator learns the program can no longer be completed.
    lines = result.output.splitlines()
    updated = next(i for i, line in enumerate(lines) if line.startswith("updated"))
    assert "scalenes" in lines[updated]
    assert "Neck program" in lines[updated + 1], result.output
    assert "1 warning" in result.output

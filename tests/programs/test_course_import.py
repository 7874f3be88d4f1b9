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


def test_an_import_cannot_take_the_approval_of_a_course_a_program_needs_out_of_force(app, tmp_path):
    root = _published_in_a_program(app, tmp_path)
    # The admin refuses the Draft while an approval is in force; moving the approval's first
    # day past today in the same file must not turn that refusal into a warning.
    later = {**COURSE["approvals"][0], "valid_from": "2099-01-01"}
    (root / "course.yaml").write_text(
        yaml.safe_dump({**COURSE, "status": "draft", "approvals": [later]})
    )
    result = run_import(app, tmp_path)
    assert result.exit_code == 1, result.output
    assert "FAILED" in result.output and "Neck program" in result.output
    with app.app_context():
        assert db.session.scalar(select(Course.status).where(Course.slug == "scalenes")) == (
            "published"
        )
    assert _approval(app).valid_from is None


def test_an_import_cannot_leave_a_published_course_without_an_approval_in_force(app, tmp_path):
    root = write_course(tmp_path)
    assert run_import(app, tmp_path).exit_code == 0
    later = {**COURSE["approvals"][0], "valid_from": "2099-01-01"}
    (root / "course.yaml").write_text(yaml.safe_dump({**COURSE, "approvals": [later]}))
    result = run_import(app, tmp_path)
    # As the admin's approval form: the message names the folder and the approval.
    assert result.exit_code == 1, result.output
    assert "FAILED     scalenes" in result.output and "AP-1" in result.output, result.output
    assert _approval(app).valid_from is None


def test_an_import_cannot_swap_a_published_courses_approval_for_one_not_yet_in_force(app, tmp_path):
    root = write_course(tmp_path)
    assert run_import(app, tmp_path).exit_code == 0
    renewal = {"board": "NCBTMB", "approval_number": "AP-2", "valid_from": "2099-01-01"}
    (root / "course.yaml").write_text(yaml.safe_dump({**COURSE, "approvals": [renewal]}))
    result = run_import(app, tmp_path)
    # As the admin's delete of the approval in force: refused, naming it.
    assert result.exit_code == 1 and "AP-1" in result.output, result.output
    assert _approval(app).approval_number == "AP-1"
    # Beside one in force, the other may go.
    (root / "course.yaml").write_text(
        yaml.safe_dump({**COURSE, "approvals": [{**renewal, "valid_from": None}]})
    )
    assert run_import(app, tmp_path).exit_code == 0
    assert _approval(app).approval_number == "AP-2"


def test_a_course_no_program_needs_can_close_and_move_its_approval_in_one_file(app, tmp_path):
    root = write_course(tmp_path)
    assert run_import(app, tmp_path).exit_code == 0
    # As the admin's Draft and then its approval edit: allowed, the course being a draft.
    later = {**COURSE["approvals"][0], "valid_from": "2099-01-01"}
    (root / "course.yaml").write_text(
        yaml.safe_dump({**COURSE, "status": "draft", "approvals": [later]})
    )
    result = run_import(app, tmp_path)
    assert result.exit_code == 0, result.output
    assert str(_approval(app).valid_from) == "2099-01-01"

"""What a course import changed below the course (lessons, quiz) is in its audit entry."""

from __future__ import annotations

import copy

import yaml
from sqlalchemy import select

from campus.audit import AuditEntry
from campus.extensions import db
from tests.learning.test_import import COURSE, QUIZ, run_import, write_course


def _update_entry(app) -> AuditEntry:
    with app.app_context():
        [entry] = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "learning.course_updated")
        ).all()
        db.session.expunge(entry)
        return entry


def test_an_import_that_changes_a_lessons_study_time_logs_it_before_and_after(app, tmp_path):
    root = write_course(tmp_path)
    assert run_import(app, tmp_path).exit_code == 0
    # The expected study time supports the course's CE hours: an auditor checks its history.
    (root / "lessons" / "01-find.md").write_text(
        "---\ntitle: Finding the scalenes\nminutes: 20\n---\n\nWords.\n"
    )
    assert run_import(app, tmp_path).exit_code == 0
    entry = _update_entry(app)
    before = entry.before["modules"][0]["lessons"][0]
    after = entry.after["modules"][0]["lessons"][0]
    assert (before["estimated_minutes"], after["estimated_minutes"]) == (15, 20)
    assert "modules" in entry.summary


def test_an_import_that_changes_the_quiz_logs_its_pass_mark_and_answers(app, tmp_path):
    write_course(tmp_path)
    assert run_import(app, tmp_path).exit_code == 0
    quiz = copy.deepcopy(QUIZ)
    quiz["pass_mark_percent"] = 60
    quiz["questions"][0]["choices"] = [
        {"text": "The arm and hand"},
        {"text": "The knee", "correct": True},
    ]
    write_course(tmp_path, quiz=quiz)
    assert run_import(app, tmp_path).exit_code == 0
    entry = _update_entry(app)
    assert (
        entry.before["quiz"]["pass_mark_percent"],
        entry.after["quiz"]["pass_mark_percent"],
    ) == (
        75,
        60,
    )

    def correct(state: dict) -> list[str]:
        question = state["quiz"]["questions"][0]
        return [choice["text"] for choice in question["choices"] if choice["is_correct"]]

    assert correct(entry.before) == ["The arm and hand"] and correct(entry.after) == ["The knee"]


def test_an_import_that_changes_only_the_course_keeps_its_entry_short(app, tmp_path):
    root = write_course(tmp_path)
    assert run_import(app, tmp_path).exit_code == 0
    (root / "course.yaml").write_text(
        yaml.safe_dump({**COURSE, "summary": "Changed summary"}, sort_keys=False)
    )
    assert run_import(app, tmp_path).exit_code == 0
    entry = _update_entry(app)
    assert entry.after["summary"] == "Changed summary"
    assert "modules" not in entry.after and "quiz" not in entry.after

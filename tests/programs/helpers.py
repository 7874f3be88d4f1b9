"""Factories for programs, their exam bank and credentials."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

from campus.extensions import db
from campus.models.base import utcnow
from campus.programs import codes
from campus.programs.models import Credential, ExamQuestion, Program, ProgramCourse

# Unique within a run: a timestamp and id() repeat when two programs are made in one second.
_SLUGS = itertools.count(1)


def make_program(courses=(), electives=(), **fields: Any) -> Program:
    """Insert and commit a published program with the given required and elective courses."""
    program = Program(
        slug=fields.pop("slug", f"program-{next(_SLUGS)}"),
        title=fields.pop("title", "Certified Trigger Point Therapist"),
        description=fields.pop("description", "A program."),
        professions=fields.pop("professions", ["massage_therapist", "physical_therapist"]),
        license_required=fields.pop("license_required", False),
        published=fields.pop("published", True),
        exam_domain_weights=fields.pop("exam_domain_weights", {"Anatomy": 1, "Technique": 1}),
        exam_question_count=fields.pop("exam_question_count", 4),
        **fields,
    )
    for position, course in enumerate(courses):
        program.courses.append(ProgramCourse(course=course, kind="required", position=position))
    for position, course in enumerate(electives, start=len(program.courses)):
        program.courses.append(ProgramCourse(course=course, kind="elective", position=position))
    db.session.add(program)
    db.session.commit()
    return program


def add_questions(program: Program, domain: str, count: int, choices: int = 4) -> list[int]:
    """Add `count` questions to a domain of the bank (the first choice is right); their ids."""
    made = []
    for n in range(count):
        question = ExamQuestion(
            program=program,
            domain=domain,
            prompt=f"{domain} question {n + 1}?",
            choices=[
                {"id": i + 1, "text": f"Answer {i + 1}", "correct": i == 0} for i in range(choices)
            ],
        )
        db.session.add(question)
        made.append(question)
    db.session.commit()
    return [q.id for q in made]


def make_credential(user_id: int, program: Program, **fields: Any) -> Credential:
    """Insert and commit an issued credential valid for two years from today."""
    today = utcnow().date()
    credential = Credential(
        code=codes.new_code(),
        user_id=user_id,
        program_id=program.id,
        status=fields.pop("status", "issued"),
        earned_at=fields.pop("earned_at", utcnow()),
        valid_from=fields.pop("valid_from", today),
        valid_until=fields.pop("valid_until", today + timedelta(days=730)),
        issued_at=utcnow(),
        data={"holder_name": "Test", "program_title": program.title},
        **fields,
    )
    db.session.add(credential)
    db.session.commit()
    return credential


def make_course(slug: str, hours: str = "2"):
    """Insert and commit a published course (no lessons needed: completion is set directly)."""
    from decimal import Decimal

    from campus.learning import services

    course = services.create_course(
        slug=slug,
        title=f"Course {slug}",
        summary="A course",
        ce_hours=Decimal(hours),
        topic="Shoulder",
        status="published",
    )
    db.session.commit()
    return course


def complete(user_id: int, course, when=None) -> None:
    """Record a completed enrollment of the user in the course (inside an app context)."""
    from campus.learning.models import Enrollment

    db.session.add(
        Enrollment(
            user_id=user_id,
            course_id=course.id,
            completed_at=when or utcnow(),
            ce_hours_earned=course.ce_hours,
            status="completed",
        )
    )
    db.session.commit()


def candidate(courses, when=None):
    """Insert and commit a member who completed every one of these courses (at `when`)."""
    from tests import support

    user = support.create_user()
    for course in courses:
        complete(user.id, course, when=when)
    return user


_PROGRAM_NUMBERS = itertools.count(1)


def ready_program(**fields: Any):
    """A program with two required courses and a bank of 6 Anatomy and 6 Technique questions."""
    # A number of its own: id(fields) was reused once a test's earlier dict was freed, and the
    # second program's courses then collided with the first's slugs.
    number = next(_PROGRAM_NUMBERS)
    courses = [make_course(f"req-{number}-{n}") for n in range(2)]
    program = make_program(courses=courses, **fields)
    add_questions(program, "Anatomy", 6)
    add_questions(program, "Technique", 6)
    return program, courses


def right_answers(sitting) -> dict[int, int]:
    """The key of a frozen sitting: question id -> the right choice id."""
    return {
        item["id"]: next(c["id"] for c in item["choices"] if c["correct"])
        for item in sitting.layout
    }


def assert_file_refused(app, tmp_path, text: str, refusal: str) -> None:
    """Import a program file of `text` (after a slug and title): refused, and nothing stored."""
    import pytest
    from sqlalchemy import select

    from campus.programs.importer import ProgramFileError, import_file

    path = tmp_path / "p.yaml"
    path.write_text("slug: x\ntitle: X\n" + text)
    with app.app_context():
        with pytest.raises(ProgramFileError, match=refusal):
            import_file(path)
        db.session.rollback()
        assert db.session.scalar(select(Program)) is None

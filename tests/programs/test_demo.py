"""The demo program: a data file through the importer admins use, seeded once."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from campus.extensions import db
from campus.learning import demo as learning_demo
from campus.programs import demo, exam
from campus.programs.importer import ProgramFileError, import_file
from campus.programs.models import Program
from tests.programs.helpers import assert_file_refused


def test_the_demo_program_is_built_from_the_demo_courses(app):
    with app.app_context():
        learning_demo.seed()
        assert len(demo.seed()) == 1
        db.session.commit()
        assert demo.seed() == []
        program = db.session.scalar(select(Program))
        assert {c.slug for c in program.required_courses} == {
            learning_demo.HIP_SLUG,
            learning_demo.NECK_SLUG,
        }
        domains = {q.domain for q in program.questions}
        assert len(domains) >= 2
        assert exam.bank_shortfall(program) == []
        assert len(program.questions) >= 2 * program.exam_question_count
        assert program.practical_required and len(program.criteria) >= 3
        assert program.accrediting_body is None


def test_a_program_naming_an_unknown_course_is_refused(app, tmp_path: Path):
    assert_file_refused(app, tmp_path, "required_courses: [no-such-course]\n", "no-such-course")


def test_a_question_without_one_right_answer_is_refused(app, tmp_path: Path):
    path = tmp_path / "p.yaml"
    path.write_text(
        "slug: x\ntitle: X\nquestions:\n  - domain: A\n    prompt: Q?\n    answers: [a, b]\n"
    )
    with app.app_context(), pytest.raises(ProgramFileError, match="exactly one"):
        import_file(path)


def test_a_program_import_logs_what_it_changed_as_an_operator(app, tmp_path: Path):
    from campus.audit import AuditEntry

    path = tmp_path / "p.yaml"
    path.write_text("slug: x\ntitle: X\npublished: false\nexam:\n  pass_mark: 75\n")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["programs", "import", str(path)]).exit_code == 0
    path.write_text("slug: x\ntitle: X\npublished: false\nexam:\n  pass_mark: 50\n")
    assert runner.invoke(args=["programs", "import", str(path)]).exit_code == 0
    with app.app_context():
        created, updated = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        assert created.summary.startswith("cli: ") and updated.summary.startswith("cli: ")
        assert created.actor_id is None and created.after["exam_pass_mark"] == 75
        # The pass mark a candidate is held to went down: the log says from what.
        assert (updated.before["exam_pass_mark"], updated.after["exam_pass_mark"]) == (75, 50)


def test_a_program_file_that_is_not_utf8_is_refused_with_a_message(app, tmp_path: Path):
    path = tmp_path / "p.yaml"
    path.write_bytes("slug: x\ntitle: Thérapie\n".encode("latin-1"))
    result = app.test_cli_runner().invoke(args=["programs", "import", str(path)])
    assert result.exit_code == 1 and not isinstance(result.exception, UnicodeDecodeError)
    assert "p.yaml is not UTF-8 text" in result.output
    with app.app_context():
        assert db.session.scalar(select(Program)) is None


@pytest.mark.parametrize(
    ("text", "refusal"),
    [
        ("practical:\n  techniques: [Pin and stretch]\n", "rubric"),
        ("practical:\n  rubric: [Safe pressure]\n", "techniques to film"),
        (
            "exam:\n  weights: {Anatomy: 1}\n  questions: 2\nquestions:\n"
            "  - domain: Anatomy\n    prompt: Q?\n    answers: ['*a', b]\n",
            "Anatomy: 1 question short",
        ),
    ],
)
def test_an_imported_program_follows_the_rules_the_admin_keeps(
    app, tmp_path: Path, text: str, refusal: str
):
    # The command line is an entry point like the admin: a program no candidate could take
    # (nothing to film or mark, an exam its bank cannot fill) is refused there too.
    assert_file_refused(app, tmp_path, text, refusal)


def test_a_draft_program_whose_bank_is_short_still_imports(app, tmp_path: Path):
    path = tmp_path / "p.yaml"
    path.write_text("slug: x\ntitle: X\npublished: false\nexam:\n  weights: {Anatomy: 1}\n")
    with app.app_context():
        program, outcome = import_file(path)
        assert outcome == "created" and not program.published


_BANK = "questions:\n" + "".join(
    f"  - domain: {domain}\n    prompt: {domain} {n}?\n    answers: ['*a', b]\n"
    for domain in ("Anatomy", "Technique")
    for n in range(4)
)


@pytest.mark.parametrize(
    ("weights", "refusal"),
    [
        # Read as whole numbers, 0.6 and 0.4 were both 0: an exam of no questions, failed by all.
        ("{Anatomy: 0.6, Technique: 0.4}", "Anatomy"),
        # And 1.5 against 0.5 drew every question from Anatomy.
        ("{Anatomy: 1.5, Technique: 0.5}", "Anatomy"),
        ("{Anatomy: 0, Technique: 1}", "Anatomy"),
        ("{Anatomy: -1, Technique: 2}", "Anatomy"),
        ("{Anatomy: heavy, Technique: 1}", "Anatomy"),
        ("{Anatomy: true, Technique: 1}", "Anatomy"),
        ("{Anatomy: 101, Technique: 1}", "Anatomy"),
        ("[Anatomy, Technique]", "weights"),
    ],
)
def test_exam_weights_that_are_not_whole_numbers_from_1_to_100_are_refused(
    app, tmp_path: Path, weights: str, refusal: str
):
    assert_file_refused(
        app, tmp_path, f"exam:\n  weights: {weights}\n  questions: 4\n" + _BANK, refusal
    )


def test_a_published_program_whose_exam_draws_no_questions_is_refused(app, tmp_path: Path):
    # Its candidates would sit an empty paper, score 0% and spend every attempt on it.
    assert_file_refused(app, tmp_path, "exam:\n  pass_mark: 75\n" + _BANK, "draws no questions")


@pytest.mark.parametrize(
    ("exam_text", "refusal"),
    [
        # Published so, no candidate could ever start the exam: "all 0 attempts" used.
        ("attempts: 0", "attempts"),
        ("attempts: -2", "attempts"),
        # An empty paper: every candidate would score 0% on it.
        ("questions: 0", "questions"),
        ("pass_mark: 101", "pass_mark"),
        ("time_limit_minutes: 0", "time_limit_minutes"),
        ("questions: many", "questions"),
        ("retake_wait_days: 1.5", "retake_wait_days"),
    ],
)
def test_exam_rules_out_of_the_admins_bounds_are_refused_with_a_message(
    app, tmp_path: Path, exam_text: str, refusal: str
):
    exam = f"exam:\n  weights: {{Anatomy: 1, Technique: 1}}\n  questions: 4\n  {exam_text}\n"
    assert_file_refused(app, tmp_path, exam + _BANK, refusal)


def test_a_program_import_that_changes_a_right_answer_logs_the_bank_before_and_after(
    app, tmp_path: Path
):
    from campus.audit import AuditEntry

    head = (
        "slug: x\ntitle: X\npublished: false\nexam:\n  weights: {A: 1}\n"
        "questions:\n  - domain: A\n    prompt: Q?\n"
    )
    path = tmp_path / "p.yaml"
    path.write_text(head + "    answers: ['*a', b]\n")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["programs", "import", str(path)]).exit_code == 0
    # The bank decides who passes and earns the credential: which answer is right is a change.
    path.write_text(head + "    answers: [a, '*b']\n")
    assert runner.invoke(args=["programs", "import", str(path)]).exit_code == 0
    with app.app_context():
        updated = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()

        def right(state: dict) -> list[str]:
            [question] = state["questions"]
            return [c["text"] for c in question["choices"] if c["correct"]]

        assert (right(updated.before), right(updated.after)) == (["a"], ["b"])
        assert "questions" in updated.summary


def test_a_file_without_published_keeps_what_the_admin_chose(app, tmp_path: Path):
    # The demo file says nothing of `published`: a new program is published, but one an admin
    # took down was put back in the catalog by the next import of the same file.
    with app.app_context():
        learning_demo.seed()
        db.session.commit()
        program, outcome = import_file(demo.DEMO_PROGRAMS / "trigger-point-therapist.yaml")
        assert outcome == "created" and program.published
        program.published = False
        db.session.commit()
        program, outcome = import_file(demo.DEMO_PROGRAMS / "trigger-point-therapist.yaml")
        assert outcome == "updated" and not program.published
        db.session.commit()
    # Saying it still publishes it.
    text = (demo.DEMO_PROGRAMS / "trigger-point-therapist.yaml").read_text()
    path = tmp_path / "p.yaml"
    path.write_text(text + "published: true\n")
    with app.app_context():
        program, _outcome = import_file(path)
        assert program.published


def test_a_file_without_an_optional_setting_keeps_what_the_admin_chose(app, tmp_path: Path):
    # An admin lengthened the validity and the exam's time, and named an accrediting body; a
    # file that never said those put the defaults back when it was imported again.
    import yaml

    data = yaml.safe_load((demo.DEMO_PROGRAMS / "trigger-point-therapist.yaml").read_text())
    for key in ("description", "license_required", "validity_months", "renewal_hours"):
        del data[key]
    for key in ("time_limit_minutes", "pass_mark", "attempts", "retake_wait_days"):
        del data["exam"][key]
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(data))
    edits = {
        "description": "Edited.",
        "accrediting_body": "A board",
        "license_required": False,
        "validity_months": 36,
        "renewal_hours": 20,
        "elective_hours": 0,
        "exam_time_limit_minutes": 90,
        "exam_pass_mark": 80,
        "exam_attempts_allowed": 5,
        "exam_retake_wait_days": 14,
    }
    with app.app_context():
        learning_demo.seed()
        db.session.commit()
        program, outcome = import_file(path)
        assert outcome == "created"
        assert (program.validity_months, program.license_required) == (24, True)
        assert (program.exam_time_limit_minutes, program.exam_pass_mark) == (60, 75)
        assert (program.exam_attempts_allowed, program.exam_retake_wait_days) == (3, 7)
        for key, value in edits.items():
            setattr(program, key, value)
        db.session.commit()
        program, outcome = import_file(path)
        assert outcome == "updated"
        assert {key: getattr(program, key) for key in edits} == edits
        db.session.commit()
    # Writing a setting still changes it.
    path.write_text(
        yaml.safe_dump({**data, "validity_months": 12, "exam": {**data["exam"], "pass_mark": 70}})
    )
    with app.app_context():
        program, _outcome = import_file(path)
        assert (program.validity_months, program.exam_pass_mark) == (12, 70)


def test_a_file_without_professions_keeps_the_eligibility_the_admin_chose(app, tmp_path: Path):
    # An admin opened the program to massage therapists only; a file that never named the
    # professions opened it to every candidate again on the next import.
    import yaml

    data = yaml.safe_load((demo.DEMO_PROGRAMS / "trigger-point-therapist.yaml").read_text())
    del data["professions"]
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(data))
    with app.app_context():
        learning_demo.seed()
        db.session.commit()
        program, _outcome = import_file(path)
        assert program.professions == []
        program.professions = ["massage_therapist"]
        db.session.commit()
        program, outcome = import_file(path)
        assert (outcome, program.professions) == ("updated", ["massage_therapist"])
        db.session.commit()
    path.write_text(yaml.safe_dump({**data, "professions": ["chiropractor"]}))
    with app.app_context():
        program, _outcome = import_file(path)
        assert program.professions == ["chiropractor"]


def test_a_file_without_questions_keeps_the_exam_bank_the_admin_built(app, tmp_path: Path):
    # Admins build the exam bank under Admin → Exam bank; a file that never listed questions
    # or the exam's weights emptied the bank on the next import.
    import yaml

    full = yaml.safe_load((demo.DEMO_PROGRAMS / "trigger-point-therapist.yaml").read_text())
    with app.app_context():
        learning_demo.seed()
        db.session.commit()
        program, _outcome = import_file(demo.DEMO_PROGRAMS / "trigger-point-therapist.yaml")
        program.questions[0].prompt = "Reworded by an admin?"
        weights, count = dict(program.exam_domain_weights), len(program.questions)
        db.session.commit()
    bare = {key: value for key, value in full.items() if key != "questions"}
    bare["exam"] = {key: value for key, value in full["exam"].items() if key != "weights"}
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(bare))
    with app.app_context():
        program, outcome = import_file(path)
        assert (outcome, program.exam_domain_weights, len(program.questions)) == (
            "updated",
            weights,
            count,
        )
        assert program.questions[0].prompt == "Reworded by an admin?"
        db.session.commit()
    # Listing them still replaces the bank.
    with app.app_context():
        program, _outcome = import_file(demo.DEMO_PROGRAMS / "trigger-point-therapist.yaml")
        assert program.questions[0].prompt != "Reworded by an admin?"


def test_a_file_without_a_practical_keeps_the_practical_the_admin_set(app, tmp_path: Path):
    # An admin added a filmed practical in the admin; a file that never mentioned one dropped
    # it on the next import, and candidates were certified without it.
    import yaml

    data = yaml.safe_load((demo.DEMO_PROGRAMS / "trigger-point-therapist.yaml").read_text())
    practical = data.pop("practical")
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(data))
    with app.app_context():
        learning_demo.seed()
        db.session.commit()
        program, _outcome = import_file(path)
        assert not program.practical_required
        program.practical_required = True
        program.practical_techniques = "Pincer palpation"
        program.rubric = "Finds the band\nDrapes the client"
        db.session.commit()
        program, _outcome = import_file(path)
        assert program.practical_required
        assert program.criteria == ["Finds the band", "Drapes the client"]
        db.session.commit()
    # Writing it still changes it.
    path.write_text(yaml.safe_dump({**data, "practical": practical}))
    with app.app_context():
        program, _outcome = import_file(path)
        assert program.criteria == practical["rubric"]


def test_a_file_without_courses_keeps_the_courses_the_admin_linked(app, tmp_path: Path):
    # An admin made one required course an elective; a file that never listed the courses
    # unlinked them all on the next import (a published one was refused for having none).
    import yaml

    full = yaml.safe_load((demo.DEMO_PROGRAMS / "trigger-point-therapist.yaml").read_text())
    with app.app_context():
        learning_demo.seed()
        db.session.commit()
        program, _outcome = import_file(demo.DEMO_PROGRAMS / "trigger-point-therapist.yaml")
        program.published = False
        program.courses[-1].kind = "elective"
        linked = [(link.course.slug, link.kind) for link in program.courses]
        db.session.commit()
    bare = {key: value for key, value in full.items() if key != "required_courses"}
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(bare))
    with app.app_context():
        program, _outcome = import_file(path)
        assert [(link.course.slug, link.kind) for link in program.courses] == linked
        db.session.commit()
    # Listing them still replaces them.
    with app.app_context():
        program, _outcome = import_file(demo.DEMO_PROGRAMS / "trigger-point-therapist.yaml")
        assert {link.kind for link in program.courses} == {"required"}

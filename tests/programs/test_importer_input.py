"""Program files of the wrong shape: refused with a message naming the field, nothing changed."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from campus.extensions import db
from campus.programs.importer import import_file
from campus.programs.models import Program
from tests.programs.helpers import assert_file_refused

_EXAM = "exam:\n  weights: {Anatomy: 1, Technique: 1}\n  questions: 2\n"


def _bank(*answers: str, domain: str = "Technique") -> str:
    """Two questions, one a domain; the second with the given answers."""
    return (
        "questions:\n"
        "  - domain: Anatomy\n    prompt: A?\n    answers: ['*a', b]\n"
        f"  - domain: {domain}\n    prompt: T?\n    answers: [{', '.join(answers)}]\n"
    )


@pytest.mark.parametrize(
    ("text", "refusal"),
    [
        ("exam: 5\n", "exam"),
        ("exam: [questions, 4]\n", "exam"),
        ("practical: true\n", "practical"),
        ("practical: [Pin and stretch]\n", "practical"),
        # A string where a list belongs was read letter by letter.
        ("required_courses: abc\n", "required_courses"),
        ("elective_courses: abc\n", "elective_courses"),
        ("professions: massage_therapist\n", "professions must be a list"),
        ("professions: [{a: 1}]\n", "professions"),
        ("questions: {domain: Anatomy}\n", "questions"),
        (
            "practical:\n  techniques: Pin and stretch\n  rubric: [Safe pressure]\n",
            "techniques",
        ),
        ("practical:\n  techniques: [Pin and stretch]\n  rubric: Safe pressure\n", "rubric"),
        (_EXAM + _bank("'*a'", "b").replace("['*a', b]", "'*ab'", 1), "answers"),
        # A question whose domain the exam does not weigh is never drawn.
        ("published: false\n" + _EXAM + _bank("'*a'", "b", domain="Physiology"), "Physiology"),
        # Blank or repeated answers cannot be told apart by the candidate.
        (_EXAM + _bank("'*a'", "' '"), "answer"),
        (_EXAM + _bank("'*a'", "a"), "twice"),
        (_EXAM + _bank("'*a'", "'*'"), "answer"),
        # A domain written twice: YAML keeps the last one silently.
        (
            "published: false\nexam:\n  weights: {Anatomy: 1, Technique: 1, Anatomy: 3}\n"
            + _bank("'*a'", "b"),
            "Anatomy",
        ),
        (
            "published: false\nexam:\n  weights: {Anatomy: 1, Technique: 1, 'Anatomy ': 3}\n"
            + _bank("'*a'", "b"),
            "Anatomy",
        ),
    ],
)
def test_a_program_file_of_the_wrong_shape_is_refused_naming_the_field(
    app, tmp_path: Path, text: str, refusal: str
):
    assert_file_refused(app, tmp_path, text, refusal)


@pytest.mark.parametrize(
    ("text", "refusal"),
    [
        (f"elective_hours: {'1' * 5000}\n", "p.yaml: a number is too long"),
        ("exam:\n  opens: 2027-02-30\n", "p.yaml: day is out of range for month"),
        # NaN is a number to YAML, and comparing it with a bound raises InvalidOperation.
        ("elective_hours: .nan\n", "elective_hours must be between 0 and 500"),
        ("renewal_hours: .NaN\n", "renewal_hours must be between 0 and 500"),
        ("renewal_hours: sNaN\n", "renewal_hours must be between 0 and 500"),
    ],
)
def test_a_value_yaml_reads_but_python_cannot_build_is_refused(
    app, tmp_path: Path, text: str, refusal: str
):
    assert_file_refused(app, tmp_path, text, refusal)


@pytest.mark.parametrize("key", ["elective_hours", "renewal_hours"])
def test_hours_with_more_decimals_than_are_kept_are_refused(app, tmp_path: Path, key: str):
    # The columns keep two decimals: 1.255 hours was stored as 1.25 or 1.26, unsaid.
    assert_file_refused(
        app, tmp_path, f"published: false\n{key}: 1.255\n", f"{key} has more than two decimals"
    )
    path = tmp_path / "p.yaml"
    path.write_text(f"slug: x\ntitle: X\npublished: false\n{key}: 1.50\n")
    with app.app_context():
        program, _outcome = import_file(path)
        assert getattr(program, key) == Decimal("1.5")


@pytest.mark.parametrize(
    ("head", "refusal"),
    [
        # A list reached the slug query and the insert as a database error.
        ("slug: [a, b]\ntitle: X\n", "slug"),
        ("slug: x\ntitle: [a]\n", "title must be text"),
        ("slug: x\ntitle: X\naccrediting_body: [NCBTMB]\n", "accrediting_body must be text"),
        ("slug: x\ntitle: X\ndescription: {a: 1}\n", "description must be text"),
        # A page nobody reaches: /programs/verify/... is the credential check.
        ("slug: verify\ntitle: X\n", "slug 'verify'"),
        ("slug: Hip & Thigh\ntitle: X\n", "lower-case words joined by hyphens"),
        # bool("false") is True: a draft the file meant to keep was published.
        ("slug: x\ntitle: X\npublished: 'false'\n", "published must be true or false"),
        ("slug: x\ntitle: X\nlicense_required: 'no'\n", "license_required must be true or"),
        # Cut to the column without a word (a second import of a long slug then made a second
        # program under the same cut slug: a traceback), or a database error as a traceback.
        (f"slug: {'a' * 121}\ntitle: X\n", "slug is longer than 120 characters"),
        (f"slug: x\ntitle: {'T' * 201}\n", "title is longer than 200 characters"),
        # The admin's form asks for a title; a blank one made a program no page could name.
        ("slug: x\ntitle: '   '\n", "a program needs at least a slug and a title"),
        (f"slug: x\ntitle: X\naccrediting_body: {'B' * 201}\n", "accrediting_body is longer"),
    ],
)
def test_the_slug_and_texts_are_held_to_the_admin_forms_rules(
    app, tmp_path: Path, head: str, refusal: str
):
    path = tmp_path / "p.yaml"
    path.write_text(head + ("" if "published" in head else "published: false\n"))
    result = app.test_cli_runner().invoke(args=["programs", "import", str(path)])
    assert result.exit_code == 1 and refusal in result.output, result.output
    with app.app_context():
        assert db.session.scalar(select(Program)) is None


@pytest.mark.parametrize(
    ("question", "refusal"),
    [
        # str() of a list was stored as the prompt candidates read: "['Which', 'muscle?']".
        ("prompt: [Which, muscle]", "the prompt of question 2 must be text"),
        ("prompt: {text: Which muscle}", "the prompt of question 2 must be text"),
        ("prompt: T?\n    explanation: [Because, so]", "the explanation of question 2 must"),
        ("prompt: T?\n    explanation: true", "the explanation of question 2 must be text"),
        ("prompt: T?", "the domain of question 2 must be text"),
    ],
)
def test_a_list_where_a_question_holds_text_is_refused(
    app, tmp_path: Path, question: str, refusal: str
):
    bank = _bank("'*a'", "b").replace("prompt: T?", question)
    if "domain" in refusal:
        bank = bank.replace("domain: Technique", "domain: [Technique]")
    assert_file_refused(app, tmp_path, "published: false\n" + _EXAM + bank, refusal)


@pytest.mark.parametrize(
    "courses",
    [
        "required_courses: [c-one, c-one]\n",
        "elective_courses: [c-one, c-one]\n",
        "required_courses: [c-one]\nelective_courses: [c-one]\n",
    ],
)
def test_a_course_listed_twice_is_refused_naming_it(app, tmp_path: Path, courses: str):
    from tests.programs.helpers import make_course

    with app.app_context():
        make_course("c-one")
    # The database refused the second link: the command stopped at a traceback.
    path = tmp_path / "p.yaml"
    path.write_text("slug: x\ntitle: X\npublished: false\n" + courses)
    result = app.test_cli_runner().invoke(args=["programs", "import", str(path)])
    assert result.exit_code == 1, result.output
    assert "'c-one' is listed twice: a course is either required or an elective" in (result.output)
    with app.app_context():
        assert db.session.scalar(select(Program)) is None


@pytest.mark.parametrize(
    ("text", "refusal"),
    [
        # A misspelt field was ignored: the default took its place without a word.
        ("publishd: false\n", "unknown field(s) publishd"),
        ("published: false\nexam:\n  pass_mak: 90\n", "exam: unknown field(s) pass_mak"),
        ("published: false\npractical:\n  rubrik: [Safe]\n", "practical: unknown field(s) rubrik"),
        (
            "published: false\n" + _EXAM + _bank("'*a'", "b").replace("prompt: T?", "promt: T?"),
            "question 2: unknown field(s) promt",
        ),
    ],
)
def test_a_misspelt_field_is_refused_naming_it(app, tmp_path: Path, text: str, refusal: str):
    assert_file_refused(app, tmp_path, text, re.escape(refusal))


@pytest.mark.parametrize(
    ("text", "refusal"),
    [
        # A right-to-left override printed the name reversed on the credential and the verify
        # page; the admin's form refuses it and control characters.
        ('title: "Trigger \\u202etsipareht"\n', "title holds an invisible"),
        ('accrediting_body: "NCB\\u202eTMB"\n', "accrediting_body holds an invisible"),
        ('practical:\n  techniques: [Pin]\n  rubric: ["Safe\\x1b"]\n', "practical rubric holds"),
    ],
)
def test_a_control_or_direction_character_in_a_line_of_text_is_refused(
    app, tmp_path: Path, text: str, refusal: str
):
    path = tmp_path / "p.yaml"
    head = "slug: x\n" + ("" if text.startswith("title") else "title: X\n")
    path.write_text(head + "published: false\n" + text)
    result = app.test_cli_runner().invoke(args=["programs", "import", str(path)])
    assert result.exit_code == 1 and refusal in result.output, result.output
    with app.app_context():
        assert db.session.scalar(select(Program)) is None


_QUESTION = _EXAM + _bank("'*a'", "b")


@pytest.mark.parametrize(
    ("text", "refusal"),
    [
        # A NUL stopped the command at a database traceback on PostgreSQL; the other control
        # and direction characters reached candidates' pages, which the admin's form drops.
        ('description: "Hands\\0 on"\n', "description holds an invisible"),
        ('description: "Read \\u202eme"\n', "description holds an invisible"),
        (_QUESTION.replace("prompt: T?", 'prompt: "T\\0?"'), "the prompt of question 2 holds"),
        (
            _QUESTION.replace("prompt: T?", 'prompt: T?\n    explanation: "So\\x1b[2J"'),
            "the explanation of question 2 holds",
        ),
    ],
)
def test_a_control_character_in_a_block_of_text_is_refused(
    app, tmp_path: Path, text: str, refusal: str
):
    path = tmp_path / "p.yaml"
    path.write_text("slug: x\ntitle: X\npublished: false\n" + text)
    result = app.test_cli_runner().invoke(args=["programs", "import", str(path)])
    assert result.exit_code == 1 and refusal in result.output, result.output
    with app.app_context():
        assert db.session.scalar(select(Program)) is None


def test_a_wrong_shape_is_a_message_on_the_command_line_not_a_traceback(app, tmp_path: Path):
    path = tmp_path / "p.yaml"
    path.write_text("slug: x\ntitle: X\nexam: 5\n")
    result = app.test_cli_runner().invoke(args=["programs", "import", str(path)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "exam" in result.output


def test_a_well_formed_file_still_imports(app, tmp_path: Path):
    path = tmp_path / "p.yaml"
    path.write_text(
        "slug: x\ntitle: X\nprofessions: [massage_therapist]\n"
        + _EXAM
        + "practical:\n  techniques: [Pin and stretch]\n  rubric: [Safe pressure, Draping]\n"
        + _bank("'*a'", "b")
    )
    with app.app_context():
        program, outcome = import_file(path)
        assert outcome == "created" and program.criteria == ["Safe pressure", "Draping"]
        assert len(program.questions) == 2


def test_a_blank_accrediting_body_names_no_accreditor(app, tmp_path: Path):
    # Any text there makes every page and credential say the program is accredited by it:
    # the admin's form takes spaces as none; the file's were kept.
    path = tmp_path / "p.yaml"
    path.write_text("slug: x\ntitle: X\npublished: false\naccrediting_body: '  '\n")
    with app.app_context():
        program, _outcome = import_file(path)
        assert program.accrediting_body is None


def test_professions_are_stored_as_checked(app, tmp_path: Path):
    # Checked stripped but stored as written: "massage_therapist " matched no member, so no
    # massage therapist was eligible; one written twice was named twice to candidates.
    path = tmp_path / "p.yaml"
    path.write_text(
        "slug: x\ntitle: X\npublished: false\n"
        "professions: ['massage_therapist ', massage_therapist, chiropractor]\n"
    )
    with app.app_context():
        program, _outcome = import_file(path)
        assert program.professions == ["massage_therapist", "chiropractor"]

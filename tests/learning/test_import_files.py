"""Course folders as editors and file managers leave them: refused by name, never a crash."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.learning.test_import import COURSE, _course, run_import, write_course

HUGE = "1" * 5000  # past Python's 4,300-digit limit on reading an integer


def refused(app, tmp_path: Path, spoil, message: str) -> None:
    """Import the good course, spoil a copy of it, and check the copy is refused by name."""
    write_course(tmp_path)
    assert run_import(app, tmp_path).exit_code == 0
    root = write_course(tmp_path)
    (root / "course.yaml").write_text(
        yaml.safe_dump({**COURSE, "summary": "Changed summary"}, sort_keys=False)
    )
    spoil(root)
    result = run_import(app, tmp_path)
    assert result.exit_code == 1, result.output
    assert "FAILED     scalenes" in result.output and message in result.output, result.output
    assert _course(app).summary == "Arm pain that starts in the neck."


def _huge_hours(root: Path) -> None:
    text = (root / "course.yaml").read_text().replace("ce_hours: 0.75", f"ce_hours: {HUGE}")
    (root / "course.yaml").write_text(text)


def _impossible_date(root: Path) -> None:
    text = (root / "course.yaml").read_text().replace("'2099-12-31'", "2099-02-30")
    (root / "course.yaml").write_text(text)


def _huge_minutes(root: Path) -> None:
    (root / "lessons" / "02-treat.md").write_text(f"---\ntitle: T\nminutes: {HUGE}\n---\nText\n")


def _huge_pass_mark(root: Path) -> None:
    (root / "quiz.yaml").write_text(f"pass_mark_percent: {HUGE}\nquestions: []\n")


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (_huge_hours, "course.yaml: not valid YAML (a number is more than 4,300 digits long)"),
        (_impossible_date, "course.yaml: not valid YAML (day is out of range for month)"),
        (_huge_minutes, "lessons/02-treat.md: bad YAML front matter (a number is more than"),
        (_huge_pass_mark, "quiz.yaml: not valid YAML (a number is more than 4,300 digits"),
    ],
)
def test_a_value_yaml_reads_but_python_cannot_build_is_refused(app, tmp_path, spoil, message):
    refused(app, tmp_path, spoil, message)


def _lesson_folder(root: Path) -> None:
    (root / "lessons" / "02-treat.md").unlink()
    (root / "lessons" / "02-treat.md").mkdir()


def _quiz_folder(root: Path) -> None:
    (root / "quiz.yaml").unlink()
    (root / "quiz.yaml").mkdir()


def _transcript_folder(root: Path) -> None:
    (root / "lessons" / "02-treat.transcript.md").mkdir()


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (_lesson_folder, "lessons/02-treat.md: is a folder, not a file"),
        (_quiz_folder, "quiz.yaml: is a folder, not a file"),
        (_transcript_folder, "lessons/02-treat.transcript.md: is a folder, not a file"),
    ],
)
def test_a_folder_where_a_file_is_named_is_refused(app, tmp_path, spoil, message):
    refused(app, tmp_path, spoil, message)


def _outside(root: Path, name: str, text: str) -> None:
    secret = root.parent / "secret.txt"
    secret.write_text(text)
    (root / name).unlink(missing_ok=True)
    (root / name).symlink_to(secret)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("resources/handout.txt", "SECRET_KEY=not for members\n"),
        ("lessons/02-treat.md", "---\ntitle: Settings\nminutes: 15\n---\nSECRET_KEY=x\n"),
        ("lessons/02-treat.transcript.md", "SECRET_KEY=not for members\n"),
        ("quiz.yaml", "questions: [{prompt: x, choices: [{text: a, correct: true}, b]}]\n"),
        # Another course's file, or any YAML the server can read, taken in as this course.
        ("course.yaml", yaml.safe_dump({**COURSE, "summary": "Changed summary"})),
    ],
)
def test_a_link_to_a_file_outside_the_course_folder_is_refused(app, tmp_path, name, text):
    refused(
        app,
        tmp_path,
        lambda root: _outside(root, name, text),
        f"{name}: is a link to a file outside the course folder",
    )


def test_a_link_inside_the_course_folder_is_read(app, tmp_path):
    root = write_course(tmp_path)
    (root / "resources" / "copy.txt").symlink_to(root / "resources" / "handout.txt")
    lesson = (root / "lessons" / "03-home.md").read_text()
    (root / "lessons" / "03-home.md").write_text(
        lesson.replace("---\n\n", "- title: Copy\n  file: copy.txt\n---\n\n")
    )
    result = run_import(app, tmp_path)
    assert result.exit_code == 0, result.output


def test_a_resources_folder_linked_outside_the_course_is_refused(app, tmp_path):
    def spoil(root: Path) -> None:
        elsewhere = root.parent / "elsewhere"
        elsewhere.mkdir()
        (elsewhere / "handout.txt").write_text("SECRET_KEY=not for members\n")
        (root / "resources" / "handout.txt").unlink()
        (root / "resources").rmdir()
        (root / "resources").symlink_to(elsewhere)

    refused(app, tmp_path, spoil, "resources/handout.txt: is a link to a file outside")


def _nul_in(name: str):
    def spoil(root: Path) -> None:
        path = root / "lessons" / name
        text = path.read_text() if path.exists() else "What the video says.\n"
        path.write_text(text + "A stray\x00 byte.\n")

    return spoil


@pytest.mark.parametrize("name", ["02-treat.md", "02-treat.transcript.md"])
def test_a_lesson_or_transcript_holding_a_nul_is_refused(app, tmp_path, name):
    # PostgreSQL cannot store one: the import stopped at a database traceback.
    refused(app, tmp_path, _nul_in(name), f"lessons/{name}: the file holds a NUL character")


def test_a_lesson_saved_with_a_byte_order_mark_is_read_with_its_front_matter(app, tmp_path):
    root = write_course(tmp_path)
    for name in ("02-treat.md", "02-treat.transcript.md"):
        (root / "lessons" / name).write_bytes(
            b"\xef\xbb\xbf---\ntitle: Treating them\nminutes: 15\n---\nWords.\n"
            if name == "02-treat.md"
            else b"\xef\xbb\xbfWhat the video says.\n"
        )
    result = run_import(app, tmp_path)
    assert result.exit_code == 0, result.output
    course = _course(app)
    assert course.lessons[1].title == "Treating them"
    assert course.lessons[1].transcript == "What the video says.\n"


def _modules_twice(root: Path) -> None:
    text = (root / "course.yaml").read_text()
    (root / "course.yaml").write_text(
        text + "modules:\n- title: Only this\n  lessons: [01-find.md]\n"
    )


def _choices_twice(root: Path) -> None:
    (root / "quiz.yaml").write_text(
        "questions:\n- prompt: P?\n  choices: [{text: a, correct: true}, {text: b}]\n"
        "  choices: [{text: c, correct: true}, {text: d}]\n"
    )


def _title_twice(root: Path) -> None:
    (root / "lessons" / "02-treat.md").write_text(
        "---\ntitle: Treating them\nminutes: 15\ntitle: Other\n---\nText\n"
    )


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (_modules_twice, "course.yaml: not valid YAML ('modules' is written twice"),
        (_choices_twice, "quiz.yaml: not valid YAML ('choices' is written twice"),
        (_title_twice, "lessons/02-treat.md: bad YAML front matter ('title' is written twice"),
    ],
)
def test_a_field_written_twice_is_refused_not_silently_replaced(app, tmp_path, spoil, message):
    refused(app, tmp_path, spoil, message)


@pytest.mark.parametrize(
    "modules",
    [
        [{"title": "M", "lessons": ["01-find.md", "02-treat.md", "01-find.md", "03-home.md"]}],
        [
            {"title": "M", "lessons": ["01-find.md", "02-treat.md", "03-home.md"]},
            {"title": "Again", "lessons": ["02-treat.md"]},
        ],
    ],
)
def test_a_lesson_listed_twice_is_refused_not_counted_twice_toward_the_hours(
    app, tmp_path, modules
):
    def spoil(root: Path) -> None:
        course = {**COURSE, "summary": "Changed summary", "ce_hours": 1, "modules": modules}
        (root / "course.yaml").write_text(yaml.safe_dump(course, sort_keys=False))

    refused(app, tmp_path, spoil, "is listed twice")


@pytest.mark.parametrize(
    "address", ["http://example.com/cover.jpg", "cover.jpg", "javascript:alert(1)", "https://a b"]
)
def test_a_cover_image_the_admin_would_refuse_is_refused(app, tmp_path, address):
    # The admin asks for an https:// address; the file's was taken as written, and the page
    # showed a broken image (the browser loads only https images).
    write_course(tmp_path, course={**COURSE, "cover_image_url": address})
    result = run_import(app, tmp_path)
    assert result.exit_code == 1, result.output
    assert "course.yaml: `cover_image_url` must be an https:// address" in result.output
    assert _course(app) is None


@pytest.mark.parametrize("hours", [0.1, 100.25, 500])
def test_ce_hours_the_admin_would_refuse_are_refused(app, tmp_path, hours):
    # The admin takes 0.25 to 100 CE hours; a file's 500 made a course the admin could then
    # not save without changing them.
    write_course(tmp_path, course={**COURSE, "status": "draft", "ce_hours": hours})
    result = run_import(app, tmp_path)
    assert result.exit_code == 1, result.output
    assert "course.yaml: `ce_hours` must be a number of hours from 0.25 to 100" in result.output
    assert _course(app) is None


def _spoil_course(**changes):
    """A spoiler that rewrites course.yaml with the given fields changed."""

    def spoil(root: Path) -> None:
        data = {**COURSE, "summary": "Changed summary", **changes}
        (root / "course.yaml").write_text(yaml.safe_dump(data, sort_keys=False))

    return spoil


def _spoil_lesson_title(root: Path) -> None:
    (root / "lessons" / "02-treat.md").write_text(
        '---\ntitle: "T\\u202ereat"\nminutes: 15\n---\nX\n'
    )


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        # A right-to-left override printed the title reversed on certificates and the verify
        # page; the admin's form refuses both it and control characters.
        (_spoil_course(title="Scalenes \u202etuo"), "course.yaml: `title` holds an invisible"),
        (_spoil_course(presenters=["Maren Okafor\u202e, LMT"]), "course.yaml: `presenters`"),
        (
            _spoil_course(approvals=[{"board": "NCBTMB", "approval_number": "AP\x1b-1"}]),
            "course.yaml, approval 1: `approval_number` holds an invisible",
        ),
        (_spoil_lesson_title, "lessons/02-treat.md: `title` holds an invisible"),
    ],
)
def test_a_control_or_direction_character_in_a_line_of_text_is_refused(
    app, tmp_path, spoil, message
):
    refused(app, tmp_path, spoil, message)


def _spoil_quiz_prompt(root: Path) -> None:
    text = (root / "quiz.yaml").read_text()
    data = yaml.safe_load(text)
    data["questions"][0]["prompt"] = "Which\x00 muscle?"
    (root / "quiz.yaml").write_text(yaml.safe_dump(data, sort_keys=False))


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        # A NUL stopped the import at a database traceback on PostgreSQL; the other control
        # and direction characters reached the course pages. Line breaks and tabs stay.
        (_spoil_course(description="Three\x00 muscles"), "course.yaml: `description` holds"),
        (_spoil_course(presenter_bio="Teaches \x1b[2J"), "course.yaml: `presenter_bio` holds"),
        (_spoil_course(description="Read \u202eme"), "course.yaml: `description` holds"),
        (_spoil_quiz_prompt, "`prompt` holds an invisible"),
    ],
)
def test_a_control_or_direction_character_in_a_block_of_text_is_refused(
    app, tmp_path, spoil, message
):
    refused(app, tmp_path, spoil, message)


def test_attempts_a_day_the_admin_would_refuse_are_refused(app, tmp_path):
    # The admin allows 1 to 50 attempts a day; a file's 80 made a quiz the admin could then
    # not save without changing them.
    root = write_course(tmp_path)
    text = (root / "quiz.yaml").read_text().replace("attempts_per_day: 2", "attempts_per_day: 80")
    (root / "quiz.yaml").write_text(text)
    result = run_import(app, tmp_path)
    assert result.exit_code == 1, result.output
    assert "quiz.yaml: `attempts_per_day` must be a whole number 1-50" in result.output
    assert _course(app) is None


def test_a_resource_name_the_store_would_change_is_refused(app, tmp_path):
    # "handout." was kept as "handout": every later import of the same files found no
    # resource by the file's name, stored it again and said "updated".
    root = write_course(tmp_path)
    (root / "resources" / "handout.").write_text("Stretch twice a day.\n")
    lesson = (root / "lessons" / "03-home.md").read_text()
    (root / "lessons" / "03-home.md").write_text(lesson.replace("handout.txt", "handout."))
    result = run_import(app, tmp_path)
    assert result.exit_code == 1, result.output
    assert "lessons/03-home.md, resource 1: 'handout.' must be a file name" in result.output
    assert _course(app) is None


def test_an_approval_written_twice_is_refused_on_an_update_as_on_a_new_course(app, tmp_path):
    # A new course refused it; an update kept one of the two rows unsaid (the last date won).
    approval = {"board": "NCBTMB", "approval_number": "AP-1", "valid_until": "2099-12-31"}
    later = {**approval, "valid_until": "2098-01-31"}
    refused(
        app,
        tmp_path,
        _spoil_course(approvals=[approval, later]),
        "course.yaml: the NCBTMB approval is listed twice",
    )


def test_a_boards_renewal_from_the_day_after_is_read_beside_the_approval_it_follows(app, tmp_path):
    current = {"board": "NCBTMB", "approval_number": "AP-1", "valid_until": "2098-06-30"}
    renewal = {
        "board": "NCBTMB",
        "approval_number": "AP-2",
        "valid_from": "2098-07-01",
        "valid_until": "2100-06-30",
    }
    root = write_course(tmp_path)
    (root / "course.yaml").write_text(
        yaml.safe_dump({**COURSE, "approvals": [current, renewal]}, sort_keys=False)
    )
    result = run_import(app, tmp_path)
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert sorted(a.approval_number for a in _course(app).approvals) == ["AP-1", "AP-2"]
    # The same days twice, or one number twice, is still one board's approval listed twice.
    for second in ({**renewal, "valid_from": "2098-06-30"}, {**renewal, "approval_number": "AP-1"}):
        refused(
            app,
            tmp_path,
            _spoil_course(approvals=[current, second]),
            "course.yaml: the NCBTMB approval is listed twice",
        )


def test_a_resource_listed_twice_in_a_lesson_is_refused(app, tmp_path):
    # Stored twice; and every later import of the same files stored it once more, "updated".
    def twice(root: Path) -> None:
        handout = "- title: Handout\n  file: handout.txt\n"
        lesson = (root / "lessons" / "03-home.md").read_text()
        (root / "lessons" / "03-home.md").write_text(lesson.replace(handout, handout * 2))

    refused(app, tmp_path, twice, "lessons/03-home.md: resources/handout.txt is listed twice")


def test_a_lesson_of_zero_width_characters_alone_has_no_text(app, tmp_path):
    root = write_course(tmp_path)
    (root / "lessons" / "02-treat.md").write_text(
        "---\ntitle: Treating them\nminutes: 15\n---\n\u200b\u200d\n"
    )
    result = run_import(app, tmp_path)
    assert result.exit_code == 1
    assert "lessons/02-treat.md: the lesson has no text" in result.output
    assert _course(app) is None

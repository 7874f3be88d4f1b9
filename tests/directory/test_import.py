"""`flask directory import FILE`: profiles from a YAML file, checked like the member's form."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

ENTRY = """\
- email: {email}
  display_name: Maya Chen, LMT
  professions: [massage_therapist]
  zip_code: "10001"
  bio: Trigger point therapy.
"""


def _run(app, path: Path, *extra: str):
    return app.test_cli_runner().invoke(args=["directory", "import", str(path), *extra])


def _users(app) -> int:
    from campus.accounts.models import User
    from campus.extensions import db

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User))


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("- email: [unclosed\n", "not valid YAML"),
        ("email: maya@example.com\n", "a list of profiles"),
        ("- maya@example.com\n", "a list of profiles"),
        # YAML reads these, but Python cannot build them (a bare ValueError, a traceback).
        (f"- email: maya@example.com\n  zip_code: {'1' * 5000}\n", "a number is too long"),
        ("- email: maya@example.com\n  since: 2027-02-30\n", "day is out of range"),
    ],
)
def test_a_malformed_file_is_refused_with_a_clear_message(app, tmp_path, text, complaint):
    path = tmp_path / "profiles.yaml"
    path.write_text(text)
    result = _run(app, path, "--create-members")
    assert result.exit_code == 1
    assert not isinstance(result.exception, AttributeError | LookupError | ValueError)
    assert complaint in result.output
    assert _users(app) == 0


def test_no_member_is_created_with_an_address_that_is_not_an_email(app, tmp_path):
    path = tmp_path / "profiles.yaml"
    path.write_text(ENTRY.format(email='"Maya Chen"'))
    result = _run(app, path, "--create-members")
    assert result.exit_code == 1
    assert "failed Maya Chen" in result.output
    assert _users(app) == 0

    path.write_text(ENTRY.format(email="maya@example.com"))
    result = _run(app, path, "--create-members")
    assert result.exit_code == 0, result.output
    assert "created maya@example.com" in result.output
    assert _users(app) == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("professions", "5"),
        ("professions", "{a: 1}"),
        ("specialties", "5"),
        ("specialties", "[[a]]"),
    ],
)
def test_a_list_field_of_the_wrong_shape_is_reported_for_that_entry(app, tmp_path, field, value):
    path = tmp_path / "profiles.yaml"
    path.write_text(
        f"- email: maya@example.com\n  display_name: Maya\n  zip_code: '10001'\n"
        f"  {field}: {value}\n"
    )
    result = _run(app, path, "--create-members")
    assert result.exit_code == 1, repr(result.exception)
    assert f"maya@example.com: {field} must be a list of names" in result.output
    assert _users(app) == 0


@pytest.mark.parametrize("field", ["show_street", "contact_enabled", "published"])
def test_a_yes_or_no_written_as_text_is_refused_not_read_as_yes(app, tmp_path, field):
    path = tmp_path / "profiles.yaml"
    path.write_text(
        "- email: maya@example.com\n  display_name: Maya\n  zip_code: '10001'\n"
        f"  professions: [massage_therapist]\n  street: 1 Main St\n  {field}: 'no'\n"
    )
    result = _run(app, path, "--create-members")
    assert result.exit_code == 1, repr(result.exception)
    assert f"maya@example.com: {field} must be true or false" in result.output
    assert _users(app) == 0


def test_a_member_created_by_an_import_keeps_the_address_in_its_stored_form(app, tmp_path):
    # Stored as typed, "Kim@BÜCHER.example" was a second account for the mailbox that signs up
    # (or was imported) as kim@xn--bcher-kva.example.
    from campus.accounts.models import User
    from campus.extensions import db

    path = tmp_path / "profiles.yaml"
    path.write_text(ENTRY.format(email="Kim@BÜCHER.example"))
    assert _run(app, path, "--create-members").exit_code == 0
    with app.app_context():
        assert db.session.scalar(select(User.email)) == "kim@xn--bcher-kva.example"


@pytest.mark.parametrize(
    "line",
    [
        "display_name: [Maya, Chen]",
        "bio: {about: Trigger point therapy.}",
        "practice_name: [Chen Massage]",
        "street: [1 Main St]",
        "phone: [555-0100]",
        "website: [https://example.com]",
        "zip_code: ['10001']",
        "full_name: [Maya, Chen]",
    ],
)
def test_a_list_where_text_belongs_is_refused_not_shown_as_python(app, tmp_path, line):
    # str() of a list was stored and shown in the public directory: "['Maya', 'Chen']".
    key = line.split(":", 1)[0]
    rows = [
        "- email: maya@example.com",
        "  display_name: Maya",
        "  zip_code: '10001'",
        "  professions: [massage_therapist]",
    ]
    rows = [row for row in rows if not row.startswith(f"  {key}:")] + [f"  {line}"]
    path = tmp_path / "profiles.yaml"
    path.write_text("\n".join(rows) + "\n")
    result = _run(app, path, "--create-members")
    assert result.exit_code == 1, result.output
    assert f"maya@example.com: {key} must be text" in result.output
    assert _users(app) == 0


def test_a_field_written_twice_in_an_entry_is_refused(app, tmp_path):
    # Plain YAML keeps the last of two equal keys: the bio written first was dropped unsaid.
    path = tmp_path / "profiles.yaml"
    path.write_text(ENTRY.format(email="maya@example.com") + "  bio: Second bio.\n")
    result = _run(app, path, "--create-members")
    assert result.exit_code == 1, result.output
    assert "'bio' is written twice" in result.output
    assert _users(app) == 0


@pytest.mark.parametrize("field", ["contact_enabld", "publishd", "bio_text"])
def test_a_misspelt_field_is_refused_naming_it(app, tmp_path, field):
    # A misspelling was ignored and the default took its place: `contact_enabld: false` left
    # the member open to messages they had asked not to get.
    path = tmp_path / "profiles.yaml"
    path.write_text(ENTRY.format(email="maya@example.com") + f"  {field}: false\n")
    result = _run(app, path, "--create-members")
    assert result.exit_code == 1, result.output
    assert f"maya@example.com: unknown field(s) {field}" in result.output
    assert _users(app) == 0


@pytest.mark.parametrize(
    "line",
    [
        'display_name: "Maya\\0 Chen"',
        'full_name: "Maya\\0 Chen"',
        'practice_name: "Chen \\u202eMassage"',
        'street: "1 Main St\\0"',
        'bio: "Trigger point\\x1b[2J therapy."',
        'website: "https://example.com/\\0"',
    ],
)
def test_a_control_character_in_a_text_field_is_refused_naming_it(app, tmp_path, line):
    # A NUL stopped the import at a database traceback on PostgreSQL; the member's form drops
    # control and direction characters, and the import stored them for the public directory.
    key = line.split(":", 1)[0]
    rows = [row for row in ENTRY.format(email="maya@example.com").splitlines()]
    rows = [row for row in rows if not row.startswith(f"  {key}:")] + [f"  {line}"]
    path = tmp_path / "profiles.yaml"
    path.write_text("\n".join(rows) + "\n")
    result = _run(app, path, "--create-members")
    assert result.exit_code == 1, result.output
    assert f"maya@example.com: {key} holds an invisible control" in result.output
    assert _users(app) == 0


def test_an_address_holding_a_nul_is_refused_not_looked_up(app, tmp_path):
    # Looking the address up failed on PostgreSQL with a traceback, before any check.
    path = tmp_path / "profiles.yaml"
    path.write_text(ENTRY.format(email='"maya\\0@example.com"'))
    result = _run(app, path, "--create-members")
    assert result.exit_code == 1, result.output
    assert "is not an email address" in result.output
    assert _users(app) == 0


@pytest.mark.parametrize(
    ("line", "complaint"),
    [
        (f"display_name: {'M' * 121}", "Enter the name clients know you by."),
        (f"professions: [{'x' * 41}]", "Choose professions from the list."),
        (f"full_name: {'F' * 121}", "full_name is longer than 120 characters"),
    ],
)
def test_a_member_is_created_only_for_a_profile_that_passes_its_checks(
    app, tmp_path, line, complaint
):
    # The member was made from the entry's names before the profile was checked: on
    # PostgreSQL a name or profession longer than its column stopped the import at a traceback.
    key = line.split(":", 1)[0]
    rows = [row for row in ENTRY.format(email="maya@example.com").splitlines()]
    rows = [row for row in rows if not row.startswith(f"  {key}:")] + [f"  {line}"]
    path = tmp_path / "profiles.yaml"
    path.write_text("\n".join(rows) + "\n")
    result = _run(app, path, "--create-members")
    assert result.exit_code == 1, result.output
    assert f"maya@example.com: {complaint}" in result.output
    assert _users(app) == 0


def test_an_imported_profile_is_logged_as_the_operators_command(app, tmp_path):
    # An action a command runs names no one and says so: "cli:" starts its summary.
    from campus.audit import AuditEntry
    from campus.extensions import db

    path = tmp_path / "profiles.yaml"
    entry = ENTRY.format(email="maya@example.com") + "  specialties: [trigger-point-therapy]\n"
    path.write_text(entry + "  published: true\n")
    result = _run(app, path, "--create-members")
    assert result.exit_code == 0, result.output
    path.write_text(entry.replace("Trigger", "Deep"))
    result = _run(app, path)
    assert result.exit_code == 0, result.output
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        logged = [(e.action, e.actor_id, e.actor_email, e.summary[:5]) for e in entries]
    assert logged == [
        ("member_created", None, "system", "cli: "),
        ("directory_create", None, "system", "cli: "),
        ("directory_publish", None, "system", "cli: "),
        ("directory_save", None, "system", "cli: "),
    ]


@pytest.mark.parametrize(
    ("rows", "complaints"),
    [
        # Two fields the member's form checks: it names both, the import named the first.
        (
            ["display_name: ''", "zip_code: 'abc'", "phone: '12'"],
            ["display_name: Enter the name clients know you by.", "zip_code: ", "phone: Enter"],
        ),
        # Fields of the wrong shape, and one the form refuses: each is named.
        (
            ["bio: [a, b]", "contact_enabled: 'no'", "phone: '12'"],
            ["bio must be text", "contact_enabled must be true or false", "phone: Enter"],
        ),
        # A member's name too long for its column, with a bad profile field.
        (
            [f"full_name: {'F' * 121}", "zip_code: 'abc'"],
            ["full_name is longer than 120 characters", "zip_code: "],
        ),
    ],
)
def test_an_entry_with_several_bad_fields_is_reported_naming_each(app, tmp_path, rows, complaints):
    # The import reported the first problem only: fixing it showed the next, one run at a time,
    # while the member's own form shows every field's error at once.
    keys = {row.split(":", 1)[0] for row in rows}
    lines = ENTRY.format(email="maya@example.com").splitlines()
    lines = [line for line in lines if line.split(":", 1)[0].strip() not in keys]
    path = tmp_path / "profiles.yaml"
    path.write_text("\n".join(lines + [f"  {row}" for row in rows]) + "\n")
    result = _run(app, path, "--create-members")
    assert result.exit_code == 1, result.output
    failed = [line for line in result.output.splitlines() if line.startswith("failed")]
    assert len(failed) == 1 and failed[0].startswith("failed maya@example.com: ")
    for complaint in complaints:
        assert complaint in failed[0]
    assert _users(app) == 0


def test_a_known_member_s_entry_names_every_bad_field(app, tmp_path):
    from tests import support

    with app.app_context():
        support.create_user(email="maya@example.com")
    path = tmp_path / "profiles.yaml"
    path.write_text("- email: maya@example.com\n  display_name: ''\n  zip_code: 'abc'\n")
    result = _run(app, path)
    assert result.exit_code == 1, result.output
    assert "display_name: Enter the name clients know you by." in result.output
    assert "zip_code: " in result.output

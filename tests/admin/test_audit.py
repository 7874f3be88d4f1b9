"""The audit log: one entry per change, filterable, with before and after on its page."""

from __future__ import annotations

import re

import pytest

from tests import support
from tests.admin import helpers


def test_the_audit_log_lists_filters_and_shows_before_and_after(app, client):
    with app.app_context():
        first = support.create_user(email="first@example.com").id
        second = support.create_user(email="second@example.com").id
    admin_id = helpers.sign_in_admin(app, client)
    helpers.post(client, f"/admin/members/{first}/comp", {"days": "10", "reason": "Thanks"})
    helpers.post(client, f"/admin/members/{second}/disable", {})

    listing = client.get("/admin/audit/").get_data(as_text=True)
    assert "comp_<wbr>grant" in listing and "disable" in listing
    from tests.admin.test_billing import _filter_arg

    arg = _filter_arg(app, "admin_audit", "Action", "equals")
    only = client.get(f"/admin/audit/?{arg}=disable").get_data(as_text=True)
    only = re.sub(r"<[^>]+>", "", only)  # an address may wrap at <wbr> after its "@"
    assert "second@example.com" in only and "first@example.com: comp" not in only

    (entry,) = helpers.audit_entries(app, action="disable")
    assert entry.actor_id == admin_id and entry.actor_email.endswith("@example.com")
    with app.app_context():
        from sqlalchemy import select

        from campus.admin.models import AuditEntry
        from campus.extensions import db

        entry_id = db.session.scalar(select(AuditEntry.id).where(AuditEntry.action == "disable"))
    details = client.get(f"/admin/audit/details/?id={entry_id}").get_data(as_text=True)
    assert "&#34;disabled_at&#34;: null" in details or '"disabled_at": null' in details
    assert "role" in details and "totp_secret" not in details


def test_the_audit_log_cannot_be_edited_or_deleted(app, client):
    helpers.sign_in_admin(app, client)
    with app.app_context():
        from campus.admin.services import record

        entry = record("update", object_type="Course", object_id=1, summary="x")
        from campus.extensions import db

        db.session.commit()
        entry_id = entry.id
    assert client.get(f"/admin/audit/edit/?id={entry_id}").status_code == 302
    helpers.post(client, "/admin/audit/delete/", {"id": entry_id})
    assert len(helpers.audit_entries(app)) == 1


def test_the_audit_log_reads_filter_times_in_utc_as_it_shows_them(app, client, pacific):
    from datetime import UTC, datetime

    from tests.admin.test_billing import _filter_arg

    helpers.sign_in_admin(app, client)
    with app.app_context():
        from campus.admin.services import record
        from campus.extensions import db

        entry = record("update", object_type="Course", object_id=1, summary="early-utc-entry")
        entry.created_at = datetime(2026, 3, 1, 5, 0, tzinfo=UTC)  # shown as 05:00:00 UTC
        db.session.commit()
    arg = _filter_arg(app, "admin_audit", "When", "between")
    day = client.get(
        "/admin/audit/", query_string={arg: "2026-03-01 00:00:00 to 2026-03-01 23:59:59"}
    ).get_data(as_text=True)
    assert "early-utc-entry" in day


def test_each_entry_names_the_address_the_change_came_from(app, client):
    """An auditor can tell where a change or a failed sign-in came from; a command has none."""
    with app.app_context():
        member = support.create_user(email="target@example.com").id
    helpers.sign_in_admin(app, client)
    helpers.post(
        client, f"/admin/members/{member}/disable", {}, environ_base={"REMOTE_ADDR": "203.0.113.7"}
    )
    (entry,) = helpers.audit_entries(app, action="disable")
    assert entry.ip_address == "203.0.113.7"
    with app.app_context():
        from sqlalchemy import select

        from campus.admin.models import AuditEntry
        from campus.extensions import db

        entry_id = db.session.scalar(select(AuditEntry.id).where(AuditEntry.action == "disable"))
    assert "203.0.113.7" in client.get("/admin/audit/").get_data(as_text=True)
    assert "203.0.113.7" in client.get(f"/admin/audit/details/?id={entry_id}").get_data(
        as_text=True
    )

    stranger = app.test_client()
    support.post_form(
        stranger,
        "/login",
        {"email": "target@example.com", "password": "not the password at all"},
        environ_base={"REMOTE_ADDR": "198.51.100.23"},
    )
    (failed,) = helpers.audit_entries(app, action="sign_in_failed")
    assert failed.ip_address == "198.51.100.23"

    with app.app_context():
        from campus.audit import record
        from campus.extensions import db

        record("update", object_type="Course", object_id=1, summary="cli: x", system=True)
        db.session.commit()
    (command,) = helpers.audit_entries(app, summary="cli: x")
    assert command.ip_address is None

    with app.test_request_context("/", environ_base={"REMOTE_ADDR": "192.0.2.8"}):
        record("expired", object_type="Course", object_id=1, summary="deadline", system=True)
        db.session.commit()
    (deadline,) = helpers.audit_entries(app, summary="deadline")
    assert deadline.ip_address is None


@pytest.mark.parametrize(
    "query", ["endpoint=x", "self=1", "_method=POST", "_external=1", "_anchor=top"]
)
def test_a_list_keeps_its_links_whatever_else_the_query_names(app, client, query):
    # The list's links carry the rest of its query: a name url_for takes as its own failed
    # them (a 500) or changed them (absolute on the request's Host, or an anchor).
    helpers.sign_in_admin(app, client)
    page = client.get(f"/admin/audit/?search=x&{query}")
    assert page.status_code == 200
    links = re.findall(r'href="([^"]*page_size=50[^"]*)"', page.get_data(as_text=True))
    assert links == ["/admin/audit/?search=x&amp;page_size=50"]


def test_the_column_of_who_acted_is_headed_by_not_admin(app, client):
    # Members' own sign-ins and study steps are listed there too, under their address.
    with app.app_context():
        from campus.admin.services import record
        from campus.extensions import db

        member = support.create_user(email="member-acted@example.com")
        record("sign_in", member, summary="signed in", actor=member)
        db.session.commit()
    helpers.sign_in_admin(app, client)
    listing = client.get("/admin/audit/").get_data(as_text=True)
    header = re.search(r'<th class="column-header col-actor_email">(.*?)</th>', listing, re.S)
    assert header and re.sub(r"<[^>]+>|\s+", " ", header.group(1)).split() == ["By"]
    assert "member-acted@example.com" in re.sub(r"<[^>]+>", "", listing)
    # The search box and the filter say the same.
    assert 'placeholder="summary, By, Id, From"' in listing
    assert _filter_name_exists(app, "By") and not _filter_name_exists(app, "Admin")


def _filter_name_exists(app, name: str) -> bool:
    views = (view for admin in app.extensions["admin"] for view in admin._views)
    audit = next(view for view in views if view.endpoint == "admin_audit")
    return any(str(flt.name) == name for flt in audit._filters)


def test_an_entrys_time_wraps_between_date_and_time_never_inside_them(app, client):
    # The narrow When column broke "2026-03-01 05:00:00 UTC" as "2026-03-" / "01" / ...; the
    # export still carries the plain text.
    import csv
    import io
    from datetime import UTC, datetime

    helpers.sign_in_admin(app, client)
    with app.app_context():
        from campus.admin.services import record
        from campus.extensions import db

        entry = record("update", object_type="Course", object_id=1, summary="timed-entry")
        entry.created_at = datetime(2026, 3, 1, 5, 0, tzinfo=UTC)
        db.session.commit()
    page = client.get("/admin/audit/").get_data(as_text=True)
    assert (
        '<span class="keep-together">2026-03-01</span> '
        '<span class="keep-together">05:00:00 UTC</span>' in page
    )
    exported = client.get("/admin/audit/export/csv/")
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    assert "2026-03-01 05:00:00 UTC" in [row["When"] for row in rows]


def test_a_long_action_may_wrap_after_its_underscores_and_dots_only(app, client):
    # As one word "program_credential_issue_again" widened the table past its box at 1280 px;
    # the export still carries the name as stored.
    import csv
    import io

    helpers.sign_in_admin(app, client)
    with app.app_context():
        from campus.admin.services import record
        from campus.extensions import db

        record("program_credential_issue_again", object_type="Credential", object_id=1)
        record("learning.course_saved", object_type="Course", object_id=1)
        db.session.commit()
    page = client.get("/admin/audit/").get_data(as_text=True)
    assert "program_<wbr>credential_<wbr>issue_<wbr>again" in page
    assert "learning.<wbr>course_<wbr>saved" in page
    exported = client.get("/admin/audit/export/csv/")
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    actions = {row["Action"] for row in rows}
    assert {"program_credential_issue_again", "learning.course_saved"} <= actions


def test_an_address_in_the_audit_list_wraps_only_between_its_parts_and_text_stays_escaped():
    # Broken anywhere, an address read "campus.examp" / "le"; the summary is free text.
    from campus.admin.views import wrapped_addresses

    shown = str(wrapped_addresses("ann@campus.example: renamed <b>x</b>"))
    assert shown == (
        '<span class="keep-together">ann@</span><wbr><span class="keep-together">campus.</span>'
        '<wbr><span class="keep-together">example:</span> renamed &lt;b&gt;x&lt;/b&gt;'
    )
    assert str(wrapped_addresses("system")) == "system"

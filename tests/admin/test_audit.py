"""The audit log: one entry per change, filterable, with before and after on its page."""

from __future__ import annotations

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
    assert "comp_grant" in listing and "disable" in listing
    from tests.admin.test_billing import _filter_arg

    arg = _filter_arg(app, "admin_audit", "Action", "equals")
    only = client.get(f"/admin/audit/?{arg}=disable").get_data(as_text=True)
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

"""A deleted member's license numbers leave the audit log, those of licenses removed before too."""

from __future__ import annotations

import json

from sqlalchemy import select

from campus.audit import AuditEntry
from campus.extensions import db
from tests import support


def test_a_license_removed_before_the_deletion_leaves_the_log_with_the_account(app, client):
    from campus.licenses.models import License

    with app.app_context():
        email = support.create_user().email
    support.login(client, email)
    added = support.post_form(
        client,
        "/account/licenses",
        {
            "profession": "massage_therapist",
            "jurisdiction": "ME",
            "number": "MT-3333",
            "expires_on": "2031-01-31",
        },
    )
    assert added.status_code == 302
    with app.app_context():
        license_id = db.session.scalars(select(License.id)).one()
    removed = support.post_form(client, f"/account/licenses/{license_id}/remove", {})
    assert removed.status_code == 302
    deleted = support.post_form(
        client,
        "/account/delete",
        {"password": support.DEFAULT_PASSWORD, "code": "", "confirmation": "DELETE"},
    )
    assert deleted.status_code == 302
    with app.app_context():
        entries = db.session.scalars(
            select(AuditEntry).where(AuditEntry.object_type == "License")
        ).all()
        # The entries stay (an auditor sees a license was added and removed, and when)...
        assert {e.action for e in entries} == {"license_added", "license_removed"}
        # ...but not the number that identifies the licensee at their board.
        kept = json.dumps([[e.summary, e.before, e.after] for e in entries])
        assert "MT-3333" not in kept

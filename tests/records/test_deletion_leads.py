"""A deleted member's download leads leave the audit log as they leave the list."""

from __future__ import annotations

import json

from sqlalchemy import select

from campus.audit import AuditEntry
from campus.extensions import db
from tests import support


def test_an_admins_entry_about_the_members_lead_loses_their_address_and_name(app, client):
    from campus.audit import record, snapshot
    from campus.content.models import Download, Lead

    with app.app_context():
        member = support.create_user(email="lena@example.com", full_name="Lena Okonkwo")
        admin = support.create_user(email="boss@example.com", role="admin")
        download = Download(slug="guide", title="Guide", filename="guide.pdf")
        db.session.add(download)
        db.session.flush()
        lead = Lead(
            download_id=download.id,
            email=member.email,
            name="Lena Okonkwo",
            consent_text="Send me the guide and news.",
            marketing=True,
        )
        db.session.add(lead)
        db.session.flush()
        # What the admin's list deletes log (AuditedModelView.on_model_delete).
        record("delete", lead, before=snapshot(lead), actor=admin)
        db.session.delete(lead)
        db.session.commit()
    support.login(client, "lena@example.com")
    deleted = support.post_form(
        client,
        "/account/delete",
        {"password": support.DEFAULT_PASSWORD, "code": "", "confirmation": "DELETE"},
    )
    assert deleted.status_code == 302
    with app.app_context():
        [entry] = db.session.scalars(
            select(AuditEntry).where(AuditEntry.object_type == "Lead")
        ).all()
        kept = json.dumps([entry.summary, entry.before, entry.after])
        assert "lena@example.com" not in kept and "Okonkwo" not in kept
        assert entry.actor_email == "boss@example.com"  # the admin's entry stays the admin's

"""Download leads off the marketing list, and the guide's emails, go after the retention days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import select

from campus.content.tasks import forget_old_leads_task
from campus.mail.tasks import erase_old_bodies_task
from tests import support
from tests.content.conftest import SLUG

START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def _ask(app, when: datetime, email: str, *, marketing: bool) -> None:
    data = {"name": "Ana Ruiz", "email": email}
    if marketing:
        data["marketing"] = "y"
    with time_machine.travel(when, tick=False):
        response = support.post_form(app.test_client(), f"/articles/downloads/{SLUG}", data)
    assert response.status_code == 200


def _kept(app) -> tuple[list[str], list[str]]:
    """(the leads' addresses, the addresses of the stored emails), sorted."""
    from campus.content.models import Lead
    from campus.extensions import db
    from campus.mail.models import EmailMessage

    with app.app_context():
        return (
            sorted(db.session.scalars(select(Lead.email))),
            sorted(db.session.scalars(select(EmailMessage.to))),
        )


def test_leads_off_the_marketing_list_and_their_emails_go_after_the_retention(app, guide):
    from campus.extensions import db
    from campus.mail.actions import unsubscribe

    _ask(app, START, "no@example.com", marketing=False)
    _ask(app, START, "yes@example.com", marketing=True)
    _ask(app, START, "left@example.com", marketing=True)
    _ask(app, START, "again@example.com", marketing=False)
    _ask(app, START + timedelta(days=50), "again@example.com", marketing=False)
    with app.app_context(), time_machine.travel(START + timedelta(days=60), tick=False):
        assert unsubscribe("left@example.com") == 1
        db.session.commit()

    with app.app_context(), time_machine.travel(START + timedelta(days=90, hours=1), tick=False):
        assert forget_old_leads_task.delay().get() == 1
        # The guide's emails sent that long ago go whole: they hold only the address now.
        assert erase_old_bodies_task.delay().get() == 4
        assert (forget_old_leads_task.delay().get(), erase_old_bodies_task.delay().get()) == (0, 0)
    leads, emails = _kept(app)
    assert leads == ["again@example.com", "left@example.com", "yes@example.com"]
    assert emails == ["again@example.com"]  # the second request's email, still within the days

    # The days run from an unsubscribe, and from the last request; the list's lead stays.
    with app.app_context(), time_machine.travel(START + timedelta(days=141), tick=False):
        assert forget_old_leads_task.delay().get() == 1
        assert erase_old_bodies_task.delay().get() == 1
    assert _kept(app) == (["left@example.com", "yes@example.com"], [])
    with app.app_context(), time_machine.travel(START + timedelta(days=151), tick=False):
        assert forget_old_leads_task.delay().get() == 1
    with app.app_context(), time_machine.travel(START + timedelta(days=3000), tick=False):
        assert forget_old_leads_task.delay().get() == 0
    assert _kept(app) == (["yes@example.com"], [])


def test_a_lead_asking_again_after_being_forgotten_starts_afresh(app, guide):
    from campus.content.models import Lead
    from campus.extensions import db

    _ask(app, START, "ana@example.com", marketing=False)
    with app.app_context(), time_machine.travel(START + timedelta(days=91), tick=False):
        assert forget_old_leads_task.delay().get() == 1
    _ask(app, START + timedelta(days=200), "ana@example.com", marketing=True)
    with app.app_context():
        lead = db.session.scalars(select(Lead)).one()
        assert (lead.requests, lead.marketing) == (1, True)
        assert lead.asked_at.replace(tzinfo=UTC) == lead.consented_at.replace(tzinfo=UTC)
        assert lead.asked_at.replace(tzinfo=UTC) == START + timedelta(days=200)


def test_the_admins_lead_list_says_when_leads_leave_it(app, client, guide):
    from tests.admin import helpers as admin

    app.config["MESSAGE_RETENTION_DAYS"] = 30
    try:
        admin.sign_in_admin(app, client)
        page = client.get("/admin/leads/").text
        other = client.get("/admin/downloads/").text
    finally:
        app.config["MESSAGE_RETENTION_DAYS"] = 90
    assert "is deleted 30 days after its last request" in page
    assert "30 days after unsubscribing" in page
    assert "after its last request" not in other


def test_deleting_a_lead_logs_what_it_had_agreed_to(app, client, guide):
    from campus.content.models import Lead
    from campus.extensions import db
    from tests.admin import helpers as admin

    _ask(app, START, "ana@example.com", marketing=True)
    with app.app_context():
        lead = db.session.scalars(select(Lead)).one()
        lead_id, consent = lead.id, lead.consent_text
    assert consent  # the wording of the consent, kept with the lead
    admin.sign_in_admin(app, client)
    admin.post(client, "/admin/leads/delete/", {"id": lead_id}, follow_redirects=True)
    [entry] = admin.audit_entries(app, action="delete", object_type="Lead")
    # The consent is gone with the lead: the log keeps what it was.
    assert entry.before["consent_text"] == consent


def test_the_outbox_folder_keeps_its_emails_only_for_the_retention(app):
    # The outbox backend wrote one .eml a message, whole, and kept it for good: the body the
    # database erased after MESSAGE_RETENTION_DAYS was still there in the file.
    import os
    import time
    from pathlib import Path

    folder = Path(app.config["INSTANCE_PATH"]) / "outbox"
    folder.mkdir(parents=True, exist_ok=True)
    old, recent = folder / "00000001.eml", folder / "00000002.eml"
    for path in (old, recent):
        path.write_bytes(b"To: someone@example.com\r\n\r\nA body\r\n")
    days = app.config["MESSAGE_RETENTION_DAYS"]
    then = time.time() - (days + 1) * 86400
    os.utime(old, (then, then))
    with app.app_context():
        erase_old_bodies_task.delay().get()
    assert not old.exists() and recent.exists()

"""Marketing email carries a one-click unsubscribe (RFC 8058) that works without signing in."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests import support
from tests.content.test_downloads import _ask


def _unsubscribe_path(message) -> str:
    header = message["List-Unsubscribe"]
    match = re.fullmatch(r"<https?://[^/]+(/unsubscribe/\S+)>", header)
    assert match, header
    return match.group(1)


def _lead(app, email="ana@example.com"):
    from campus.content.models import Lead
    from campus.extensions import db

    with app.app_context():
        lead = db.session.scalar(select(Lead).where(Lead.email == email))
        db.session.expunge_all()
        return lead


def test_a_marketing_email_carries_one_click_unsubscribe_headers_and_link(app, client, guide):
    _ask(client)
    [message] = support.outbox(app)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    path = _unsubscribe_path(message)
    assert path in support.body_of(message)


def test_one_click_post_without_session_or_csrf_unsubscribes_and_confirms(app, client, guide):
    from campus.audit import AuditEntry
    from campus.extensions import db

    _ask(client)
    path = _unsubscribe_path(support.outbox(app)[0])
    mail_client = app.test_client()  # a mail provider: no cookies, no CSRF token
    r = mail_client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert r.status_code == 200 and "You are unsubscribed" in r.get_data(as_text=True)
    assert _lead(app).unsubscribed_at is not None
    with app.app_context():
        [entry] = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "marketing_unsubscribe")
        ).all()
        assert entry.actor_id is None and "ana@example.com" in entry.summary
    runner = app.test_cli_runner()
    assert "ana@example.com" not in runner.invoke(args=["content", "leads-csv"]).output


def test_opening_the_link_asks_to_confirm_and_changes_nothing(app, client, guide):
    _ask(client)
    path = _unsubscribe_path(support.outbox(app)[0])
    r = app.test_client().get(path)
    assert r.status_code == 200 and "Unsubscribe from marketing email?" in r.get_data(as_text=True)
    assert _lead(app).unsubscribed_at is None


@pytest.mark.parametrize("token", ["nonsense", "ImFuYUBleGFtcGxlLmNvbSI.forged"])
def test_a_forged_unsubscribe_token_is_refused_and_changes_nothing(app, client, guide, token):
    _ask(client)
    r = app.test_client().post(f"/unsubscribe/{token}")
    assert r.status_code == 400 and "not valid" in r.get_data(as_text=True)
    assert _lead(app).unsubscribed_at is None


def test_consent_is_recorded_when_given_and_only_a_new_tick_undoes_an_unsubscribe(
    app, client, guide
):
    import time_machine

    from campus.models.base import utcnow

    def on_list() -> bool:
        output = app.test_cli_runner().invoke(args=["content", "leads-csv"]).output
        return "ana@example.com" in output

    _ask(client, marketing=None)
    first = _lead(app)
    assert (first.marketing, first.consent_text, first.consented_at) == (False, "", None)
    assert not on_list()
    # The next day she asks again and ticks the box: her consent is kept with its words.
    later = utcnow() + timedelta(days=1)
    with time_machine.travel(later, tick=False):
        _ask(client)
    lead = _lead(app)
    assert lead.marketing is True and lead.consented_at == later
    assert lead.asked_at == first.asked_at and lead.consented_at > lead.asked_at
    assert "occasional emails" in lead.consent_text and on_list()
    path = _unsubscribe_path(support.outbox(app)[-1])
    app.test_client().post(path, data={"List-Unsubscribe": "One-Click"})
    assert not on_list()
    # Asking for the guide again without the box keeps her off the list...
    _ask(client, marketing=None)
    assert _lead(app).unsubscribed_at is not None and not on_list()
    # ...and ticking it once more is a new consent.
    _ask(client)
    assert _lead(app).unsubscribed_at is None and on_list()


def test_the_admins_lead_list_says_who_agreed_to_marketing_and_who_left(app, client, guide):
    from tests.admin import helpers as admin

    _ask(client, email="ana@example.com")
    _ask(client, email="ben@example.com", marketing=None)
    _ask(client, email="cho@example.com")
    [to_cho] = [m for m in support.outbox(app) if m["To"] == "cho@example.com"]
    app.test_client().post(_unsubscribe_path(to_cho), data={"List-Unsubscribe": "One-Click"})
    admin.sign_in_admin(app, client)
    page = client.get("/admin/leads/")
    assert page.status_code == 200
    rows = {
        email: row
        for row in page.text.split("<tr")[1:]
        for email in ("ana@example.com", "ben@example.com", "cho@example.com")
        if email in row
    }
    today = f"{_lead(app).asked_at:%Y-%m-%d}"
    assert f"agreed {today}" in rows["ana@example.com"]
    assert "did not agree" in rows["ben@example.com"]
    assert f"agreed {today}" not in rows["ben@example.com"]
    assert f"unsubscribed {today}" in rows["cho@example.com"]
    assert "First asked" in page.text and "Consented" not in page.text


def test_the_lead_export_says_each_marketing_answer_in_words(app, client, guide):
    import csv
    import io

    from tests.admin import helpers as admin

    _ask(client, email="ana@example.com")
    _ask(client, email="ben@example.com", marketing=None)
    [to_ana] = support.outbox(app)[:1]
    app.test_client().post(_unsubscribe_path(to_ana), data={"List-Unsubscribe": "One-Click"})
    admin.sign_in_admin(app, client)
    response = client.get("/admin/leads/export/csv/")
    assert response.status_code == 200
    rows = {row["Email"]: row for row in csv.DictReader(io.StringIO(response.text))}
    assert rows["ana@example.com"]["Marketing email"].startswith("unsubscribed ")
    assert rows["ben@example.com"]["Marketing email"] == "did not agree"
    assert rows["ben@example.com"]["Download"] == "Hip and Thigh Stretching Guide"


def test_an_unsubscribe_by_whoever_is_signed_in_names_no_actor(app, client, guide):
    from campus.audit import AuditEntry
    from campus.extensions import db

    _ask(client)
    path = _unsubscribe_path(support.outbox(app)[0])
    with app.app_context():
        other = support.create_user(email="bo@example.com")
        support.sign_in_directly(client, other.id)
    # The signed link is the authority, not the session: whoever happens to be signed in on
    # the browser that opened it did not take Ana off the list.
    r = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert r.status_code == 200
    with app.app_context():
        [entry] = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "marketing_unsubscribe")
        ).all()
        assert (entry.actor_id, entry.actor_email) == (None, "system")

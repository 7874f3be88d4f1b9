"""Marketing email carries a one-click unsubscribe (RFC 8058) that works without signing in."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests import support
from tests.content.test_downloads import SLUG, _ask


@pytest.fixture
def guide(app):
    from campus.content.demo import seed
    from campus.extensions import db

    with app.app_context():
        seed()
        db.session.commit()
    return SLUG


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

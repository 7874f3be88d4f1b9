"""Free downloads: the form, the emailed signed link, the lead, rate limits and the CSV."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
import time_machine

from tests import support
from tests.content.conftest import SLUG


def _ask(client, email="ana@example.com", name="Ana Ruiz", marketing="y"):
    data = {"name": name, "email": email}
    if marketing:
        data["marketing"] = marketing
    return support.post_form(client, f"/articles/downloads/{SLUG}", data)


def _leads(app):
    from campus.content.models import Lead
    from campus.extensions import db

    with app.app_context():
        return [(lead.email, lead.requests) for lead in db.session.scalars(db.select(Lead))]


def test_download_form_asks_for_name_email_and_an_unticked_marketing_consent(client, guide):
    html = client.get(f"/articles/downloads/{guide}").get_data(as_text=True)
    for name in ('name="name"', 'name="email"', 'name="marketing"', 'name="csrf_token"'):
        assert name in html
    [checkbox] = [tag for tag in html.split("<input")[1:] if 'name="marketing"' in tag]
    assert "checked" not in checkbox.split(">")[0]


def test_the_guide_is_sent_without_marketing_consent_and_carries_no_unsubscribe(app, client, guide):
    r = _ask(client, marketing=None)
    assert r.status_code == 200
    [message] = support.outbox(app)
    assert message["List-Unsubscribe"] is None
    assert "unsubscribe" not in support.body_of(message).lower()
    runner = app.test_cli_runner()
    rows = list(csv.reader(io.StringIO(runner.invoke(args=["content", "leads-csv"]).output)))
    assert rows[1:] == []  # not on the marketing list


def test_a_title_holding_a_line_separator_still_gets_its_email_sent(app, client, guide):
    # U+2028 is no control character, so a title pasted with one is taken; an email header
    # cannot hold a line break, and the message failed on every try, never sent.
    from campus.content.models import Download
    from campus.extensions import db
    from campus.mail.models import EmailMessage

    with app.app_context():
        download = db.session.scalars(db.select(Download).filter_by(slug=guide)).one()
        download.title = "Hip and thigh\u2028stretching guide"
        db.session.commit()
    assert _ask(client).status_code == 200
    with app.app_context():
        [status] = db.session.scalars(db.select(EmailMessage.status)).all()
    assert status == "sent"
    [message] = support.outbox(app)
    assert message["Subject"] == "Your download: Hip and thigh stretching guide"


def test_asking_emails_a_signed_link_to_a_real_pdf(app, client, guide):
    from pypdf import PdfReader

    r = _ask(client, email="Ana@Example.com")
    assert r.status_code == 200 and "Check your email" in r.get_data(as_text=True)
    assert _leads(app) == [("ana@example.com", 1)]
    [message] = support.outbox(app)
    assert message["To"] == "ana@example.com"
    link = support.link_in(message)
    with client.get(link) as pdf:  # a file response stays open until closed, as a server does
        assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
        reader = PdfReader(io.BytesIO(pdf.data))
    text = " ".join(page.extract_text() for page in reader.pages)
    assert len(reader.pages) >= 2
    assert "Hip and Thigh Stretching Guide" in text and "hamstring" in text.lower()
    # Where to ask again once the link has expired: the download's own page, on a line alone.
    body = support.body_of(message)
    again = body.split("ask for a new one here:\n", 1)[1].splitlines()[0]
    assert again.endswith(f"/articles/downloads/{guide}") and client.get(again).status_code == 200


def test_the_lead_is_recorded_once_per_email_and_download(app, client, guide):
    assert _ask(client).status_code == 200
    assert _ask(client, email="ANA@example.com ").status_code == 200
    assert _leads(app) == [("ana@example.com", 2)]
    assert len(support.outbox(app)) == 1  # one email a day per address and download


def test_one_mailbox_written_two_ways_is_one_lead(app, client, guide):
    """An accent composed or not, a domain in its own letters or as xn--: one reader."""
    assert _ask(client, email="Zoe\u0301@b\u00fccher.example").status_code == 200
    assert _ask(client, email="zo\u00e9@xn--bcher-kva.example").status_code == 200
    assert _leads(app) == [("zo\u00e9@xn--bcher-kva.example", 2)]
    assert len(support.outbox(app)) == 1


def test_a_long_address_still_gets_its_guide(app, client, guide):
    """A valid address of 200 characters fits its lead; the once-a-day key must fit too."""
    email = f"{'a' * 64}@{'b' * 63}.{'c' * 63}.example"
    assert len(email) > 190
    assert _ask(client, email=email).status_code == 200
    assert _ask(client, email=email).status_code == 200
    assert _leads(app) == [(email, 2)]
    [message] = support.outbox(app)
    assert message["To"] == email


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"email": "not-an-email"}, "valid email"),
        ({"name": ""}, "your name"),
        ({"name": "\x00\x01"}, "your name"),
        # Not empty, yet nothing to read: the email began "Hello ," and the lead had no name.
        ({"name": "\u200b"}, "your name"),
        ({"name": "\u200d \u0301"}, "your name"),
        ({"name": "--"}, "your name"),
    ],
)
def test_bad_requests_change_nothing(app, client, guide, fields, problem):
    r = _ask(client, **fields)
    assert r.status_code == 422
    assert problem in r.get_data(as_text=True)
    assert _leads(app) == []
    assert support.outbox(app) == []


def test_tampered_and_expired_links_are_refused(app, client, guide):
    _ask(client)
    link = support.link_in(support.outbox(app)[0])
    tampered = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")
    r = client.get(tampered)
    assert r.status_code == 400 and "not valid" in r.get_data(as_text=True)
    with time_machine.travel(timedelta(days=8), tick=False):
        r = client.get(link)
    assert r.status_code == 400 and "expired" in r.get_data(as_text=True)


def test_a_link_for_one_download_does_not_open_another(app, client, guide):
    from campus.content.downloads import download_token, save_download
    from campus.extensions import db

    with app.app_context():
        other, _ = save_download(slug="other", title="Other", description="", filename="x.pdf")
        db.session.commit()
        token = download_token(other, "ana@example.com")
    assert client.get(f"/articles/downloads/{guide}/file/{token}").status_code == 400


def test_unknown_download_is_404(client):
    assert client.get("/articles/downloads/nothing").status_code == 404
    assert client.get("/articles/downloads/nothing/file/abc").status_code == 404


def test_download_requests_are_rate_limited(app, client, guide):
    app.config["DOWNLOAD_RATE_LIMIT"] = "2 per minute"
    assert _ask(client, email="a@example.com").status_code == 200
    assert _ask(client, email="b@example.com").status_code == 200
    assert _ask(client, email="c@example.com").status_code == 429
    assert [e for e, _ in _leads(app)] == ["a@example.com", "b@example.com"]


def test_leads_export_as_csv(app, client, guide):
    from sqlalchemy import select

    from campus.audit import AuditEntry
    from campus.content.downloads import save_download
    from campus.extensions import db

    _ask(client, email="ana@example.com")
    _ask(client, email="=cmd@example.com", name="=HYPERLINK(1)")
    with app.app_context():
        other, _ = save_download(slug="other", title="Other", description="", filename="x.pdf")
        from campus.content.models import Lead
        from campus.models.base import utcnow

        db.session.add(
            Lead(
                download_id=other.id,
                email="zed@example.com",
                name="Zed",
                consent_text="ok",
                marketing=True,
                consented_at=utcnow(),
            )
        )
        db.session.commit()
    runner = app.test_cli_runner()
    everything = list(csv.reader(io.StringIO(runner.invoke(args=["content", "leads-csv"]).output)))
    assert everything[0][:3] == ["download", "name", "email"]
    assert [row[2] for row in everything[1:]] == [
        "ana@example.com",
        "'=cmd@example.com",
        "zed@example.com",
    ]
    assert everything[2][1] == "'=HYPERLINK(1)"
    result = runner.invoke(args=["content", "leads-csv", "--download", "other"])
    rows = list(csv.reader(io.StringIO(result.output)))
    assert [row[2] for row in rows[1:]] == ["zed@example.com"]
    with app.app_context():
        summaries = db.session.scalars(
            select(AuditEntry.summary).where(AuditEntry.action == "export").order_by(AuditEntry.id)
        ).all()
    assert summaries == [
        "cli: exported 3 download leads as csv",
        "cli: exported 1 download leads as csv (download 'other')",
    ]


def test_leads_of_a_download_that_does_not_exist_are_refused_not_exported_empty(app, guide):
    """A mistyped slug must not read as "nobody asked for it", nor log an export."""
    from sqlalchemy import func, select

    from campus.audit import AuditEntry
    from campus.extensions import db

    result = app.test_cli_runner().invoke(args=["content", "leads-csv", "--download", "gude"])
    assert result.exit_code == 2
    assert "no download has the slug 'gude'" in result.output
    assert "download,name,email" not in result.output
    with app.app_context():
        exports = select(func.count()).where(AuditEntry.action == "export")
        assert db.session.scalar(exports) == 0

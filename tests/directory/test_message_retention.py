"""A client's message, and the bodies of the emails that carried it, go after the retention days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from celery.schedules import crontab
from sqlalchemy import select

from campus.directory.tasks import delete_old_messages
from campus.mail.tasks import erase_old_bodies_task
from tests import support
from tests.directory.helpers import make_profile, message_fields

START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


@pytest.fixture
def practitioner(app):
    with app.app_context():
        user = support.create_user(email="kept.short@example.org", full_name="Kim Short")
        profile = make_profile("10001", user=user, display_name="Kim Short")
        return profile.id, profile.slug


def _send(app, practitioner, when: datetime, sender: str) -> None:
    profile_id, slug = practitioner
    client = app.test_client()
    with time_machine.travel(when, tick=False):
        client.get(f"/directory/{slug}")
        fields = message_fields(app, profile_id, email=sender)
        response = support.post_form(client, f"/directory/{slug}/contact", fields)
    assert response.status_code == 302


def _senders(app) -> list[str]:
    from campus.directory.models import ContactMessage
    from campus.extensions import db

    with app.app_context():
        return list(db.session.scalars(select(ContactMessage.sender_email)))


def _emails(app) -> list[tuple]:
    """Each stored email, oldest first: (to, subject, has a body, has HTML, reply-to)."""
    from campus.extensions import db
    from campus.mail.models import EmailMessage

    with app.app_context():
        return [
            (m.to, m.subject, bool(m.text_body), m.html_body is not None, m.reply_to)
            for m in db.session.scalars(select(EmailMessage).order_by(EmailMessage.id))
        ]


def test_messages_and_the_bodies_of_sent_emails_go_after_the_retention_days(app, practitioner):
    from campus.directory.models import DirectoryProfile
    from campus.extensions import db

    _send(app, practitioner, START, "early@example.net")
    _send(app, practitioner, START + timedelta(days=80), "late@example.net")
    assert _senders(app) == ["early@example.net", "late@example.net"]
    before = _emails(app)
    assert len(before) == 4 and all(email[2] for email in before)
    assert {email[4] for email in before[:2]} == {"early@example.net", None}

    with app.app_context(), time_machine.travel(START + timedelta(days=90, hours=1), tick=False):
        assert delete_old_messages.delay().get() == 1
        assert erase_old_bodies_task.delay().get() == 2  # the practitioner's and the copy
        # A second run finds nothing more to do.
        assert (delete_old_messages.delay().get(), erase_old_bodies_task.delay().get()) == (0, 0)

    assert _senders(app) == ["late@example.net"]
    after = _emails(app)
    # The practitioner's email keeps its row (to whom, what) without its body and reply-to;
    # the sender's copy, to someone without an account, is gone with their address.
    assert after[0] == (*before[0][:2], False, False, None)
    assert before[1][0] == "early@example.net"
    assert after[1:] == before[2:]
    with app.app_context():
        profile = db.session.get(DirectoryProfile, practitioner[0])
        assert profile.messages_received == 2  # the practitioner's count is not the messages


def test_no_trace_of_the_client_is_left_in_the_mail_after_the_retention_days(app, practitioner):
    """The practitioner's email keeps its subject for good: it must not name the client."""
    _send(app, practitioner, START, "casey@example.net")
    [relayed] = [m for m in support.outbox(app) if m["To"] == "kept.short@example.org"]
    assert "Casey Client" in support.body_of(relayed)  # the name the client typed
    with app.app_context(), time_machine.travel(START + timedelta(days=91), tick=False):
        delete_old_messages.delay().get()
        erase_old_bodies_task.delay().get()
    kept = _emails(app)
    assert len(kept) == 1 and kept[0][0] == "kept.short@example.org"
    assert "Casey" not in repr(kept) and "casey@example.net" not in repr(kept)


def test_an_email_still_to_be_tried_keeps_its_body_and_one_given_up_on_loses_it(app):
    from campus.extensions import db
    from campus.mail.models import EmailMessage
    from campus.mail.services import MAX_ATTEMPTS

    with app.app_context(), time_machine.travel(START, tick=False):
        for subject, status, attempts in (
            ("queued", "queued", 0),
            ("retrying", "failed", MAX_ATTEMPTS - 1),
            ("given up", "failed", MAX_ATTEMPTS),
        ):
            db.session.add(
                EmailMessage(
                    to="wait@example.com",
                    subject=subject,
                    text_body="Hello",
                    html_body="<p>Hello</p>",
                    status=status,
                    attempts=attempts,
                )
            )
        db.session.commit()
    with app.app_context():
        with time_machine.travel(START + timedelta(days=400), tick=False):
            assert erase_old_bodies_task.delay().get() == 1
        rows = db.session.execute(select(EmailMessage.subject, EmailMessage.text_body)).all()
        assert sorted(rows) == [("given up", ""), ("queued", "Hello"), ("retrying", "Hello")]


def test_the_retention_jobs_run_daily_on_the_beat_schedule():
    from workers.schedule import beat_schedule

    schedule = beat_schedule()
    for name in (
        "directory-delete-old-messages",
        "mail-erase-old-bodies",
        "content-forget-old-leads",
    ):
        # Once a day by the clock, so a restarted beat does not push it back a day.
        entry = schedule[name]["schedule"]
        assert isinstance(entry, crontab) and len(entry.hour) == 1 and len(entry.minute) == 1


@pytest.mark.parametrize("days", [0, -5])
def test_a_retention_of_no_days_is_refused_with_the_setting_named(days):
    from campus import preflight

    settings = {"TIME_ZONE": "UTC", "LOG_FORMAT": "text", "MESSAGE_RETENTION_DAYS": days}
    assert preflight.setting_problems(settings) == [
        f"MESSAGE_RETENTION_DAYS={days} must be a whole number of days, 1 or more"
    ]


def test_a_message_the_sweep_may_still_relay_is_kept_whatever_the_retention(app, practitioner):
    from campus.directory import contact
    from campus.directory.models import ContactMessage
    from campus.extensions import db

    with app.app_context():
        message = ContactMessage(
            profile_id=practitioner[0],
            sender_name="Casey",
            sender_email="casey@example.net",
            body="Hello, do you treat shoulder pain?",
            created_at=START,
        )
        db.session.add(message)
        db.session.commit()
        app.config["MESSAGE_RETENTION_DAYS"] = 1
        two_days = START + timedelta(days=2)  # past the retention, within the relay's tries
        assert contact.delete_old_messages(two_days) == 0
        assert contact.delete_old_messages(START + timedelta(days=4)) == 1  # given up on
        db.session.commit()


def test_a_message_after_the_old_ones_were_deleted_still_reaches_the_practitioner(
    app, practitioner
):
    from campus.extensions import db

    _send(app, practitioner, START, "first@example.net")
    with app.app_context(), time_machine.travel(START + timedelta(days=400), tick=False):
        assert delete_old_messages.delay().get() == 1
        erase_old_bodies_task.delay().get()
        db.session.commit()
    # A new message after a quiet spell: the table is empty again (SQLite may hand out the same
    # id), and the practitioner's email about the first one is still on file.
    _send(app, practitioner, START + timedelta(days=401), "second@example.net")
    to_practitioner = [e for e in _emails(app) if e[0] == "kept.short@example.org"]
    assert len(to_practitioner) == 2
    assert to_practitioner[-1][4] == "second@example.net"  # replies go to the new client


def test_a_practical_video_retention_under_a_day_is_refused():
    from campus.preflight import setting_problems

    settings = {"TIME_ZONE": "UTC", "LOG_FORMAT": "text", "PRACTICAL_VIDEO_RETENTION_DAYS": 0}
    assert (
        "PRACTICAL_VIDEO_RETENTION_DAYS=0 must be a whole number of days, 1 or more"
        in setting_problems(settings)
    )

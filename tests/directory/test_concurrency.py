"""Clients writing to one practitioner at once are each counted (PostgreSQL)."""

from __future__ import annotations

import pytest

from tests import support
from tests.directory.helpers import make_profile, stamp_for

pytestmark = pytest.mark.skipif(
    not support.is_postgres(),
    reason="needs PostgreSQL: SQLite serializes every writer, so it cannot show the race",
)


def test_two_clients_writing_at_once_count_two_messages(app, monkeypatch):
    from campus.directory import actions, contact
    from campus.directory.models import DirectoryProfile
    from campus.extensions import db

    with app.app_context():
        profile_id = make_profile("10001").id
    stamp = stamp_for(app, profile_id)
    # Both messages are held until both have read the profile's count.
    support.hold_in_pairs(monkeypatch, contact, "store_message")
    # The relay is not what this counts; sent from these threads, its task would leave Celery
    # believing this process is a worker, and every later `.get()` in it would refuse to run.
    monkeypatch.setattr(contact, "enqueue_after_commit", lambda *args: None)

    def write(name: str) -> None:
        with app.app_context():
            profile = db.session.get_one(DirectoryProfile, profile_id)
            body = "Hello, do you treat shoulder pain from desk work? I live nearby."
            actions.send_message(profile, name, "casey@example.net", body, "", stamp)
            db.session.commit()

    support.run_together([lambda: write("Casey Client"), lambda: write("Sam Client")])
    with app.app_context():
        assert db.session.get_one(DirectoryProfile, profile_id).messages_received == 2


def test_one_message_sent_twice_at_once_is_kept_once(app, monkeypatch):
    from sqlalchemy import select

    from campus.directory import actions, contact
    from campus.directory.models import ContactMessage, DirectoryProfile
    from campus.extensions import db

    with app.app_context():
        profile_id = make_profile("10001").id
    stamp = stamp_for(app, profile_id)
    # Both sends are held until both are checked, so each looks for the other at once.
    support.hold_in_pairs(monkeypatch, contact, "check_message")
    monkeypatch.setattr(contact, "enqueue_after_commit", lambda *args: None)

    def write() -> None:
        with app.app_context():
            profile = db.session.get_one(DirectoryProfile, profile_id)
            body = "Hello, do you treat shoulder pain from desk work? I live nearby."
            actions.send_message(profile, "Casey Client", "casey@example.net", body, "", stamp)
            db.session.commit()

    support.run_together([write, write])
    with app.app_context():
        assert len(db.session.scalars(select(ContactMessage)).all()) == 1
        assert db.session.get_one(DirectoryProfile, profile_id).messages_received == 1

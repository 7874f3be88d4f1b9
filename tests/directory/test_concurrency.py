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


def test_a_first_profile_saved_twice_at_once_is_saved_once(app, monkeypatch):
    """A double click on the first save: both found no profile, and the second answered 500."""
    from sqlalchemy import func, select

    from campus.accounts.models import User
    from campus.directory import actions, services
    from campus.directory.models import DirectoryProfile
    from campus.extensions import db

    with app.app_context():
        user_id = support.create_user(full_name="Robin Reyes").id
    # Both saves are held until both have looked for the member's profile and found none.
    support.hold_in_pairs(monkeypatch, services, "save")
    failures: list[Exception] = []

    def save() -> None:
        with app.app_context():
            data = services.ProfileData(
                display_name="Robin Reyes", zip_code="04101", specialties=["sports-massage"]
            )
            try:
                actions.save_profile(db.session.get_one(User, user_id), data)
                db.session.commit()
            except Exception as exc:  # a thread's error is otherwise lost
                failures.append(exc)

    support.run_together([save, save])
    assert failures == []
    with app.app_context():
        count = select(func.count()).select_from(DirectoryProfile)
        assert db.session.scalar(count.where(DirectoryProfile.user_id == user_id)) == 1


def test_two_namesakes_saving_at_once_get_a_clear_refusal_not_a_500(app, monkeypatch):
    """Both found the address robin-reyes-portland free; the second save answered 500."""
    from campus.accounts.models import User
    from campus.directory import actions, services
    from campus.extensions import db

    with app.app_context():
        user_ids = [
            support.create_user(email=email, full_name="Robin Reyes").id
            for email in ("robin@example.com", "robin.r@example.com")
        ]
    support.hold_in_pairs(monkeypatch, services, "_unused_slug")
    failures: list[Exception] = []

    def save(user_id: int) -> None:
        with app.app_context():
            data = services.ProfileData(
                display_name="Robin Reyes", zip_code="04101", specialties=["sports-massage"]
            )
            try:
                actions.save_profile(db.session.get_one(User, user_id), data)
                db.session.commit()
            except Exception as exc:
                db.session.rollback()
                failures.append(exc)

    support.run_together([lambda: save(user_ids[0]), lambda: save(user_ids[1])])
    (refusal,) = failures
    assert isinstance(refusal, services.DirectoryError) and refusal.status == 409
    assert "save again" in refusal.message
    with app.app_context():
        saved = [services.profile_of(user_id) for user_id in user_ids]
        assert sorted(p is None for p in saved) == [False, True]

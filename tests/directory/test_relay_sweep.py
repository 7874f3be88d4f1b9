"""A stored message whose relay task was lost still reaches the practitioner, once."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select, update

from campus.directory.tasks import sweep_messages
from tests import support
from tests.directory.helpers import make_profile, message_fields

PRACTITIONER_EMAIL = "swept.practitioner@example.org"


@pytest.fixture
def practitioner(app):
    with app.app_context():
        user = support.create_user(email=PRACTITIONER_EMAIL, full_name="Sam Swept")
        profile = make_profile("10001", user=user, display_name="Sam Swept")
        return profile.id, profile.slug


class _Broker:
    """Whether the broker refuses the relay task when a process publishes it."""

    down = True


@pytest.fixture
def broker(monkeypatch):
    """A broker that refuses the relay task (the web process publishes it after the commit)."""
    from kombu.exceptions import OperationalError

    from campus import jobs
    from campus.directory.contact import RELAY_TASK

    state = _Broker()
    real_send = jobs.send_task

    def send(celery_app, name, args=(), kwargs=None):
        if name == RELAY_TASK and state.down:
            raise OperationalError("Error 111 connecting to localhost:6379. Connection refused.")
        real_send(celery_app, name, args, kwargs)

    monkeypatch.setattr(jobs, "send_task", send)
    return state


def _messages(app):
    from campus.directory.models import ContactMessage
    from campus.extensions import db

    with app.app_context():
        return list(db.session.scalars(select(ContactMessage)))


def _later(minutes: float):
    from campus.models.base import utcnow

    return time_machine.travel(utcnow() + timedelta(minutes=minutes), tick=False)


def test_a_message_whose_relay_was_never_sent_is_relayed_by_the_sweep_once(
    app, client, practitioner, broker
):
    profile_id, slug = practitioner
    client.get(f"/directory/{slug}")
    response = support.post_form(
        client, f"/directory/{slug}/contact", message_fields(app, profile_id)
    )
    # The message is stored: the visitor is told so, not shown an error.
    assert response.status_code == 302
    assert "on its way" in client.get(response.headers["Location"]).text
    (message,) = _messages(app)
    assert message.relayed_at is None
    assert support.outbox(app) == []

    # A message just stored may still be in a worker's queue: the sweep leaves it a while.
    assert sweep_messages.delay().get() == 0
    with _later(10):
        # Still down: the sweep finds it, cannot send it either, and keeps it for next time.
        assert sweep_messages.delay().get() == 1
        assert support.outbox(app) == []
        broker.down = False
        assert sweep_messages.delay().get() == 1
        assert sweep_messages.delay().get() == 0
    sent = support.outbox(app)
    assert sorted(m["To"] for m in sent) == ["casey@example.net", PRACTITIONER_EMAIL]
    (message,) = _messages(app)
    assert message.relayed_at is not None


def test_a_relay_that_lost_the_claim_to_another_run_sends_nothing(app, client, practitioner):
    from campus.directory import contact
    from campus.directory.models import ContactMessage
    from campus.extensions import db
    from campus.models.base import utcnow

    profile_id, _slug = practitioner
    with app.app_context():
        message = ContactMessage(
            profile_id=profile_id, sender_name="Casey", sender_email="c@example.net", body="Hi"
        )
        db.session.add(message)
        db.session.commit()
        message_id = message.id
        # This run read the message before another run (the sweep's, the original task's)
        # relayed it and committed: the claim, not the stale row it holds, decides.
        assert db.session.get(ContactMessage, message_id).relayed_at is None
        with db.engine.begin() as other:
            other.execute(
                update(ContactMessage)
                .where(ContactMessage.id == message_id)
                .values(relayed_at=utcnow())
            )
        assert contact.relay(message_id) is False
        db.session.commit()
    assert support.outbox(app) == []


def test_the_sweep_gives_up_on_a_message_older_than_the_give_up_age(
    app, client, practitioner, broker
):
    profile_id, slug = practitioner
    client.get(f"/directory/{slug}")
    support.post_form(client, f"/directory/{slug}/contact", message_fields(app, profile_id))
    broker.down = False
    give_up_minutes = app.config["DIRECTORY_RELAY_GIVE_UP_AFTER"] / 60
    with _later(give_up_minutes + 1):
        assert sweep_messages.delay().get() == 0
    assert support.outbox(app) == []
    (message,) = _messages(app)
    assert message.relayed_at is None


def test_the_sweep_takes_a_bounded_batch_oldest_first(app):
    from campus.directory import contact
    from campus.directory.models import ContactMessage
    from campus.extensions import db
    from campus.models.base import utcnow

    with app.app_context():
        profile = make_profile("10001")
        now = utcnow()
        ids = []
        for minutes in (30, 20, 10):
            message = ContactMessage(
                profile_id=profile.id,
                sender_name="Casey",
                sender_email="c@example.net",
                body="Hello there",
                created_at=now - timedelta(minutes=minutes),
            )
            db.session.add(message)
            db.session.flush()
            ids.append(message.id)
        db.session.commit()
        assert contact.unrelayed_ids(limit=2) == ids[:2]


def test_the_message_sweep_is_on_the_beat_schedule():
    from workers.schedule import beat_schedule

    entry = beat_schedule()["directory-sweep-messages"]
    assert entry["task"] == "campus.directory.sweep_messages"
    assert entry["schedule"] <= 600


@pytest.mark.parametrize("change", [{"contact_enabled": False}, {"listed": False}])
def test_a_late_message_is_not_passed_on_once_the_practitioner_stopped_taking_messages(
    app, client, practitioner, broker, change
):
    from campus.directory.models import DirectoryProfile
    from campus.extensions import db

    profile_id, slug = practitioner
    client.get(f"/directory/{slug}")
    support.post_form(client, f"/directory/{slug}/contact", message_fields(app, profile_id))
    with app.app_context():
        # Contact turned off, or the profile hidden, while the relay task was lost.
        db.session.execute(
            update(DirectoryProfile).where(DirectoryProfile.id == profile_id).values(**change)
        )
        db.session.commit()
    broker.down = False
    with _later(10):
        assert sweep_messages.delay().get() == 1
        assert sweep_messages.delay().get() == 0
    [notice] = support.outbox(app)
    assert notice["To"] == "casey@example.net" and "not passed on" in notice["Subject"]
    assert PRACTITIONER_EMAIL not in str(notice)
    (message,) = _messages(app)
    assert message.relayed_at is not None  # handled: no sweep tries it again


@pytest.mark.parametrize("change", [{"contact_enabled": False}, {"listed": False}])
def test_a_message_not_passed_on_is_not_counted_as_received(
    app, client, practitioner, broker, change
):
    """The practitioner's "Messages received" counts what reached them, not what was refused."""
    from campus.directory.models import DirectoryProfile
    from campus.extensions import db

    profile_id, slug = practitioner

    def write(n: int) -> None:
        client.get(f"/directory/{slug}")
        body = f"Hello, do you treat shoulder pain from desk work? Question {n}."
        support.post_form(
            client, f"/directory/{slug}/contact", message_fields(app, profile_id, message=body)
        )

    for n in range(2):
        write(n)
    broker.down = False
    with _later(10):
        assert sweep_messages.delay().get() == 2  # both relayed: two received
    broker.down = True
    write(2)
    with app.app_context():
        assert db.session.get(DirectoryProfile, profile_id).messages_received == 3
        db.session.execute(
            update(DirectoryProfile).where(DirectoryProfile.id == profile_id).values(**change)
        )
        db.session.commit()
    broker.down = False
    with _later(10):
        assert sweep_messages.delay().get() == 1
        assert sweep_messages.delay().get() == 0
    with app.app_context():
        assert db.session.get(DirectoryProfile, profile_id).messages_received == 2


def test_the_notice_of_a_message_not_passed_on_does_not_carry_what_the_sender_wrote(
    app, client, practitioner, broker
):
    """The form takes any address: a notice repeating the body mailed anyone anything."""
    from campus.directory.models import DirectoryProfile
    from campus.extensions import db

    profile_id, slug = practitioner
    client.get(f"/directory/{slug}")
    body = "Cheap watches at the best prices, reply today for your winnings."
    fields = message_fields(
        app, profile_id, email="victim@example.net", name="Prize Desk", message=body
    )
    support.post_form(client, f"/directory/{slug}/contact", fields)
    with app.app_context():
        db.session.execute(
            update(DirectoryProfile)
            .where(DirectoryProfile.id == profile_id)
            .values(contact_enabled=False)
        )
        db.session.commit()
    broker.down = False
    with _later(10):
        assert sweep_messages.delay().get() == 1
    [notice] = support.outbox(app)
    assert notice["To"] == "victim@example.net"
    text = str(notice) + support.body_of(notice)
    assert "Cheap watches" not in text and "winnings" not in text
    assert "Prize Desk" not in text
    assert "Sam Swept" in support.body_of(notice)  # still says whom it was for


class _WorkerKilled(BaseException):
    """What a task sees of its worker dying mid-run: nothing after it runs, nothing commits."""


def test_a_message_whose_relay_kills_its_worker_is_left_after_a_few_tries(
    app, client, practitioner, broker, monkeypatch
):
    from campus.directory import contact
    from campus.directory.tasks import relay_message
    from campus.extensions import db

    profile_id, slug = practitioner
    client.get(f"/directory/{slug}")
    support.post_form(client, f"/directory/{slug}/contact", message_fields(app, profile_id))
    (message,) = _messages(app)
    calls = []

    def fail(*_args, **_kwargs):
        calls.append("failed")
        raise RuntimeError("mail template unreadable")

    def crash(*_args, **_kwargs):
        calls.append("cut off")
        raise _WorkerKilled

    def relay(expected: type[BaseException]) -> None:
        with app.app_context():
            with pytest.raises(expected):
                relay_message.run(message.id)
            db.session.rollback()  # a dead worker's transaction ends with it

    # Failing relays are tried again by every sweep, as many as they come, until the give-up age.
    monkeypatch.setattr(contact, "queue_email", fail)
    for _ in range(contact.RELAY_CUT_OFF_TRIES + 1):
        relay(RuntimeError)
    with app.app_context(), _later(10):
        assert contact.unrelayed_ids() == [message.id]

    monkeypatch.setattr(contact, "queue_email", crash)
    for _ in range(contact.RELAY_CUT_OFF_TRIES):
        relay(_WorkerKilled)
    assert calls.count("cut off") == contact.RELAY_CUT_OFF_TRIES
    with app.app_context(), _later(10):
        assert contact.unrelayed_ids() == []  # the sweep sends it no more
        assert relay_message.run(message.id) is False  # nor does a late copy relay it
    assert calls.count("cut off") == contact.RELAY_CUT_OFF_TRIES
    (message,) = _messages(app)
    assert message.relayed_at is None

"""Every queued email is delivered exactly once, even when its delivery task was lost."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from campus.models.base import utcnow
from tests import support


def _stored_message(status="queued", age=timedelta(minutes=30), claimed_age=None) -> int:
    """A message as a killed worker leaves it: queued (task lost) or claimed and never sent."""
    from campus.extensions import db
    from campus.mail.models import EmailMessage

    then = utcnow() - age
    message = EmailMessage(
        to="ana@example.com",
        subject="Your certificate is ready",
        text_body="It is ready.",
        status=status,
        created_at=then,
        updated_at=then,
        claimed_at=None if claimed_age is None else utcnow() - claimed_age,
    )
    db.session.add(message)
    db.session.commit()
    return message.id


def _message(message_id):
    from campus.extensions import db
    from campus.mail.models import EmailMessage

    db.session.expire_all()
    return db.session.get(EmailMessage, message_id)


def _count_sends(monkeypatch) -> list[int]:
    from campus.mail import tasks

    sent: list[int] = []
    real = tasks._send
    monkeypatch.setattr(tasks, "_send", lambda m, c: (sent.append(m.id), real(m, c)))
    return sent


def test_the_sweep_delivers_a_message_whose_task_was_lost_exactly_once(app, monkeypatch):
    from campus.mail.tasks import deliver_email, sweep_unsent

    sent = _count_sends(monkeypatch)
    with app.app_context():
        lost = _stored_message()
        assert sweep_unsent() == 1
        assert sweep_unsent() == 0  # a second sweep finds nothing left
        deliver_email(lost)  # the original task, redelivered late, sends nothing
        assert _message(lost).status == "sent"
    assert sent == [lost]
    [message] = support.outbox(app)
    assert message["Subject"] == "Your certificate is ready"


def test_the_sweep_resends_a_claim_of_a_dead_worker_but_not_a_live_one(app, monkeypatch):
    from campus.mail.tasks import sweep_unsent

    sent = _count_sends(monkeypatch)
    with app.app_context():
        dead = _stored_message("sending", claimed_age=timedelta(minutes=20))
        busy = _stored_message("sending", claimed_age=timedelta(seconds=5))
        fresh = _stored_message("queued", age=timedelta(seconds=5))
        assert sweep_unsent() == 1
        assert (_message(dead).status, _message(busy).status) == ("sent", "sending")
        assert _message(fresh).status == "queued"  # its own task is still on the way
    assert sent == [dead]


def test_two_deliverers_cannot_both_claim_one_message(app):
    from campus.mail.tasks import claim

    with app.app_context():
        message_id = _stored_message()
        assert claim(message_id) is not None
        assert claim(message_id) is None
        assert _message(message_id).attempts == 1


def test_a_delivery_failure_is_recorded_and_left_for_a_retry(app, monkeypatch):
    import pytest

    from campus.mail import tasks

    def refuse(_message, _config):
        raise OSError("connection refused")

    monkeypatch.setattr(tasks, "_send", refuse)
    with app.app_context():
        message_id = _stored_message()
        with pytest.raises(tasks._DeliveryFailed):
            tasks.deliver(message_id)
        message = _message(message_id)
        assert (message.status, message.last_error) == ("failed", "connection refused")
        assert tasks.claim(message_id) is not None  # a retry may take it again


def test_a_message_that_cannot_be_sent_fails_alone_and_the_sweep_goes_on(app, monkeypatch):
    from campus.mail import tasks

    real = tasks._send
    with app.app_context():
        broken, fine = _stored_message(), _stored_message()

        def send(message, config):
            if message.id == broken:
                raise ValueError("Header values may not contain linefeed or carriage return")
            real(message, config)

        monkeypatch.setattr(tasks, "_send", send)
        assert tasks.sweep_unsent() == 1
        assert _message(fine).status == "sent"
        message = _message(broken)
        assert (message.status, message.attempts) == ("failed", 1)
        assert "linefeed" in message.last_error


def test_the_mail_sweep_is_on_the_beat_schedule():
    from workers.schedule import beat_schedule

    tasks = {entry["task"] for entry in beat_schedule().values()}
    assert "campus.mail.sweep_unsent" in tasks


def test_queued_mail_is_not_swept_before_its_time(app):
    from campus.extensions import db
    from campus.mail.models import EmailMessage
    from campus.mail.tasks import sweep_unsent

    with app.app_context():
        _stored_message(age=timedelta(minutes=1))
        assert sweep_unsent() == 0
        assert db.session.scalar(select(EmailMessage.status)) == "queued"


class _SMTPServer:
    """A bare SMTP server on a local socket that counts the messages it accepts."""

    def __init__(self, quit_reply: bytes) -> None:
        import socket
        import threading

        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.quit_reply = quit_reply
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn, conn.makefile("rb") as lines:
                conn.sendall(b"220 test\r\n")
                in_data = False
                for line in lines:
                    if in_data:
                        if line == b".\r\n":
                            in_data = False
                            self.accepted += 1
                            conn.sendall(b"250 queued\r\n")
                        continue
                    verb = line[:4].upper()
                    if verb == b"DATA":
                        in_data = True
                        conn.sendall(b"354 go on\r\n")
                    elif verb == b"QUIT":
                        conn.sendall(self.quit_reply)
                        break
                    else:
                        conn.sendall(b"250 ok\r\n")

    def close(self) -> None:
        self.sock.close()


def test_a_message_the_server_took_is_sent_once_whatever_it_answers_to_quit(app):
    from campus.mail import tasks

    server = _SMTPServer(quit_reply=b"250 bye\r\n")  # not the 221 smtplib expects
    app.config.update(
        MAIL_BACKEND="smtp", SMTP_HOST="127.0.0.1", SMTP_PORT=server.port, SMTP_USE_TLS=False
    )
    try:
        with app.app_context():
            message_id = _stored_message()
            assert tasks.deliver(message_id) == 1
            message = _message(message_id)
            assert (message.status, message.last_error) == ("sent", None)
            assert tasks.sweep_unsent() == 0
    finally:
        server.close()
    assert server.accepted == 1


def test_a_sweep_stops_trying_once_the_mail_server_is_unreachable(app, monkeypatch):
    from campus.mail import tasks

    tries: list[int] = []

    def away(message, _config):
        tries.append(message.id)
        raise TimeoutError("timed out")  # each try waits out the connection timeout first

    monkeypatch.setattr(tasks, "_send", away)
    with app.app_context():
        ids = [_stored_message() for _ in range(6)]
        assert tasks.sweep_unsent() == 0
        # A few in a row tell the server is away: the rest wait for the next sweep untouched.
        assert tries == ids[:3]
        assert [_message(i).status for i in ids] == ["failed"] * 3 + ["queued"] * 3
        assert [_message(i).attempts for i in ids[3:]] == [0, 0, 0]


def test_a_sweep_goes_on_past_messages_the_server_refused(app, monkeypatch):
    import smtplib

    from campus.mail import tasks

    tries: list[int] = []

    def refuse(message, _config):
        tries.append(message.id)
        raise smtplib.SMTPRecipientsRefused({message.to: (550, b"no such mailbox")})

    monkeypatch.setattr(tasks, "_send", refuse)
    with app.app_context():
        ids = [_stored_message() for _ in range(5)]
        assert tasks.sweep_unsent() == 0
        assert tries == ids


def test_a_message_whose_worker_died_on_every_try_is_given_up_not_claimed_forever(app, monkeypatch):
    from campus.extensions import db
    from campus.mail.services import MAX_ATTEMPTS
    from campus.mail.tasks import deliver_email, sweep_unsent

    sent = _count_sends(monkeypatch)
    with app.app_context():
        # Each try was claimed and its worker killed while sending: the claims went stale.
        doomed = _stored_message("sending", claimed_age=timedelta(minutes=20))
        last_try = _stored_message("sending", claimed_age=timedelta(minutes=20))
        for message_id, attempts in ((doomed, MAX_ATTEMPTS), (last_try, MAX_ATTEMPTS - 1)):
            _message(message_id).attempts = attempts
            db.session.commit()
        assert sweep_unsent() == 1
        deliver_email(doomed)  # a late copy of its task takes it no more than the sweep
        given_up = _message(doomed)
        assert (given_up.status, given_up.attempts) == ("failed", MAX_ATTEMPTS)
        assert "interrupted" in given_up.last_error
        assert _message(last_try).status == "sent"
        assert sweep_unsent() == 0
    assert sent == [last_try]


def test_a_message_given_up_after_a_killed_last_try_keeps_the_error_its_others_met(app):
    # Eight tries refused by the server, then the ninth's worker killed mid-send: the admin
    # must read why the others failed, not that every try was interrupted.
    from campus.extensions import db
    from campus.mail.services import MAX_ATTEMPTS
    from campus.mail.tasks import sweep_unsent

    with app.app_context():
        message_id = _stored_message("sending", claimed_age=timedelta(minutes=20))
        message = _message(message_id)
        message.attempts = MAX_ATTEMPTS
        message.last_error = "(550, b'Mailbox unavailable')"
        db.session.commit()
        sweep_unsent()
        given_up = _message(message_id)
        assert given_up.status == "failed"
        assert "Mailbox unavailable" in given_up.last_error
        assert f"interrupted {MAX_ATTEMPTS} times" not in given_up.last_error

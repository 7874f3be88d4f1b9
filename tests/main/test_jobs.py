"""enqueue_after_commit: tasks leave only when the outermost transaction commits."""

from __future__ import annotations

from celery import shared_task

from campus.extensions import db
from campus.jobs import enqueue_after_commit

SENT: list[int] = []


@shared_task(name="tests.record_sent")
def record_sent(value: int) -> None:
    SENT.append(value)


def test_task_waits_for_the_outer_commit_not_a_savepoint(app):
    SENT.clear()
    with app.app_context():
        db.session.connection()
        with db.session.begin_nested():
            enqueue_after_commit("tests.record_sent", 1)
        assert SENT == []  # releasing the SAVEPOINT must not send it
        db.session.commit()
        assert SENT == [1]


def test_rolled_back_transaction_sends_nothing(app):
    SENT.clear()
    with app.app_context():
        db.session.connection()
        enqueue_after_commit("tests.record_sent", 2)
        db.session.rollback()
        db.session.commit()
    assert SENT == []


def test_a_task_that_cannot_be_sent_leaves_the_commit_and_the_other_tasks_alone(
    app, monkeypatch, caplog
):
    from kombu.exceptions import OperationalError

    from campus import jobs

    real_send = jobs.send_task

    def broker_refuses_one(celery_app, name, args=(), kwargs=None):
        if args == (4,):
            raise OperationalError("Error 111 connecting to localhost:6379. Connection refused.")
        real_send(celery_app, name, args, kwargs)

    monkeypatch.setattr(jobs, "send_task", broker_refuses_one)
    SENT.clear()
    with app.app_context():
        db.session.connection()
        for value in (3, 4, 5):
            enqueue_after_commit("tests.record_sent", value)
        db.session.commit()  # returns: the rows are stored whatever the broker says
    assert SENT == [3, 5]
    (failure,) = [r for r in caplog.records if r.name == "campus.jobs"]
    assert failure.levelname == "ERROR" and failure.exc_info is not None
    assert "tests.record_sent" in failure.getMessage()

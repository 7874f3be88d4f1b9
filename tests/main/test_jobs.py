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

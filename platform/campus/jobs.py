"""Celery wired the Flask way, and enqueueing that waits for the transaction to commit."""

from __future__ import annotations

from typing import Any

from celery import Celery, Task
from flask import Flask
from sqlalchemy import event
from sqlalchemy.orm import Session

_PENDING = "campus_pending_tasks"


def celery_init_app(app: Flask) -> Celery:
    """Create the Celery app for this Flask app; every task runs inside an app context."""

    class FlaskTask(Task):
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(app.config["CELERY"])
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app


def enqueue_after_commit(task: Task, *args: Any, **kwargs: Any) -> None:
    """Send a task once the current transaction commits, so the worker sees the rows it needs."""
    from campus.extensions import db

    session = db.session()
    session.info.setdefault(_PENDING, []).append((task, args, kwargs))


@event.listens_for(Session, "after_commit")
def _send_pending(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a SAVEPOINT was released: the rows are not committed yet
    pending = session.info.pop(_PENDING, None)
    for task, args, kwargs in pending or ():
        task.apply_async(args=args, kwargs=kwargs)


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, previous_transaction: Any) -> None:
    # A rolled-back change must not trigger work about rows that never existed.
    if previous_transaction.parent is None:
        session.info.pop(_PENDING, None)

"""Celery wired the Flask way, work that waits for the commit, and debounced wake-ups."""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from celery import Celery, Task
from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

_PENDING = "campus_after_commit"  # session.info key: what to do once the change commits
_UNDO = "campus_after_rollback"  # session.info key: what to undo if the change never commits
_WAKE_STORE = "campus_wake_store"
_WAKE_PREFIX = "campus:wake:"
_DELIVERY_PREFIX = "campus:delivery:"


def celery_init_app(app: Flask) -> Celery:
    """Create the Celery app for this Flask app; every task runs inside an app context."""

    class FlaskTask(Task):
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            with app.app_context(), counted_delivery(self) as runs:
                return self.run(*args, **kwargs) if runs else None

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(app.config["CELERY"])
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app


def on_commit(callback: Callable[[], None]) -> None:
    """Run `callback` once the transaction commits; drop it if the transaction rolls back.

    The callback must not raise: the rows are committed whatever happens in it.
    """
    from campus.extensions import db

    db.session().info.setdefault(_PENDING, []).append(callback)


def on_rollback(callback: Callable[[], None]) -> None:
    """Run `callback` if the transaction ends without committing; drop it once it commits.

    For work done outside the database before the commit (a stored file), which only the
    commit's rows refer to. The callback must not raise.
    """
    from campus.extensions import db

    db.session().info.setdefault(_UNDO, []).append(callback)


def enqueue_after_commit(task: str, *args: Any, **kwargs: Any) -> None:
    """Send the task of this name once the transaction commits, so the worker sees its rows.

    Tasks are named, never imported, so services do not depend on the tasks that call them.
    """
    celery_app = current_app.extensions["celery"]
    on_commit(functools.partial(_send_committed, celery_app, task, args, kwargs))


def _send_committed(celery_app: Celery, name: str, args: Any, kwargs: Any) -> None:
    # The rows are committed whatever happens here: a broker that cannot be reached must
    # not turn a stored change into an error for the caller, nor cost the commit's other
    # tasks. Each task's work is recorded in the database, and its beat sweep finds it.
    try:
        send_task(celery_app, name, args, kwargs)
    except Exception:
        log.exception("could not send task %s %r after commit; its sweep will find it", name, args)


def requeue(task: str, found: Iterable[Any], what: str) -> int:
    """Send a task again for each piece of work a sweep found, after committing; return how many.

    `found` holds one id per piece of work, or a tuple of the task's arguments; `what` names
    them in the log line ("3 enrollments").
    """
    from campus.extensions import db

    found = list(found)
    for item in found:
        enqueue_after_commit(task, *(item if isinstance(item, tuple) else (item,)))
    db.session.commit()
    if found:
        log.info("sweep re-enqueued %d %s for %s", len(found), what, task)
    return len(found)


def each_committed(ids: Iterable[Any], work: Callable[[Any], bool], what: str) -> int:
    """Run `work` on each id in a transaction of its own; return how many did something.

    One that raises is rolled back and logged with its id, and the rest still run: a batch job
    that stopped at one bad row would stop at it again on every run after, and nothing behind
    it would ever be done. The failed one is found again by the next run.
    """
    from campus.extensions import db

    done = 0
    for item_id in ids:
        try:
            if work(item_id):
                done += 1
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("%s %s failed", what, item_id)
    return done


def retry_wait(seconds: float) -> int:
    """Return a retry's wait in whole seconds, short of the broker's visibility timeout.

    A retry waits in the worker that took it, unacknowledged, and Redis hands a message nobody
    acknowledged within its visibility timeout (CELERY_VISIBILITY_TIMEOUT) to another worker:
    held longer, the retry would run twice, and a failing run would fork its chain of retries.
    A sixth of the timeout is left for the run itself. Another broker sets no such limit.
    """
    timeout = _visibility_timeout()
    wait = int(seconds)
    if timeout:
        wait = min(wait, int(timeout * 5 // 6))
    return max(wait, 1)


def send_task(celery_app: Celery, name: str, args: Any = (), kwargs: Any = None) -> None:
    """Send a task by name: through its registered task (honouring eager mode), else by name."""
    registered = celery_app.tasks.get(name)
    if registered is not None:
        registered.apply_async(args=args, kwargs=kwargs)
    else:
        # A process that did not import the task (it lives in the worker) still sends it.
        celery_app.send_task(name, args=args, kwargs=kwargs)


@event.listens_for(Session, "after_commit")
def _run_pending(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a SAVEPOINT was released: the rows are not committed yet
    session.info.pop(_UNDO, None)
    for callback in session.info.pop(_PENDING, None) or ():
        callback()


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, previous_transaction: Any) -> None:
    # A rolled-back change must not trigger work about rows that never existed (nor delete
    # the files of rows that were not deleted).
    if previous_transaction.parent is None:
        session.info.pop(_PENDING, None)


@event.listens_for(Session, "after_transaction_end")
def _undo_uncommitted(session: Session, transaction: Any) -> None:
    # The outermost transaction ended without a commit (rolled back, or the session closed
    # after a failed commit): what was done outside it for its rows is undone.
    if transaction.parent is None:
        for callback in session.info.pop(_UNDO, None) or ():
            callback()


# --- messages that kill their worker ---------------------------------------------------------


@contextlib.contextmanager
def counted_delivery(task: Task) -> Iterator[bool]:
    """Count this delivery of the task's message; yield False once past CELERY_MAX_DELIVERIES.

    Tasks are acknowledged late, so a message whose run kills its worker (a crash, the OOM
    killer) is handed out again each time, and would be forever. Each try of a task (its id and
    retry number) is counted in the broker's Redis before it runs, and forgotten once the run
    ends however it ends: only runs cut off by their worker's death add up. Past the limit the
    message is logged and acknowledged without running. Its work is recorded in the database,
    so the task's sweep (or an admin) still finds it. With another broker, or eager tasks,
    nothing is counted.
    """
    request = task.request
    limit = current_app.config.get("CELERY_MAX_DELIVERIES") or 0
    store = _wake_store() if limit > 0 and request.id and not request.is_eager else None
    if store is None:
        yield True
        return
    key = f"{_DELIVERY_PREFIX}{request.id}:{request.retries or 0}"
    try:
        pipe = store.pipeline()
        pipe.incr(key)
        # A whole worker killed is redelivered only after the visibility timeout: keep the
        # count long enough to see the limit's worth of those.
        pipe.expire(key, (limit + 1) * (_visibility_timeout() or 3600))
        deliveries = int(pipe.execute()[0])
    except Exception:
        # Counting is a safeguard: a broker hiccup must not stop the task itself.
        log.warning("could not count the deliveries of task %s", request.id, exc_info=True)
        yield True
        return
    if deliveries > limit:
        log.error(
            "task %s[%s] %r given up after %d deliveries that never finished; "
            "its sweep will find the work",
            task.name,
            request.id,
            request.args,
            deliveries - 1,
        )
        _record_given_up(task.name, request.id, request.args, deliveries - 1)
        yield False
        return
    try:
        yield True
    finally:
        with contextlib.suppress(Exception):
            store.delete(key)


def _record_given_up(name: str, task_id: str, args: Any, deliveries: int) -> None:
    """Leave an audit entry for admins naming the task given up on; only log if it cannot."""
    from campus import audit
    from campus.extensions import db

    try:
        audit.record(
            "task_given_up",
            object_type="task",
            object_id=task_id[:60],
            summary=f"{name}{tuple(args or ())!r}: {deliveries} deliveries never finished",
            system=True,
        )
        db.session.commit()
    except Exception:
        db.session.rollback()
        log.exception("could not record that task %s was given up", task_id)


def _visibility_timeout() -> int | None:
    """Return the broker's visibility timeout in seconds, or None when it sets none."""
    options = current_app.extensions["celery"].conf.get("broker_transport_options") or {}
    timeout = options.get("visibility_timeout")
    return int(timeout) if timeout else None


# --- debounced wake-ups ------------------------------------------------------------------------


def wake_once(task: str, name: str, ttl: int) -> bool:
    """Send the task named `task` unless a wake-up `name` is pending; False if none can be kept.

    The pending mark is a Redis key (SET NX EX) in the broker's Redis: the task must call
    `clear_wake(name)` before it looks for work, so whatever was stored before a caller found the
    mark set is seen by that run. The expiry bounds how long a lost message can mute wake-ups.
    With another broker, or eager tasks, nothing is kept and the caller sends its work itself.
    """
    store = _wake_store()
    if store is None:
        return False
    if not store.set(_WAKE_PREFIX + name, b"1", nx=True, ex=ttl):
        return True
    try:
        send_task(current_app.extensions["celery"], task)
    except Exception:
        # Unmute at once rather than at the expiry: the next caller may get through.
        store.delete(_WAKE_PREFIX + name)
        raise
    return True


def clear_wake(name: str) -> None:
    """Forget a pending wake-up: the next `wake_once(name)` sends the task again."""
    store = _wake_store()
    if store is not None:
        store.delete(_WAKE_PREFIX + name)


def _wake_store() -> Any:
    """Return this thread's client of the broker's Redis, or None (another broker, eager tasks)."""
    extensions = current_app.extensions
    if _WAKE_STORE not in extensions:
        conf = extensions["celery"].conf
        url = conf.broker_url or ""
        use_redis = not conf.task_always_eager and url.startswith(("redis://", "rediss://"))
        extensions[_WAKE_STORE] = _ThreadRedis(url) if use_redis else None
    store = extensions[_WAKE_STORE]
    return store.client if store is not None else None


class _ThreadRedis(threading.local):
    """A Redis client with one connection of its own in each thread that asks for it."""

    def __init__(self, url: str) -> None:
        import redis

        # A pooled client probes the socket it checks out (three more system calls per command,
        # a quarter of a wake-up's cost); a thread's own connection needs no probe.
        self.client = redis.Redis.from_url(
            url, socket_timeout=5, socket_connect_timeout=5, single_connection_client=True
        )

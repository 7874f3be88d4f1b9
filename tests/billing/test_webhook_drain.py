"""Stored webhook events reach the worker: the debounced drain, its sweep and the fallbacks.

With a Redis broker the web process wakes one drain task for many events; with the SQLite
broker (the embedded default) it sends one task per event. Either way every stored event is
processed exactly once. The tests marked `worker` use the real worker, database and broker.
"""

from __future__ import annotations

import json
import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, select, text

from campus.billing import tasks
from campus.billing.models import StripeCustomer, Subscription, WebhookEvent
from campus.billing.stripe_api import SIMULATED_PRICE_ID, PaymentProviderError
from campus.extensions import db
from campus.mail.models import EmailMessage
from campus.models.base import utcnow
from tests import support
from tests.billing.fake_stripe import event, invoice, new_id, post_event, subscription

needs_redis = pytest.mark.skipif(
    not support.using_real_services(), reason="the debounced wake-up needs PostgreSQL and Redis"
)


def _members(app, count: int) -> list[tuple[int, str]]:
    """Users with a Stripe customer each: [(user_id, customer_id)]."""
    with app.app_context():
        members = []
        for _ in range(count):
            user = _user()
            customer_id = new_id("cus")
            db.session.add(StripeCustomer(user_id=user.id, stripe_customer_id=customer_id))
            members.append((user.id, customer_id))
        db.session.commit()
        return members


def _user():
    from campus.accounts.models import User

    n = new_id("u")
    user = User(email=f"{n}@example.com", password_hash="not-a-hash", full_name=f"Member {n}")
    db.session.add(user)
    db.session.flush()
    return user


def _sub(sub_id: str, customer_id: str, **kwargs) -> dict:
    """A membership subscription the worker accepts (the simulator's price: no Stripe keys)."""
    return subscription(sub_id, customer_id, price=SIMULATED_PRICE_ID, **kwargs)


def _store(app, evt: dict, *, age: timedelta = timedelta(0)) -> int:
    """Store an event as the intake does, but wake nothing (a lost wake-up)."""
    with app.app_context():
        stamp = utcnow() - age
        row = WebhookEvent(
            stripe_event_id=evt["id"],
            type=evt["type"],
            created=evt["created"],
            payload=json.dumps(evt),
            created_at=stamp,
            updated_at=stamp,
        )
        db.session.add(row)
        db.session.commit()
        return row.id


def _rows(app) -> dict[str, WebhookEvent]:
    with app.app_context():
        rows = db.session.scalars(select(WebhookEvent)).all()
        db.session.expunge_all()
        return {row.stripe_event_id: row for row in rows}


def _settled(app, event_ids) -> bool:
    rows = _rows(app)
    return all(
        rows.get(event_id) is not None and rows[event_id].status in ("processed", "ignored")
        for event_id in event_ids
    )


def _tasks_received(worker, name: str) -> int:
    """How many tasks of this name the worker has received since it started (its log)."""
    pattern = rf"Task {re.escape(name)}\[[^\]]+\] received"
    return len(re.findall(pattern, worker.log_path.read_text()))


# --- the drain itself (inline) -----------------------------------------------------------------


def test_drain_processes_received_events_oldest_first_and_records_a_failure(
    stripe_app, fake_stripe
):
    with stripe_app.app_context():
        user_id = support.create_user().id
        db.session.add(StripeCustomer(user_id=user_id, stripe_customer_id="cus_a"))
        db.session.commit()
    fake_stripe.fail_paths.add("/v1/subscriptions/sub_gone")
    first = event("customer.subscription.created", subscription("sub_a", "cus_a"))
    failing = event("invoice.paid", invoice("sub_gone", "cus_a", paid=True))
    last = event("customer.subscription.updated", subscription("sub_a", "cus_a", status="past_due"))
    ids = [_store(stripe_app, evt) for evt in (first, failing, last)]

    with stripe_app.app_context():
        assert tasks.drain_webhook_events.apply().get() == 3
    rows = _rows(stripe_app)
    assert [rows[e["id"]].status for e in (first, failing, last)] == [
        "processed",
        "failed",
        "processed",
    ]
    assert all(row.attempts == 1 for row in rows.values())
    assert rows[failing["id"]].last_error
    done = sorted((rows[e["id"]] for e in (first, last)), key=lambda row: row.processed_at)
    assert [row.id for row in done] == [ids[0], ids[2]]
    with stripe_app.app_context():
        sub = db.session.scalar(select(Subscription).where(Subscription.user_id == user_id))
        assert sub.status == "past_due"
        # Nothing left: a second drain finds no work.
        assert tasks.drain_webhook_events.apply().get() == 0


def test_event_that_fails_in_a_drain_is_retried_by_its_own_task(
    stripe_app, fake_stripe, monkeypatch
):
    fake_stripe.fail_paths.add("/v1/subscriptions/sub_gone")
    failing = event("invoice.paid", invoice("sub_gone", "cus_a", paid=True))
    row_id = _store(stripe_app, failing)
    sent = []
    monkeypatch.setattr(
        tasks.process_webhook_event, "apply_async", lambda **options: sent.append(options)
    )
    with stripe_app.app_context():
        assert tasks.drain_webhook_events.run() == 1  # as the worker runs it, not inline
    [options] = sent
    assert options["args"] == (row_id,) and options["retries"] == 1
    assert 8 <= options["countdown"] <= 12  # the first step of the usual backoff
    row = _rows(stripe_app)[failing["id"]]
    assert row.status == "failed" and row.attempts == 1 and row.last_error


@pytest.mark.parametrize("jitter", [0.8, 1.2])
def test_no_retry_of_an_event_waits_past_the_brokers_visibility_timeout(app, monkeypatch, jitter):
    # Redis hands a message nobody acknowledged within the visibility timeout (an hour) to
    # another worker: a retry held longer would run twice and fork its chain of retries.
    monkeypatch.setattr(tasks.random, "uniform", lambda _low, _high: jitter)
    monkeypatch.setitem(
        app.extensions["celery"].conf, "broker_transport_options", {"visibility_timeout": 3600}
    )
    with app.app_context():
        retries = range(tasks.process_webhook_event.max_retries)
        waits = [tasks._backoff(n) for n in retries]
    # With room to run: the wait and the processing both count against the timeout.
    assert max(waits) <= 3000
    assert waits == sorted(waits)


def test_long_backlog_is_handed_to_a_fresh_drain(app, monkeypatch):
    monkeypatch.setattr(tasks, "DRAIN_BATCH", 2)
    evts = [event("ping", {"id": f"x{n}", "object": "thing"}) for n in range(5)]
    for evt in evts:
        _store(app, evt)
    with app.app_context():
        assert tasks.drain_webhook_events.apply().get() == 2  # then the next runs take the rest
    assert _settled(app, [e["id"] for e in evts])


def test_sweep_drains_only_events_that_waited_too_long(app):
    fresh = event("ping", {"id": "x", "object": "thing"})
    _store(app, fresh)
    with app.app_context():
        assert tasks.sweep_webhook_events.apply().get() is False
    assert _rows(app)[fresh["id"]].status == "received"

    stale = event("ping", {"id": "y", "object": "thing"})
    _store(app, stale, age=tasks.SWEEP_AFTER + timedelta(seconds=5))
    with app.app_context():
        assert tasks.sweep_webhook_events.apply().get() is True
    # The sweep's drain takes every received event, the fresh one too.
    assert _settled(app, [fresh["id"], stale["id"]])


class _WorkerKilled(BaseException):
    """What the drain sees of its worker dying mid-event: nothing after it runs, nothing commits."""


def test_an_event_that_kills_every_drain_is_given_up_and_the_ones_behind_it_go_through(
    app, monkeypatch
):
    from campus.billing import claims, events

    def crash(_event):
        raise _WorkerKilled

    monkeypatch.setitem(events._HANDLERS, "poison.crash", crash)
    poison = event("poison.crash", {"id": "p", "object": "thing"})
    behind = event("ping", {"id": "b", "object": "thing"})
    for evt in (poison, behind):
        _store(app, evt)
    with app.app_context():
        for _ in range(6):
            try:
                tasks.drain_webhook_events.run()
            except _WorkerKilled:
                db.session.rollback()  # the dead worker's transaction ends with it
            # Its claim is as old as a dead one gets before the next drain.
            db.session.execute(
                text("UPDATE webhook_events SET updated_at = :then WHERE status = 'processing'"),
                {"then": utcnow() - claims.CLAIM_TIMEOUT - timedelta(seconds=1)},
            )
            db.session.commit()
    rows = _rows(app)
    assert rows[behind["id"]].status == "ignored"  # the queue behind it moved on
    given_up = rows[poison["id"]]
    assert (given_up.status, given_up.attempts) == ("failed", claims.CLAIMED_TRIES)
    assert "cut off" in given_up.last_error  # kept, failed: reconcile and replay still reach it


def test_the_sweep_gives_up_an_event_whose_last_claimed_try_was_cut_off(app):
    from campus.billing import claims

    evt = event("ping", {"id": "cut", "object": "thing"})
    row_id = _store(app, evt)
    with app.app_context():
        # Claimed for its last try, then its worker died: nothing else waits.
        db.session.execute(
            text(
                "UPDATE webhook_events SET status = 'processing', attempts = :tries, "
                "cut_off_tries = :tries, updated_at = :then WHERE id = :id"
            ),
            {
                "tries": claims.CLAIMED_TRIES,
                "then": utcnow() - claims.CLAIM_TIMEOUT - timedelta(seconds=1),
                "id": row_id,
            },
        )
        db.session.commit()
        assert tasks.sweep_webhook_events.apply().get() is True
    row = _rows(app)[evt["id"]]
    assert row.status == "failed" and "cut off" in row.last_error


def _drain_killed(app) -> None:
    """A drain whose worker dies in the event it took, and the claim it leaves, aged."""
    from campus.billing import claims

    with app.app_context():
        try:
            tasks.drain_webhook_events.run()
        except _WorkerKilled:
            db.session.rollback()  # the dead worker's transaction ends with it
        db.session.execute(
            text("UPDATE webhook_events SET updated_at = :then WHERE status = 'processing'"),
            {"then": utcnow() - claims.CLAIM_TIMEOUT - timedelta(seconds=1)},
        )
        db.session.commit()


def test_a_replayed_event_gets_every_claimed_try_again(app, monkeypatch):
    from campus.billing import actions, claims, events

    calls = []

    def fail(_event):
        calls.append("failed")
        raise PaymentProviderError("Stripe timed out")

    def crash(_event):
        calls.append("cut off")
        raise _WorkerKilled

    monkeypatch.setitem(events._HANDLERS, "poison.crash", fail)
    evt = event("poison.crash", {"id": "r", "object": "thing"})
    row_id = _store(app, evt)
    # Tries failing as Stripe is away, retried with backoff and by reconcile, as many as they come.
    for _ in range(claims.CLAIMED_TRIES + 2):
        assert tasks.process_webhook_event.apply(args=(row_id,)).get() == "failed"
    _drain_killed(app)  # nothing received: a failed event is not the drain's
    row = _rows(app)[evt["id"]]
    assert (row.status, row.attempts) == ("failed", claims.CLAIMED_TRIES + 2)

    # Replayed by an admin, it is cut off by every drain's death: each claimed try is its own.
    monkeypatch.setitem(events._HANDLERS, "poison.crash", crash)
    with app.app_context():
        actions.replay_event(db.session.get_one(WebhookEvent, row_id), actor=None, queue=False)
        db.session.commit()
    for tries in range(1, claims.CLAIMED_TRIES + 1):
        _drain_killed(app)
        assert calls.count("cut off") == tries
        assert _rows(app)[evt["id"]].status == "processing"  # taken again by the next drain
    _drain_killed(app)
    assert calls.count("cut off") == claims.CLAIMED_TRIES
    row = _rows(app)[evt["id"]]
    assert row.status == "failed" and "cut off" in row.last_error

    # Replayed again, it has them all once more, and a claimed try that fails is no cut-off.
    monkeypatch.setitem(events._HANDLERS, "poison.crash", fail)
    with app.app_context():
        actions.replay_event(db.session.get_one(WebhookEvent, row_id), actor=None, queue=False)
        db.session.commit()
        assert tasks.drain_webhook_events.run() == 1
    row = _rows(app)[evt["id"]]
    assert (row.status, row.last_error) == ("failed", "PaymentProviderError: Stripe timed out")
    # Every try is still counted: the failing ones, those cut off, the drain's and its retry.
    assert (row.attempts, row.cut_off_tries) == (2 * claims.CLAIMED_TRIES + 4, 0)


def test_an_event_whose_own_task_kills_its_worker_is_given_up_and_not_requeued(app, monkeypatch):
    import time

    import time_machine

    from campus.billing import claims, events

    calls = []

    def fail(_event):
        calls.append("failed")
        raise PaymentProviderError("Stripe timed out")

    def crash(_event):
        calls.append("cut off")
        raise _WorkerKilled

    monkeypatch.setitem(events._HANDLERS, "poison.crash", fail)
    evt = event("poison.crash", {"id": "own", "object": "thing"})
    row_id = _store(app, evt)
    assert tasks.process_webhook_event.apply(args=(row_id,)).get() == "failed"

    # Its retries, and reconcile's requeues of it, die with their worker: failed, it is not
    # the drain's, and each would kill a worker every hour for good.
    monkeypatch.setitem(events._HANDLERS, "poison.crash", crash)
    with app.app_context():
        for _ in range(claims.CLAIMED_TRIES):
            try:
                tasks.process_webhook_event.run(row_id)
            except _WorkerKilled:
                db.session.rollback()  # the dead worker's transaction ends with it
        assert tasks.process_webhook_event.run(row_id) == "failed"  # its next copy
    assert calls.count("cut off") == claims.CLAIMED_TRIES  # not processed again
    row = _rows(app)[evt["id"]]
    assert row.status == "failed" and "cut off" in row.last_error
    with time_machine.travel(time.time() + 3600, tick=False), app.app_context():
        assert tasks.reconcile.apply().get()["requeued"] == 0
    assert calls.count("cut off") == claims.CLAIMED_TRIES


# --- through the real worker -------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.worker
def test_burst_of_events_is_processed_exactly_once_by_the_worker(live_app, worker):
    members = _members(live_app, 40)
    evts = []
    for _user_id, customer_id in members:
        sub_id = new_id("sub")
        now = int(utcnow().timestamp())
        evts += [
            event("customer.subscription.created", _sub(sub_id, customer_id), now),
            event(
                "customer.subscription.updated",
                _sub(sub_id, customer_id, status="past_due"),
                now + 1,
            ),
            event(
                "customer.subscription.deleted",
                _sub(sub_id, customer_id, status="canceled"),
                now + 2,
            ),
        ]
    deliveries = evts + evts[::7]  # some twice
    drains, singles = (
        _tasks_received(worker, "campus.billing.drain_webhook_events"),
        _tasks_received(worker, "campus.billing.process_webhook_event"),
    )

    statuses: list[int] = []

    def post_share(share: list[dict]) -> None:
        client = live_app.test_client()
        statuses.extend(post_event(client, evt).status_code for evt in share)

    # Four posters at once, like concurrent deliveries: wake-ups race each other and the drains.
    posters = [threading.Thread(target=post_share, args=(deliveries[i::4],)) for i in range(4)]
    for poster in posters:
        poster.start()
    for poster in posters:
        poster.join()
    assert statuses == [200] * len(deliveries)

    support.wait_for(
        lambda: _settled(live_app, [e["id"] for e in evts]),
        timeout=90,
        message="the worker to process every event",
    )
    rows = _rows(live_app)
    assert len(rows) == len(evts)
    assert all(row.attempts == 1 for row in rows.values())  # each processed exactly once
    with live_app.app_context():
        subs = db.session.execute(select(Subscription.stripe_subscription_id, Subscription.status))
        assert {status for _sub_id, status in subs} == {"canceled"}
        ended = {
            f"billing:ended:{sub_id}"
            for (sub_id,) in db.session.execute(select(Subscription.stripe_subscription_id))
        }
        assert len(ended) == len(members)
        support.wait_for(
            lambda: sorted(db.session.scalars(select(EmailMessage.dedupe_key))) == sorted(ended),
            message="one membership-ended email per member",
        )
    if support.using_real_services():
        # Debounced: no task per event, and far fewer drains than events.
        sent_drains = _tasks_received(worker, "campus.billing.drain_webhook_events") - drains
        assert _tasks_received(worker, "campus.billing.process_webhook_event") == singles
        assert 1 <= sent_drains < len(evts) // 2


@pytest.mark.slow
@pytest.mark.worker
def test_sweep_processes_an_event_whose_wake_up_was_lost(live_app):
    [(_user_id, customer_id)] = _members(live_app, 1)
    evt = event("customer.subscription.created", _sub("sub_lost", customer_id))
    _store(live_app, evt, age=tasks.SWEEP_AFTER + timedelta(seconds=1))
    with live_app.app_context():
        tasks.sweep_webhook_events.delay()  # what beat sends every minute
    support.wait_for(lambda: _settled(live_app, [evt["id"]]), message="the sweep's drain")
    assert _rows(live_app)[evt["id"]].status == "processed"


@needs_redis
@pytest.mark.worker
def test_event_stored_while_a_drain_runs_is_not_stranded(live_app):
    (_, customer_a), (_, customer_b) = _members(live_app, 2)
    with live_app.app_context():
        user_a = db.session.scalar(
            select(StripeCustomer.user_id).where(StripeCustomer.stripe_customer_id == customer_a)
        )
        support.make_member(user_a, stripe_subscription_id="sub_a", stripe_customer_id=customer_a)
    client = live_app.test_client()
    blocked = event("customer.subscription.updated", _sub("sub_a", customer_a, status="past_due"))
    later = event("customer.subscription.created", _sub("sub_b", customer_b))

    # Hold sub_a's row lock, so the drain that takes `blocked` waits in the middle of it.
    engine = create_engine(live_app.config["SQLALCHEMY_DATABASE_URI"])
    with engine.connect() as holder:
        holder.execute(
            select(Subscription.id)
            .where(Subscription.stripe_subscription_id == "sub_a")
            .with_for_update()
        )
        assert post_event(client, blocked).status_code == 200
        support.wait_for(
            lambda: _waiting_on_a_lock(engine), message="the drain to wait for the lock"
        )
        # Stored while that drain runs (it has cleared the wake-up and holds `blocked`).
        assert post_event(client, later).status_code == 200
        support.wait_for(
            lambda: _settled(live_app, [later["id"]]), message="the later event to be processed"
        )
        assert (
            _rows(live_app)[blocked["id"]].status == "processing"
        )  # claimed by the drain that waits
        holder.rollback()
    engine.dispose()
    support.wait_for(lambda: _settled(live_app, [blocked["id"]]), message="the blocked event")
    rows = _rows(live_app)
    assert rows[blocked["id"]].attempts == rows[later["id"]].attempts == 1


def _waiting_on_a_lock(engine) -> bool:
    with engine.connect() as conn:
        return bool(
            conn.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE wait_event_type = 'Lock' AND datname = current_database()"
                )
            )
        )


@needs_redis
@pytest.mark.worker
def test_stripes_retry_of_a_stored_event_wakes_the_drain(live_app):
    [(_user_id, customer_id)] = _members(live_app, 1)
    evt = event("customer.subscription.created", _sub("sub_retry", customer_id))
    _store(live_app, evt)  # stored, but the answer (and the wake-up) was lost
    response = post_event(live_app.test_client(), evt)
    assert response.status_code == 200 and response.get_json()["duplicate"] is True
    support.wait_for(lambda: _settled(live_app, [evt["id"]]), message="the drain")


@needs_redis
@pytest.mark.worker
def test_lost_drain_message_mutes_wake_ups_only_until_the_mark_expires(live_app):
    import redis

    from campus.jobs import _WAKE_PREFIX

    store = redis.Redis.from_url(live_app.config["CELERY"]["broker_url"])
    key = _WAKE_PREFIX + tasks.DRAIN_WAKE
    [(_user_id, customer_id)] = _members(live_app, 1)
    first = event("customer.subscription.created", _sub("sub_m", customer_id))
    second = event("invoice.payment_failed", invoice("sub_m", customer_id, paid=False))
    client = live_app.test_client()

    store.set(key, b"1", px=800)  # a drain was sent, and its message lost
    assert post_event(client, first).status_code == 200
    support.wait_for(lambda: not store.exists(key), message="the mark to expire")
    assert _rows(live_app)[first["id"]].status == "received"  # nobody was woken
    assert post_event(client, second).status_code == 200
    support.wait_for(
        lambda: _settled(live_app, [first["id"], second["id"]]), message="one drain for both"
    )

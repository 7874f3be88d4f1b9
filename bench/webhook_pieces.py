"""Time each piece of a webhook intake in-process, on PostgreSQL + Redis.

Where does POST /webhooks/stripe spend its time? Each piece runs N times on its own, then whole
requests go through the app's WSGI callable, so the pieces can be set against the total. One
thread: this measures cost, not contention (bench/webhooks.py measures throughput). Figures are
the median and p99 of wall time per call and the mean CPU time of this process per call, in
microseconds; the database and Redis spend their own CPU besides.

    .venv/bin/python bench/webhook_pieces.py [--n 2000]

Uses BENCH_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/campus_bench_wh) and
BENCH_BROKER_URL (default redis://127.0.0.1:6379/7); the database is rebuilt from the migrations.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import webhooks as wh  # noqa: E402

DB_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/campus_bench_wh"
)
BROKER = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/7")


def timed(name: str, n: int, setup: Callable[[int], object], piece: Callable[[object], object]):
    """Run piece(setup(i)) n times; print the median and p99 wall time and the mean CPU time."""
    samples, cpu = [], 0.0
    for i in range(n):
        arg = setup(i)
        cpu_start, started = time.process_time(), time.perf_counter()
        piece(arg)
        samples.append((time.perf_counter() - started) * 1e6)
        cpu += time.process_time() - cpu_start
    samples.sort()
    print(
        f"  {name:<55} {statistics.median(samples):7.0f}  p99 {samples[int(n * 0.99) - 1]:7.0f}"
        f"   cpu {cpu / n * 1e6:6.0f}",
        flush=True,
    )


def bodies(n: int, tag: str) -> list[tuple[str, str]]:
    """Pre-signed (signature, payload) pairs, each a new event id."""
    now = int(time.time())
    out = []
    for i in range(n):
        obj = wh.sub_object(f"sub_{tag}{i}", f"cus_unknown{i}", "active", now + 86400, 0)
        payload = json.dumps(wh.event(i, "customer.subscription.updated", obj, now, tag))
        out.append((wh.sign(payload, now), payload))
    return out


def environ(signature: str, payload: str) -> dict:
    """A WSGI environ for one webhook POST."""
    data = payload.encode()
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/webhooks/stripe",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(data),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(data)),
        "HTTP_STRIPE_SIGNATURE": signature,
    }


def call_wsgi(app, env: dict) -> int:
    """Run one request through a WSGI callable; return the status code."""
    status = []
    body = app(env, lambda s, h, exc_info=None: status.append(s))
    b"".join(body)
    if hasattr(body, "close"):
        body.close()
    return int(status[0].split()[0])


def insert_params(payload: str) -> dict:
    """The INSERT's parameters for one event, as the intake builds them."""
    from bench.webhook_variants import insert_params as params

    return params(payload, json.loads(payload))


def pieces(app, n: int) -> None:
    """Time the parts of an intake one by one."""
    import redis
    import stripe
    from sqlalchemy import text
    from sqlalchemy.dialects import postgresql

    from bench.webhook_variants import _raw_insert
    from campus.billing import services
    from campus.billing.models import WebhookEvent
    from campus.billing.tasks import process_webhook_event
    from campus.extensions import db

    table = WebhookEvent.__table__
    insert = (
        postgresql.insert(table)
        .on_conflict_do_nothing(index_elements=[table.c.stripe_event_id])
        .returning(table.c.id)
    )
    signed = bodies(n, "v")
    timed(
        "stripe.WebhookSignature.verify_header",
        n,
        lambda i: signed[i],
        lambda sp: stripe.WebhookSignature.verify_header(sp[1], sp[0], wh.SECRET, 300),
    )
    timed("json.loads(payload)", n, lambda i: signed[i][1], json.loads)
    with app.app_context():
        engine = db.engine
        timed(
            f"pool checkout + checkin (pool_pre_ping={engine.pool._pre_ping})",
            n,
            lambda i: None,
            lambda _: engine.connect().close(),
        )
        with engine.connect() as conn:
            timed(
                "SELECT 1 (one round trip: what a ping costs)",
                n,
                lambda i: None,
                lambda _: conn.execute(text("SELECT 1")),
            )
        rows = bodies(n, "s")

        def in_session(sp) -> None:
            db.session.execute(insert, insert_params(sp[1])).scalar()
            db.session.commit()

        timed("session: BEGIN; INSERT ... RETURNING; COMMIT", n, lambda i: rows[i], in_session)
        db.session.remove()
        rows = bodies(n, "a")

        def autocommit(sp) -> None:
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(insert, insert_params(sp[1])).scalar()

        timed("Core, autocommit connection: INSERT ... RETURNING", n, lambda i: rows[i], autocommit)
        rows = bodies(n, "r")
        timed(
            "raw psycopg from the pool: INSERT ... RETURNING",
            n,
            lambda i: insert_params(rows[i][1]),
            lambda params: _raw_insert(engine, params),
        )
        rows = bodies(n, "d")
        timed(
            "services.store_webhook (as shipped)",
            n,
            lambda i: (rows[i][1], json.loads(rows[i][1])),
            lambda tp: services.store_webhook(engine, *tp),
        )
        timed(
            "Celery apply_async(process_webhook_event) to Redis",
            n,
            lambda i: i,
            lambda i: process_webhook_event.apply_async(args=(i,)),
        )
        app.extensions["celery"].control.purge()
        for label, own in (("pooled client", False), ("thread's own connection", True)):
            store = redis.Redis.from_url(BROKER, single_connection_client=own)
            timed(
                f"Redis SET NX EX (the wake-up), {label}",
                n,
                lambda i: None,
                lambda _, store=store: store.set("campus:bench:pieces", b"1", nx=True, ex=5),
            )
            store.delete("campus:bench:pieces")
            store.close()
    with app.test_request_context():
        from flask import jsonify

        timed(
            "jsonify(received=True, duplicate=False)",
            n,
            lambda i: None,
            lambda _: jsonify(received=True, duplicate=False),
        )


def requests(app, n: int, variants: list[str]) -> None:
    """Time whole requests through the WSGI stack, for the app as shipped and each variant."""
    from bench.webhook_variants import applied

    for variant in variants:
        with applied(app, variant):
            wsgi = app.wsgi_app
            for i, (signature, payload) in enumerate(bodies(200, f"warm{variant}")):
                assert call_wsgi(wsgi, environ(signature, payload)) == 200, i
            full = bodies(n, f"w{variant}")
            timed(
                f"whole request, {variant}: a new event (200)",
                n,
                lambda i, full=full: environ(*full[i]),
                lambda e, wsgi=wsgi: call_wsgi(wsgi, e),
            )
            timed(
                f"whole request, {variant}: a duplicate (200)",
                n,
                lambda i, full=full: environ(*full[i]),
                lambda e, wsgi=wsgi: call_wsgi(wsgi, e),
            )
            timed(
                f"whole request, {variant}: a bad signature (400)",
                n,
                lambda i, full=full: environ("t=1,v1=00", full[i][1]),
                lambda e, wsgi=wsgi: call_wsgi(wsgi, e),
            )
            app.extensions["celery"].control.purge()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument(
        "--variants",
        type=lambda text: [v for v in text.split(",") if v],
        default=["ours", "wsgi-intake", "raw-insert"],
        help="whole requests through the app as shipped and with one piece of machinery put "
        "back or taken out (bench/webhook_variants.py)",
    )
    args = parser.parse_args()
    wh.DB_URL, wh.BROKER = DB_URL, BROKER
    work = Path(tempfile.mkdtemp(prefix="campus-pieces-"))
    env = wh.bench_env(work / "instance")
    wh.reset_database(env)
    app = wh.flask_app(env)
    print(f"PostgreSQL {DB_URL}, Redis {BROKER}; {args.n} calls each; microseconds")
    print(f"  {'':<55} {'median':>7}  p99 {'':>7}   cpu")
    pieces(app, args.n)
    requests(app, args.n, args.variants)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark Stripe webhook intake and processing on PostgreSQL + Redis.

1. Ingestion: signed events accepted per second and latency (p50/p99) of our /webhooks/stripe
   against a bare Flask endpoint that only verifies the signature, both under the same gunicorn
   settings, driven by wrk with pre-signed bodies (every request a new event id). Each round
   serves the bare endpoint, then each of VARIANTS (bench/webhook_variants.py: the app as shipped,
   and the app with one piece of speed machinery put back or taken out), ROUNDS times; medians
   are quoted, each beside its ratio to the bare endpoint. Target: ours >= 0.4x bare. Ours
   verifies, stores the event with one autocommitted INSERT and sets the drain's wake-up mark in
   Redis; no worker runs here, so the few drain tasks it sends wait in the queue and are purged
   after each server.
2. End to end: EVENTS events (lifecycles of EVENTS/4 subscriptions, 10 % delivered twice, in
   shuffled order) posted to our endpoint with a real Celery worker running; measured until every
   event is processed and every email sent; then checks zero lost or duplicated effects. It also
   prints the processing attempts: one per event when no processing failed and none ran twice.

    .venv/bin/python bench/webhooks.py [--events 10000] [--rounds 3] [--duration 10]
        [--variants ours,wsgi-intake,raw-insert] [--port 8611] [--skip-e2e]

Needs PostgreSQL on 127.0.0.1:5432, Redis on 127.0.0.1:6379 and /usr/bin/wrk. Uses the database
campus_bench_billing and Redis db 1 (BENCH_DATABASE_URL / BENCH_BROKER_URL override).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SECRET = "whsec_bench_secret"
PRICE = "price_bench_membership"
DB_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/campus_bench_billing"
)
BROKER = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/1")
GUNICORN = [
    "--workers",
    "2",
    "--threads",
    "4",
    "--worker-class",
    "gthread",
    "--log-level",
    "warning",
]
VENV_BIN = Path(sys.executable).parent


def set_gunicorn_threads(threads: int) -> None:
    GUNICORN[3] = str(threads)


def bench_env(instance: Path) -> dict[str, str]:
    from campus.certificates.signing import generate_jwk

    env = dict(os.environ)
    env.update(
        CAMPUS_ENV="production",
        SECRET_KEY="bench-secret-key-" + "b" * 32,
        CERTIFICATE_SIGNING_KEY=json.dumps(generate_jwk()),
        STRIPE_SECRET_KEY="sk_test_bench",
        STRIPE_WEBHOOK_SECRET=SECRET,
        STRIPE_PRICE_ID=PRICE,
        # The local Stripe imitation of the tests answers the subscription fetches.
        STRIPE_API_BASE=os.environ.get("BENCH_STRIPE_API_BASE", "http://127.0.0.1:9"),
        DATABASE_URL=DB_URL,
        CELERY_BROKER_URL=BROKER,
        INSTANCE_PATH=str(instance),
        MAIL_BACKEND="outbox",
        # Production wants shared rate-limit storage; the intake itself never consults it.
        RATELIMIT_STORAGE_URI=os.environ.get("BENCH_RATELIMIT_STORAGE_URI", BROKER),
        PUBLIC_BASE_URL="https://campus.example",
        PYTHONPATH=str(ROOT),
    )
    return env


def sign(payload: str, timestamp: int | None = None) -> str:
    import hashlib
    import hmac

    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(SECRET.encode(), f"{t}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def sub_object(sub_id: str, customer: str, status: str, period_end: int, user_id: int) -> dict:
    return {
        "id": sub_id,
        "object": "subscription",
        "customer": customer,
        "status": status,
        "cancel_at_period_end": False,
        "canceled_at": None,
        "ended_at": None,
        "trial_end": None,
        "metadata": {"user_id": str(user_id)},
        "items": {
            "object": "list",
            "data": [
                {
                    "id": f"si_{sub_id}",
                    "object": "subscription_item",
                    "current_period_end": period_end,
                    "price": {"id": PRICE, "object": "price", "unit_amount": 1995},
                }
            ],
        },
    }


def event(n: int, etype: str, obj: dict, created: int, tag: str = "") -> dict:
    return {
        "id": f"evt_bench{tag}{n:08d}",
        "object": "event",
        "api_version": "2026-10-28.endive",
        "type": etype,
        "created": created,
        "livemode": False,
        "data": {"object": obj},
    }


# --- processes -------------------------------------------------------------------------------


def wait_port(port: int, timeout: float = 30) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


def start(cmd: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        cmd,
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def gunicorn(app: str, port: int, env: dict, log: Path) -> subprocess.Popen:
    proc = start(
        [str(VENV_BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", *GUNICORN, app], env, log
    )
    wait_port(port)
    # The master binds before its workers have imported the app: wait until both answer.
    answered = 0
    deadline = time.monotonic() + 120
    while answered < 20 and time.monotonic() < deadline:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("POST", "/webhooks/stripe", body="{}", headers={"Stripe-Signature": "x"})
        if conn.getresponse().status == 400:
            answered += 1
        conn.close()
    return proc


# --- database --------------------------------------------------------------------------------


def reset_database(env: dict) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = make_url(DB_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{url.database}"'))
    admin.dispose()
    subprocess.run(
        [str(VENV_BIN / "flask"), "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )


def flask_app(env: dict):
    os.environ.update(env)
    from campus import create_app

    return create_app()


def truncate(app) -> None:
    from sqlalchemy import text

    from campus.extensions import db

    with app.app_context():
        db.session.execute(
            text(
                "TRUNCATE webhook_events, subscriptions, email_messages, stripe_customers, users "
                "RESTART IDENTITY CASCADE"
            )
        )
        db.session.commit()


def purge_broker(app) -> None:
    from campus.billing.tasks import DRAIN_WAKE
    from campus.jobs import clear_wake

    app.extensions["celery"].control.purge()
    with app.app_context():
        clear_wake(DRAIN_WAKE)  # the purged drain's mark, so the next event wakes a new one


# --- 1. ingestion ----------------------------------------------------------------------------


def write_bodies(path: Path, count: int, tag: str) -> None:
    now = int(time.time())
    with path.open("w") as fh:
        for n in range(count):
            obj = sub_object(f"sub_{tag}{n}", f"cus_unknown{n}", "active", now + 86400, 0)
            payload = json.dumps(event(n, "customer.subscription.updated", obj, now, tag))
            fh.write(f"{sign(payload, now)}\t{payload}\n")


def wrk(port: int, bodies: Path, duration: int, threads: int, connections: int) -> dict:
    out = subprocess.run(
        [
            "/usr/bin/wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{duration}s",
            "--latency",
            "-s",
            str(ROOT / "bench" / "sign_bodies.lua"),
            f"http://127.0.0.1:{port}",
            "--",
            str(bodies),
            str(threads),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    def latency(label: str) -> float:
        value, unit = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "p50_ms": latency("50"),
        "p99_ms": latency("99"),
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": errors.group(1) if errors else "none",
        "wrapped": int(re.search(r"wrapped=(\d+)", out).group(1)),
    }


def ingestion(args, env: dict, work: Path, app) -> dict:
    bench_path = str(ROOT / "bench")
    servers = [("bare", "bare_webhook:app", dict(env, PYTHONPATH=bench_path))]
    for variant in args.variants:
        # The variants are the app itself (wsgi.py's create_app) with one piece put back or
        # taken out by bench/webhook_variants.py.
        served = dict(env, PYTHONPATH=f"{ROOT}:{bench_path}", BENCH_WEBHOOK_VARIANT=variant)
        servers.append((variant, "webhook_variants:app", served))
    runs: dict[str, list[dict]] = {name: [] for name, _, _ in servers}
    body_count = args.bodies
    for round_no in range(args.rounds):
        for port_offset, (name, target, proc_env) in enumerate(servers):
            port = args.port + port_offset
            bodies = work / f"{name}-{round_no}.txt"
            write_bodies(bodies, body_count, f"r{round_no}{name}")
            server = gunicorn(target, port, proc_env, work / f"{name}.log")
            try:
                wrk(port, bodies, 2, args.wrk_threads, args.connections)  # warm-up, discarded
                write_bodies(bodies, body_count, f"r{round_no}{name}m")
                result = wrk(port, bodies, args.duration, args.wrk_threads, args.connections)
            finally:
                stop(server)
            runs[name].append(result)
            print(
                f"  round {round_no + 1} {name:>12}: {result['rps']:8.0f} events/s  "
                f"p50 {result['p50_ms']:6.2f} ms  p99 {result['p99_ms']:6.2f} ms  "
                f"non-2xx {result['non2xx']}  wrapped {result['wrapped']}",
                flush=True,
            )
            truncate(app)
            purge_broker(app)
    summary: dict = {
        name: {
            key: statistics.median(r[key] for r in results) for key in ("rps", "p50_ms", "p99_ms")
        }
        for name, results in runs.items()
    }
    for name in args.variants:
        summary[name]["ratio"] = summary[name]["rps"] / summary["bare"]["rps"]
    summary["ratio"] = summary["ours"]["ratio"] if "ours" in summary else 0.0
    summary["non2xx"] = sum(r["non2xx"] for rs in runs.values() for r in rs)
    summary["wrapped"] = sum(r["wrapped"] for name in args.variants for r in runs[name])
    return summary


# --- 2. end to end ---------------------------------------------------------------------------


def make_members(app, count: int) -> list[tuple[int, str]]:
    from sqlalchemy import insert

    from campus.accounts.models import User
    from campus.billing.models import StripeCustomer
    from campus.extensions import db
    from campus.models.base import utcnow

    with app.app_context():
        now = utcnow()
        db.session.execute(
            insert(User),
            [
                {
                    "email": f"bench{n}@example.com",
                    "password_hash": "x",
                    "full_name": f"Bench Member {n}",
                    "profession": "other",
                    "role": "student",
                    "created_at": now,
                    "updated_at": now,
                }
                for n in range(count)
            ],
        )
        ids = db.session.scalars(db.select(User.id).order_by(User.id)).all()
        db.session.execute(
            insert(StripeCustomer),
            [
                {
                    "user_id": uid,
                    "stripe_customer_id": f"cus_bench{uid}",
                    "created_at": now,
                    "updated_at": now,
                }
                for uid in ids
            ],
        )
        db.session.commit()
        return [(uid, f"cus_bench{uid}") for uid in ids]


def lifecycle_events(members: list[tuple[int, str]]) -> tuple[list[dict], dict[str, str]]:
    """Four events per subscription: created, payment failed, past_due, then recovered or ended."""
    events, final = [], {}
    base = int(time.time()) - 3600
    n = 0
    for uid, customer in members:
        sub_id = f"sub_bench{uid}"
        end = base + 30 * 86400
        ending = "canceled" if uid % 3 == 0 else "active"
        steps = [
            ("customer.subscription.created", sub_object(sub_id, customer, "active", end, uid)),
            (
                "invoice.payment_failed",
                {
                    "id": f"in_bench{uid}",
                    "object": "invoice",
                    "customer": customer,
                    "status": "open",
                    "amount_due": 1995,
                    "attempt_count": 1,
                    "parent": {
                        "type": "subscription_details",
                        "subscription_details": {"subscription": sub_id},
                    },
                },
            ),
            ("customer.subscription.updated", sub_object(sub_id, customer, "past_due", end, uid)),
            (
                "customer.subscription.deleted"
                if ending == "canceled"
                else "customer.subscription.updated",
                sub_object(sub_id, customer, ending, end, uid),
            ),
        ]
        for offset, (etype, obj) in enumerate(steps):
            events.append(event(n, etype, obj, base + offset * 10, "e2e"))
            n += 1
        final[sub_id] = ending
    return events, final


def post_all(port: int, deliveries: list[dict], threads: int) -> list[int]:
    statuses: list[int] = []
    lock = threading.Lock()
    queue = list(deliveries)

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while True:
            with lock:
                if not queue:
                    break
                evt = queue.pop()
            payload = json.dumps(evt)
            conn.request(
                "POST",
                "/webhooks/stripe",
                body=payload,
                headers={"Content-Type": "application/json", "Stripe-Signature": sign(payload)},
            )
            response = conn.getresponse()
            response.read()
            with lock:
                statuses.append(response.status)
        conn.close()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return statuses


def end_to_end(args, env: dict, work: Path, app, stripe_api) -> dict:
    from sqlalchemy import func, select

    from campus.billing.models import Subscription, WebhookEvent
    from campus.extensions import db
    from campus.mail.models import EmailMessage

    truncate(app)
    purge_broker(app)
    shutil.rmtree(Path(env["INSTANCE_PATH"]) / "outbox", ignore_errors=True)
    members = make_members(app, args.events // 4)
    events, final = lifecycle_events(members)
    for evt in events:  # what Stripe answers when the worker fetches a subscription
        if evt["data"]["object"]["object"] == "subscription":
            stripe_api.subscriptions[evt["data"]["object"]["id"]] = evt["data"]["object"]
    rng = random.Random(7)
    deliveries = events + rng.sample(events, len(events) // 10)
    rng.shuffle(deliveries)
    web = gunicorn("wsgi:app", args.port, env, work / "e2e-web.log")
    worker = start(
        [
            str(VENV_BIN / "celery"),
            "-A",
            "workers",
            "worker",
            f"--pool={args.pool}",
            f"--concurrency={args.concurrency}",
            "--loglevel=warning",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        env,
        work / "e2e-worker.log",
    )
    try:
        started = time.monotonic()
        statuses = post_all(args.port, deliveries, threads=16)
        posted = time.monotonic() - started
        expected_emails = len(members) + sum(1 for uid, _ in members if uid % 3 == 0)
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline:
            with app.app_context():
                pending = db.session.scalar(
                    select(func.count())
                    .select_from(WebhookEvent)
                    .where(WebhookEvent.status.notin_(("processed", "ignored")))
                )
                sent = db.session.scalar(
                    select(func.count())
                    .select_from(EmailMessage)
                    .where(EmailMessage.status == "sent")
                )
                db.session.remove()
            if pending == 0 and sent >= expected_emails:
                break
            time.sleep(0.2)
        elapsed = time.monotonic() - started
    finally:
        stop(worker)
        stop(web)
    with app.app_context():
        rows = db.session.execute(
            select(WebhookEvent.status, func.count()).group_by(WebhookEvent.status)
        ).all()
        mirror = dict(
            db.session.execute(
                select(Subscription.stripe_subscription_id, Subscription.status)
            ).all()
        )
        keys = db.session.scalars(select(EmailMessage.dedupe_key)).all()
        email_status = db.session.execute(
            select(EmailMessage.status, func.count()).group_by(EmailMessage.status)
        ).all()
        attempts = db.session.scalar(select(func.sum(WebhookEvent.attempts)))
    outbox = list((Path(env["INSTANCE_PATH"]) / "outbox").glob("*.eml"))
    by_status = dict(rows)
    wrong = [sid for sid, status in final.items() if mirror.get(sid) != status]
    expected_keys = {f"billing:payment_failed:in_bench{uid}:1" for uid, _ in members}
    expected_keys |= {f"billing:ended:sub_bench{uid}" for uid, _ in members if uid % 3 == 0}
    return {
        "events": len(events),
        "deliveries": len(deliveries),
        "accepted_2xx": sum(200 <= s < 300 for s in statuses),
        "post_seconds": posted,
        "seconds": elapsed,
        "events_per_second": len(events) / elapsed,
        "stored": sum(by_status.values()),
        "by_status": by_status,
        "attempts": attempts,
        "mirror_wrong": len(wrong),
        "mirror_missing": sum(1 for sid in final if sid not in mirror),
        "emails": len(keys),
        "emails_expected": len(expected_keys),
        "emails_unexpected": len(set(keys) - expected_keys),
        "emails_missing": len(expected_keys - set(keys)),
        "email_status": dict(email_status),
        "outbox_files": len(outbox),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--bodies", type=int, default=40_000)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--pool", default="threads")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--timeout", type=int, default=600)
    parser.add_argument("--skip-ingestion", action="store_true")
    parser.add_argument("--skip-e2e", action="store_true")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    parser.add_argument(
        "--variants",
        type=lambda text: [v for v in text.split(",") if v],
        default=["ours", "wsgi-intake", "raw-insert"],
        help="served side by side with the bare endpoint, each round: ours (as shipped), "
        "wsgi-intake (answered ahead of Flask), core-insert / raw-insert (how the event is "
        "stored on PostgreSQL); see bench/webhook_variants.py",
    )
    parser.add_argument("--port", type=int, default=8611, help="first of the ports to serve on")
    args = parser.parse_args()
    set_gunicorn_threads(args.threads)

    from tests.billing.fake_stripe import FakeStripe

    stripe_api = FakeStripe().start()
    os.environ["BENCH_STRIPE_API_BASE"] = stripe_api.url
    work = Path(tempfile.mkdtemp(prefix="campus-bench-"))
    env = bench_env(work / "instance")
    print(
        f"PostgreSQL {DB_URL}, Redis {BROKER}; gunicorn {' '.join(GUNICORN)}; "
        f"{os.cpu_count()} CPUs; work dir {work}",
        flush=True,
    )
    reset_database(env)
    app = flask_app(env)
    ok = True
    if not args.skip_ingestion:
        print(
            f"\n1. Ingestion: wrk -t{args.wrk_threads} -c{args.connections} "
            f"-d{args.duration}s, {args.rounds} rounds",
            flush=True,
        )
        ing = ingestion(args, env, work, app)
        for name in ("bare", *args.variants):
            figures = ing[name]
            ratio = f"  ({figures['ratio']:.2f} of bare)" if "ratio" in figures else ""
            print(
                f"  median {name:>12}: {figures['rps']:6.0f} events/s, "
                f"p50 {figures['p50_ms']:.2f} ms, p99 {figures['p99_ms']:.2f} ms{ratio}"
            )
        print(
            f"  ratio ours/bare: {ing['ratio']:.2f} (target >= 0.40); non-2xx {ing['non2xx']}; "
            f"wrapped (repeated bodies) {ing['wrapped']}"
        )
        ok &= ing["ratio"] >= 0.4 and ing["non2xx"] == 0
    if args.skip_e2e:
        stripe_api.stop()
        shutil.rmtree(work, ignore_errors=True)
        return 0 if ok else 1
    print(
        f"\n2. End to end: {args.events} events, 10 % delivered twice, shuffled; worker "
        f"--pool={args.pool} --concurrency={args.concurrency}",
        flush=True,
    )
    e2e = end_to_end(args, env, work, app, stripe_api)
    print(
        f"  posted {e2e['deliveries']} deliveries ({e2e['accepted_2xx']} x 2xx) in "
        f"{e2e['post_seconds']:.1f} s"
    )
    print(
        f"  all {e2e['events']} events processed and emails sent after {e2e['seconds']:.1f} s: "
        f"{e2e['events_per_second']:.0f} events/s end to end"
    )
    print(f"  stored {e2e['stored']} {e2e['by_status']}, processing attempts {e2e['attempts']}")
    print(f"  mirror: {e2e['mirror_wrong']} wrong, {e2e['mirror_missing']} missing")
    print(
        f"  emails: {e2e['emails']} of {e2e['emails_expected']} expected, "
        f"{e2e['emails_unexpected']} unexpected, {e2e['emails_missing']} missing, "
        f"{e2e['email_status']}, outbox files {e2e['outbox_files']}"
    )
    effects_ok = (
        e2e["stored"] == e2e["events"]
        and e2e["accepted_2xx"] == e2e["deliveries"]
        and set(e2e["by_status"]) <= {"processed", "ignored"}
        and e2e["mirror_wrong"] == 0
        and e2e["emails"] == e2e["emails_expected"] == e2e["outbox_files"]
        and e2e["emails_unexpected"] == e2e["emails_missing"] == 0
    )
    print(f"  zero lost or duplicated effects: {'yes' if effects_ok else 'NO'}")
    ok &= effects_ok
    shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

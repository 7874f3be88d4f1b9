"""A mixed load on the whole platform: gunicorn + a real Celery worker on PostgreSQL + Redis.

    .venv/bin/python bench/load.py [--users 5,10,20,40,80] [--minutes 1] [--port 5171]
    .venv/bin/python bench/load.py --users 20 --minutes 15 --sample 30     (the memory run)

Starts everything itself on its own database (LOAD_DATABASE_URL, default campus_loadbench on
127.0.0.1:5432, dropped and rebuilt) and Redis db (LOAD_BROKER_URL, default db 7); seeds the demo
content, 2,000 generated articles, paying members (simulated subscriptions, with a few comps),
students ready for the quiz, graduates with certificates and Stripe subscriptions for webhooks;
then drives the site with Locust (simulated users, in a child process) for each number of users
in turn, `--minutes` each after everyone has signed in, and stops it all.

The mix (MIX below; add a line to add a page): anonymous readers (home, library, free and paid
articles, search), paying members (paid articles, search, lessons with seat-time heartbeats),
students submitting the final quiz (a pass: the worker then issues their certificate),
graduates downloading certificates, and Stripe webhooks, signed with the test secret, arriving
alongside. Prints per page p50/p95/p99 and errors, throughput, the worker's backlog (messages
waiting in Redis, sampled every few seconds, and how long it takes to drain after each step)
and RSS per process over time; then the knee: the first step where throughput rises less than
10 % while users doubled, or the p95 more than doubles.
Targets: 0 errors; below the knee no page's p99 above 10x its p50; the backlog drains to 0;
RSS flat over a long run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DB_URL = os.environ.get(
    "LOAD_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/campus_loadbench"
)
BROKER = os.environ.get("LOAD_BROKER_URL", "redis://127.0.0.1:6379/7")
PASSWORD = "load-password-123"
MEMBERS, STUDENTS, GRADUATES, SUBSCRIPTIONS = 100, 150, 20, 400
SEARCHES = ["trigger point", "piriformis", "neck pain", "plantar fasciitis", "sciatica", "jaw"]

# (name, weight, what it does): each task is a method of LoadUser below, picked by weight.
MIX = [
    ("anonymous reader", 8, "anonymous"),
    ("member reading and studying", 6, "member"),
    ("student taking the quiz", 1, "quiz"),
    ("graduate downloading", 1, "graduate"),
    ("Stripe webhook", 2, "webhook"),
]


# --- seeding (a child process, eager tasks) ---------------------------------------------------


def seed(out: Path) -> None:
    """Fill the benchmark database and write what the simulated users need to `out`."""
    from datetime import timedelta

    from sqlalchemy import insert, select

    from campus import create_app
    from campus.accounts.models import User
    from campus.accounts.services import hash_password
    from campus.billing.models import StripeCustomer, Subscription
    from campus.content.models import Article
    from campus.demo import seed_demo
    from campus.extensions import db
    from campus.learning import demo as learning_demo
    from campus.learning import evaluation, papers, progress
    from campus.learning import quiz as quizzes
    from campus.learning.models import Choice, Course, Question
    from campus.models.base import utcnow
    from tests.content.search_corpus import article_rows, insert_articles

    EVALUATION = evaluation.Answers(
        ratings=dict.fromkeys(evaluation.RATINGS, 5), minutes_taken=90, comments="", attested=True
    )

    app = create_app()
    with app.app_context():
        seed_demo()
        db.session.commit()
        insert_articles(article_rows(2000, words=200))
        db.session.commit()
        now = utcnow()
        hashed = hash_password(PASSWORD)
        people = (
            [f"member{n}@load.example" for n in range(MEMBERS)]
            + [f"student{n}@load.example" for n in range(STUDENTS)]
            + [f"graduate{n}@load.example" for n in range(GRADUATES)]
        )
        db.session.execute(
            insert(User),
            [
                {
                    "email": email,
                    "password_hash": hashed,
                    "full_name": f"Load {email.split('@')[0].title()}",
                    "profession": "massage_therapist",
                    "license_number": "MT-100200",
                    "license_state": "Maine",
                    "role": "student",
                    "email_verified_at": now,
                    "created_at": now,
                    "updated_at": now,
                }
                for email in people
            ],
        )
        users = {u.email: u for u in db.session.scalars(select(User).where(User.email.in_(people)))}
        db.session.execute(
            insert(Subscription),
            [
                {
                    "user_id": users[email].id,
                    "stripe_subscription_id": f"sub_load_{users[email].id}",
                    "stripe_customer_id": f"cus_load_{users[email].id}",
                    "status": "active",
                    "price_id": "price_load",
                    "current_period_end": now + timedelta(days=30),
                    "created_at": now,
                    "updated_at": now,
                }
                for email in people
            ],
        )
        db.session.commit()
        course = db.session.scalar(select(Course).where(Course.slug == learning_demo.HIP_SLUG))
        quiz = quizzes.quiz_of(course)
        key = {
            str(q.id): [
                c.id
                for c in db.session.scalars(
                    select(Choice).where(Choice.question_id == q.id, Choice.is_correct)
                )
            ]
            for q in db.session.scalars(select(Question).where(Question.quiz_id == quiz.id))
        }
        lessons = []
        for email in people:
            user = users[email]
            enrollment = progress.enroll(user, course)
            plan = progress.outline(course, enrollment)
            lessons = [lesson.id for lesson in plan.lessons]
            if not email.startswith("member"):
                for lesson_id in lessons:
                    progress.complete_lesson(user, lesson_id, course)
            if email.startswith("graduate"):
                paper = quizzes.begin_attempt(user, course)
                answers = {q.id: key[str(q.id)] for q in papers.questions_of(paper)}
                quizzes.submit_attempt(user, course, answers)
                evaluation.submit(user, course, EVALUATION)
            db.session.commit()
        from campus.certificates.models import Certificate

        certificates = [
            (c.user.email, c.code)
            for c in db.session.scalars(select(Certificate))
            if c.user.email.startswith("graduate")
        ]
        # Stripe customers for the webhook traffic: their own people, not the readers.
        stripe_people = []
        for n in range(SUBSCRIPTIONS):
            user = User(
                email=f"subscriber{n}@load.example",
                password_hash=hashed,
                full_name=f"Subscriber {n}",
                profession="other",
                role="student",
            )
            db.session.add(user)
            db.session.flush()
            db.session.add(
                StripeCustomer(user_id=user.id, stripe_customer_id=f"cus_loadwh{user.id}")
            )
            stripe_people.append((user.id, f"cus_loadwh{user.id}"))
        db.session.commit()
        articles = db.session.execute(
            select(Article.slug, Article.visibility).where(Article.status == "published")
        ).all()
        data = {
            "members": [e for e in people if e.startswith("member")],
            "students": [e for e in people if e.startswith("student")],
            "graduates": certificates,
            "course": course.slug,
            "lessons": lessons,
            "key": key,
            "ratings": list(evaluation.RATINGS),
            "public": [s for s, v in articles if v == "public"][:200],
            "paid": [s for s, v in articles if v == "paid"][:200],
            "stripe_people": stripe_people,
        }
        db.session.remove()
        db.engine.dispose()
    out.write_text(json.dumps(data))


# --- the simulated users (a child process: Locust monkey-patches with gevent) -----------------


def drive(data_path: Path, users: int, seconds: int, port: int, out: Path) -> None:
    """Run Locust headless in this process for `seconds` after all users have started."""
    import gevent
    from locust import HttpUser, between, task
    from locust.env import Environment

    from bench.webhooks import sign

    data = json.loads(data_path.read_text())
    events = json.loads((data_path.parent / "events.json").read_text())
    # A student passes once: the steps run one after another, each skipping those already used.
    used_path = data_path.parent / "used-students.txt"
    used = set(used_path.read_text().split()) if used_path.exists() else set()
    students = [email for email in data["students"] if email not in used]
    popped: list[str] = []
    graduates = list(data["graduates"])
    members = list(data["members"])
    csrf_field = re.compile(
        r'name="csrf_token"[^>]*value="([^"]+)"|<meta name="csrf-token" content="([^"]+)"'
    )

    def token_in(html: str) -> str:
        found = csrf_field.search(html)
        return (found.group(1) or found.group(2)) if found else ""

    csrf_meta = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
    question = re.compile(r'name="q-(\d+)"')
    counter = {"n": 0}

    class LoadUser(HttpUser):
        host = f"http://127.0.0.1:{port}"
        wait_time = between(1, 3)

        def on_start(self) -> None:
            import random

            self.rng = random.Random()
            self.kind = self.rng.choices([m[2] for m in MIX], [m[1] for m in MIX])[0]
            self.email = None
            self.token = ""
            if self.kind == "member":
                self.sign_in(self.rng.choice(members))
            elif self.kind == "graduate":
                self.email, self.code = self.rng.choice(graduates)
                self.sign_in(self.email)

        def sign_in(self, email: str) -> None:
            page = self.client.get("/login", name="sign in (form)")
            self.client.post(
                "/login",
                data={"csrf_token": token_in(page.text), "email": email, "password": PASSWORD},
                name="sign in",
            )
            self.email = email

        @task
        def act(self) -> None:
            getattr(self, self.kind)()

        def anonymous(self) -> None:
            roll = self.rng.random()
            if roll < 0.15:
                self.client.get("/", name="home")
            elif roll < 0.35:
                self.client.get("/articles/", name="library")
            elif roll < 0.6:
                self.client.get(f"/articles/{self.rng.choice(data['public'])}", name="free article")
            elif roll < 0.8:
                self.client.get(
                    f"/articles/{self.rng.choice(data['paid'])}", name="paid article (paywall)"
                )
            else:
                self.client.get(
                    "/articles/", params={"q": self.rng.choice(SEARCHES)}, name="search"
                )

        def member(self) -> None:
            roll = self.rng.random()
            if roll < 0.3:
                self.client.get(
                    f"/articles/{self.rng.choice(data['paid'])}", name="paid article (member)"
                )
            elif roll < 0.45:
                self.client.get(
                    "/articles/", params={"q": self.rng.choice(SEARCHES)}, name="search (member)"
                )
            else:
                lesson = self.rng.choice(data["lessons"])
                path = f"/courses/{data['course']}/lessons/{lesson}"
                page = self.client.get(path, name="lesson")
                found = csrf_meta.search(page.text)
                if found:
                    self.token = found.group(1)
                for _ in range(2):
                    self.client.post(
                        f"{path}/heartbeat",
                        headers={"X-CSRFToken": self.token, "Accept": "application/json"},
                        name="lesson heartbeat",
                    )

        def quiz(self) -> None:
            if not students:
                return self.anonymous()  # every prepared student has passed: read instead
            self.client.cookies.clear()
            popped.append(students.pop())
            self.sign_in(popped[-1])
            path = f"/courses/{data['course']}/quiz"
            page = self.client.get(path, name="quiz")
            form = {"csrf_token": token_in(page.text)}
            fields = {f"q-{q}": data["key"][q] for q in dict.fromkeys(question.findall(page.text))}
            self.client.post(path, data={**form, **fields}, name="quiz submission")
            # The course evaluation and attestation: then the worker issues the certificate.
            path = f"/courses/{data['course']}/evaluation"
            page = self.client.get(path, name="evaluation")
            ratings = dict.fromkeys(data["ratings"], "5")
            self.client.post(
                path,
                data={
                    "csrf_token": token_in(page.text),
                    **ratings,
                    "minutes_taken": "90",
                    "comments": "",
                    "attest": "y",
                },
                name="evaluation submission",
            )
            self.client.get("/certificates/", name="certificates list")

        def graduate(self) -> None:
            self.client.get(f"/certificates/{self.code}.pdf", name="certificate PDF")
            self.client.get(f"/verify/{self.code}", name="verify page")

        def webhook(self) -> None:
            if counter["n"] >= len(events):
                return self.anonymous()
            payload = json.dumps(events[counter["n"]])
            counter["n"] += 1
            self.client.post(
                "/webhooks/stripe",
                data=payload,
                headers={"Stripe-Signature": sign(payload), "Content-Type": "application/json"},
                name="Stripe webhook",
            )

    env = Environment(user_classes=[LoadUser])
    runner = env.create_local_runner()
    runner.start(users, spawn_rate=max(1, users / 5))
    runner.spawning_greenlet.join()
    gevent.sleep(3)  # everyone signed in
    env.stats.reset_all()
    started = time.monotonic()
    gevent.sleep(seconds)
    elapsed = time.monotonic() - started
    pages = {}
    for (name, _method), entry in env.stats.entries.items():
        pages[name] = {
            "n": entry.num_requests,
            "errors": entry.num_failures,
            "p50": entry.get_response_time_percentile(0.5),
            "p95": entry.get_response_time_percentile(0.95),
            "p99": entry.get_response_time_percentile(0.99),
        }
    errors = [f"{e.method} {e.name}: {e.error} x{e.occurrences}" for e in env.stats.errors.values()]
    total = env.stats.total
    runner.quit()
    used_path.write_text("\n".join(sorted(used | set(popped))))
    out.write_text(
        json.dumps(
            {
                "users": users,
                "seconds": elapsed,
                "requests": total.num_requests,
                "errors": total.num_failures,
                "rps": total.num_requests / elapsed,
                "p50": total.get_response_time_percentile(0.5),
                "p95": total.get_response_time_percentile(0.95),
                "p99": total.get_response_time_percentile(0.99),
                "pages": pages,
                "error_list": errors,
            }
        )
    )


# --- the orchestra (this process) -------------------------------------------------------------


class Monitor(threading.Thread):
    """Sample the worker's backlog in Redis and every server process's RSS."""

    def __init__(self, processes: dict[str, int], every: float) -> None:
        super().__init__(daemon=True)
        import redis

        self.redis = redis.Redis.from_url(BROKER)
        self.processes = processes
        self.every = every
        self.samples: list[tuple[float, int, dict[str, float]]] = []
        self.halt = threading.Event()

    def backlog(self) -> int:
        lengths = 0
        for key in self.redis.scan_iter(count=500):
            if self.redis.type(key) == b"list":
                lengths += self.redis.llen(key)
        return lengths

    def rss(self) -> dict[str, float]:
        import psutil

        sizes: dict[str, float] = {}
        for label, pid in self.processes.items():
            try:
                parent = psutil.Process(pid)
                family = [parent, *parent.children(recursive=True)]
            except psutil.NoSuchProcess:
                continue
            for n, proc in enumerate(family):
                with contextlib.suppress(psutil.NoSuchProcess):
                    sizes[f"{label}{'' if n == 0 else f' child {n}'}"] = (
                        proc.memory_info().rss / 2**20
                    )
        return sizes

    def run(self) -> None:
        while not self.halt.wait(self.every):
            self.samples.append((time.monotonic(), self.backlog(), self.rss()))


def main() -> int:
    """Seed, serve, step the users, print the tables."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--users",
        default="5,10,20,40,80",
        help="simulated users per step; N:M runs that step M minutes instead of --minutes",
    )
    parser.add_argument("--minutes", type=float, default=1.0, help="length of each step")
    parser.add_argument("--port", type=int, default=5171)
    parser.add_argument("--sample", type=float, default=5.0, help="seconds between samples")
    parser.add_argument("--drive", nargs=4, help=argparse.SUPPRESS)  # data users seconds out
    parser.add_argument("--seed", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed:
        seed(Path(args.seed))
        return 0
    if args.drive:
        data, users, seconds, out = args.drive
        drive(Path(data), int(users), int(seconds), args.port, Path(out))
        return 0

    os.environ["BENCH_DATABASE_URL"] = DB_URL
    os.environ["BENCH_BROKER_URL"] = BROKER
    from bench import webhooks as wh
    from tests.billing.fake_stripe import FakeStripe

    steps = [
        (int(n.split(":")[0]), float(n.split(":")[1]) if ":" in n else args.minutes)
        for n in args.users.split(",")
    ]
    work = Path(tempfile.mkdtemp(prefix="campus-load-"))
    stripe_api = FakeStripe().start()
    os.environ["BENCH_STRIPE_API_BASE"] = stripe_api.url
    env = wh.bench_env(work / "instance")
    env.update(
        CAMPUS_ENV="development",  # plain-HTTP cookies; the rest as production would run
        PUBLIC_BASE_URL=f"http://127.0.0.1:{args.port}",
        RATELIMIT_ENABLED="0",  # a hundred sign-ins from one address in seconds
        SEAT_TIME_SCALE="0",  # students in the seed complete their lessons at once
        MAIL_BACKEND="outbox",
    )
    procs: list[subprocess.Popen] = []
    try:
        print(f"PostgreSQL {DB_URL}, Redis {BROKER}, {os.cpu_count()} CPUs, work {work}")
        wh.reset_database(env)
        import redis

        redis.Redis.from_url(BROKER).flushdb()
        started = time.monotonic()
        seed_env = dict(env, CELERY_TASK_ALWAYS_EAGER="1")
        subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
            cwd=ROOT,
            env=seed_env,
            check=True,
            capture_output=True,
        )
        data_path = work / "data.json"
        subprocess.run(
            [sys.executable, __file__, "--seed", str(data_path)],
            cwd=ROOT,
            env=seed_env,
            check=True,
        )
        data = json.loads(data_path.read_text())
        events, _final = wh.lifecycle_events([tuple(p) for p in data["stripe_people"]])
        for evt in events:
            if evt["data"]["object"]["object"] == "subscription":
                stripe_api.subscriptions[evt["data"]["object"]["id"]] = evt["data"]["object"]
        (work / "events.json").write_text(json.dumps(events))
        print(
            f"Seeded in {time.monotonic() - started:.0f}s: {len(data['members'])} members, "
            f"{len(data['students'])} students ready for the quiz, {len(data['graduates'])} "
            f"certificates, {len(events)} webhook events queued to send"
        )
        wh.set_gunicorn_threads(4)
        web = wh.start(
            [
                str(wh.VENV_BIN / "gunicorn"),
                "--bind",
                f"127.0.0.1:{args.port}",
                *wh.GUNICORN,
                # Idle users wait up to 3 s between pages: keep their connections open longer
                # than that, as a proxy in front would (gunicorn's default is 2 s).
                "--keep-alive",
                "10",
                "wsgi:app",
            ],
            env,
            work / "web.log",
        )
        procs.append(web)
        worker = wh.start(
            [
                str(wh.VENV_BIN / "celery"),
                "-A",
                "workers",
                "worker",
                "--concurrency=2",
                "--loglevel=warning",
            ],
            env,
            work / "worker.log",
        )
        procs.append(worker)
        wh.wait_port(args.port, 60)
        monitor = Monitor({"gunicorn": web.pid, "worker": worker.pid}, args.sample)
        monitor.start()
        results = []
        warm_up(args.port, data)
        for number, (users, minutes) in enumerate(steps):
            out = work / f"step-{number}.json"
            mark = time.monotonic()
            subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--port",
                    str(args.port),
                    "--drive",
                    str(data_path),
                    str(users),
                    str(int(minutes * 60)),
                    str(out),
                ],
                cwd=ROOT,
                env=env,
                check=True,
            )
            step = json.loads(out.read_text())
            step["backlog_max"] = max((b for t, b, _ in monitor.samples if t >= mark), default=0)
            drained = time.monotonic()
            while monitor.backlog() and time.monotonic() - drained < 120:
                time.sleep(0.5)
            step["backlog_left"] = monitor.backlog()
            step["drain_s"] = time.monotonic() - drained
            step["mark"] = mark
            results.append(step)
            print(
                f"  {users:>3} users: {step['rps']:.1f} req/s, {step['errors']} errors, "
                f"p95 {step['p95']:.0f} ms, backlog max {step['backlog_max']}",
                flush=True,
            )
        monitor.halt.set()
        report(results, [x for x in monitor.samples if x[0] >= results[-1]["mark"]])
        return 0 if all(r["errors"] == 0 for r in results) else 1
    finally:
        for proc in reversed(procs):
            wh.stop(proc)
        stripe_api.stop()
        keep = os.environ.get("LOAD_KEEP_WORK")
        if not keep:
            shutil.rmtree(work, ignore_errors=True)


def warm_up(port: int, data: dict) -> None:
    """Load each kind of page a few times, so both gunicorn workers have imported everything."""
    import urllib.request

    paths = [
        "/",
        "/articles/",
        f"/articles/{data['public'][0]}",
        f"/articles/{data['paid'][0]}",
        "/articles/?q=trigger+point",
        "/login",
        f"/courses/{data['course']}",
    ]
    for _ in range(6):
        for path in paths:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=60) as r:
                r.read()


def knee(results: list[dict]) -> int | None:
    """Index of the first step where throughput stops rising or latency jumps."""
    for n in range(1, len(results)):
        before, now = results[n - 1], results[n]
        if now["users"] <= before["users"]:
            break  # a long run after the steps (the memory run) is not part of the climb
        if now["rps"] < before["rps"] * 1.1 or now["p95"] > 2 * max(before["p95"], 1):
            return n
    return None


def report(results: list[dict], samples: list) -> None:
    """Print the step table, the per-page table of each step, the backlog and memory."""
    at = knee(results)
    print("\nSteps")
    head = (
        f"{'users':>5} {'req/s':>7} {'errors':>6} {'p50':>5} {'p95':>6} {'p99':>6}"
        f" {'backlog max':>11} {'drained in':>10}"
    )
    print(head)
    print("-" * len(head))
    for n, r in enumerate(results):
        flag = "  <- knee" if n == at else ""
        print(
            f"{r['users']:>5} {r['rps']:>7.1f} {r['errors']:>6} {r['p50']:>5.0f} {r['p95']:>6.0f}"
            f" {r['p99']:>6.0f} {r['backlog_max']:>11} {r['drain_s']:>9.1f}s{flag}"
        )
    if at is None:
        print("No knee within these steps: throughput still rose with the users.")
    else:
        print(f"Knee at {results[at]['users']} users (last good step: {results[at - 1]['users']}).")
    for r in results:
        below = at is None or results.index(r) < at or r["users"] < results[at]["users"]
        print(f"\nPages at {r['users']} users ({'below' if below else 'at or past'} the knee); ms")
        print(f"{'page':<28} {'requests':>8} {'errors':>6} {'p50':>6} {'p95':>6} {'p99':>6}")
        for name, p in sorted(r["pages"].items()):
            spread = "  p99>10x p50" if p["p99"] > 10 * max(p["p50"], 1) else ""
            print(
                f"{name:<28} {p['n']:>8} {p['errors']:>6} {p['p50']:>6.0f} {p['p95']:>6.0f}"
                f" {p['p99']:>6.0f}{spread}"
            )
        for line in r["error_list"][:10]:
            print(f"  error: {line}")
    if not samples:
        return
    print(f"\nWorker backlog and RSS (MiB) over the last step ({results[-1]['users']} users)")
    names = sorted({k for _, _, rss in samples for k in rss})
    print(f"{'t (s)':>6} {'backlog':>7} " + " ".join(f"{n[:18]:>18}" for n in names))
    first = samples[0][0]
    stride = max(1, len(samples) // 30)
    for t, backlog, rss in samples[::stride] + ([samples[-1]] if len(samples) % stride else []):
        cells = " ".join(f"{rss.get(n, float('nan')):>18.1f}" for n in names)
        print(f"{t - first:>6.0f} {backlog:>7} {cells}")
    for n in names:
        series = [rss[n] for _, _, rss in samples if n in rss]
        if len(series) >= 4:
            quarter = len(series) // 4
            early = statistics.median(series[quarter : 2 * quarter])
            late = statistics.median(series[-quarter:])
            print(f"  {n}: {early:.1f} -> {late:.1f} MiB (second quarter -> last quarter)")


if __name__ == "__main__":
    sys.exit(main())

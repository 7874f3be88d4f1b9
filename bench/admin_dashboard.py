"""Admin dashboard queries with 100,000 members: median time of each figure, and of the page.

    .venv/bin/python bench/admin_dashboard.py [--database-url URL] [--members 100000] [--rounds 7]

Builds a temporary database (SQLite, or --database-url for PostgreSQL, whose schema is dropped
and rebuilt), bulk-inserts MEMBERS users with subscriptions spread over two years (active,
trialing, past due, cancelled), comp grants, 1.5 enrollments per member (60 % completed),
certificates for the completions and leads for five downloads, then times every dashboard query
and the whole /admin/ page ROUNDS times and prints the medians with the figures they produced.
The dashboard aggregates in SQL (GROUP BY), so the page should stay well under a second.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHUNK = 5000


def _environment(database_url: str | None) -> Path:
    from bench.harness import bench_environment

    return bench_environment("campus-admin-bench-", database_url)


def _reset_schema(app) -> None:
    from flask_migrate import upgrade
    from sqlalchemy import text

    from campus.extensions import db

    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        upgrade()


def _insert(model, rows: list[dict]) -> None:
    from sqlalchemy import insert

    from campus.extensions import db

    for start in range(0, len(rows), CHUNK):
        db.session.execute(insert(model), rows[start : start + CHUNK])


def _before(moment: datetime, now: datetime, rng: random.Random) -> datetime:
    """Keep generated moments in the past, spread over the last month rather than piled on now."""
    return moment if moment <= now else now - timedelta(seconds=rng.randint(0, 30 * 86400))


def seed(members: int, now: datetime) -> dict[str, int]:
    """Bulk-insert the data set; returns how many rows of each kind."""
    from sqlalchemy import select

    from campus.accounts.models import User
    from campus.accounts.services import hash_password
    from campus.billing.models import CompMembership, Subscription
    from campus.certificates.models import Certificate
    from campus.content.models import Download, Lead
    from campus.extensions import db
    from campus.learning.models import Course, Enrollment

    rng = random.Random(20261121)
    password = hash_password("bench-password-123")
    start = now - timedelta(days=730)
    joined = [start + timedelta(seconds=rng.randint(0, 730 * 86400)) for _ in range(members)]
    _insert(
        User,
        [
            {
                "email": f"member{n:06}@example.com",
                "password_hash": password,
                "full_name": f"Member {n}",
                "profession": "massage_therapist",
                "role": "student",
                "email_verified_at": joined[n],
                "created_at": joined[n],
                "updated_at": joined[n],
            }
            for n in range(members)
        ],
    )
    user_ids = db.session.scalars(select(User.id).order_by(User.id)).all()
    subs, comps = [], []
    for n, user_id in enumerate(user_ids):
        roll = rng.random()
        if roll < 0.15:
            continue  # a free account
        status, ended, cancel_at_end, past_due = "active", None, False, None
        if roll < 0.45:
            status = "canceled"
            ended = _before(joined[n] + timedelta(days=rng.randint(30, 400)), now, rng)
        elif roll < 0.48:
            status = "past_due"
            past_due = now - timedelta(days=rng.randint(0, 14))
        elif roll < 0.52:
            status = "trialing"
        elif roll < 0.55:
            cancel_at_end = True
        subs.append(
            {
                "user_id": user_id,
                "stripe_subscription_id": f"sub_bench_{n}",
                "stripe_customer_id": f"cus_bench_{n}",
                "status": status,
                "price_id": "price_bench",
                "current_period_end": now + timedelta(days=rng.randint(-5, 30)),
                "cancel_at_period_end": cancel_at_end,
                "canceled_at": ended,
                "ended_at": ended,
                "past_due_since": past_due,
                "source_timestamp": 0,
                "created_at": joined[n],
                "updated_at": joined[n],
            }
        )
        if rng.random() < 0.02:
            comps.append(
                {
                    "user_id": user_id,
                    "starts_at": now - timedelta(days=10),
                    "ends_at": now + timedelta(days=rng.randint(-5, 90)),
                    "reason": "bench",
                    "created_at": now,
                    "updated_at": now,
                }
            )
    _insert(Subscription, subs)
    _insert(CompMembership, comps)
    _insert(
        Course,
        [
            {
                "slug": f"bench-course-{c}",
                "title": f"Bench course {c}",
                "summary": "s",
                "description": "",
                "description_html": "",
                "ce_hours": Decimal("1.5") + c % 4,
                "topic": "Bench",
                "status": "published",
                "created_at": now,
                "updated_at": now,
            }
            for c in range(20)
        ],
    )
    course_ids = db.session.scalars(select(Course.id)).all()
    enrollments, certificates = [], []
    for n, user_id in enumerate(user_ids):
        picks = rng.sample(course_ids, rng.choice((0, 1, 2, 2, 3)))
        for course_id in picks:
            enrolled = _before(joined[n] + timedelta(days=rng.randint(0, 90)), now, rng)
            done = rng.random() < 0.6
            completed = (
                _before(enrolled + timedelta(days=rng.randint(1, 60)), now, rng) if done else None
            )
            if completed is not None and completed < enrolled:
                completed = enrolled
            hours = Decimal("1.5") + (course_id % 4)
            enrollments.append(
                {
                    "user_id": user_id,
                    "course_id": course_id,
                    "enrolled_at": enrolled,
                    "completed_at": completed,
                    "ce_hours_earned": hours if done else None,
                    "status": "completed" if done else "active",
                    "created_at": enrolled,
                    "updated_at": enrolled,
                }
            )
            if done:
                code = f"B{len(certificates):09d}"
                certificates.append(
                    {
                        "code": code,
                        "user_id": user_id,
                        "course_id": course_id,
                        "status": "issued",
                        "data": {"code": code, "course_title": f"Bench course {course_id}"},
                        "ce_hours": hours,
                        "completed_at": completed,
                        "issued_at": completed,
                        "attempts": 1,
                        "created_at": completed,
                        "updated_at": completed,
                    }
                )
    _insert(Enrollment, enrollments)
    _insert(Certificate, certificates)
    _insert(
        Download,
        [
            {
                "slug": f"guide-{d}",
                "title": f"Guide {d}",
                "description": "",
                "filename": f"g{d}.pdf",
                "pages": 2,
                "active": True,
                "created_at": now,
                "updated_at": now,
            }
            for d in range(5)
        ],
    )
    download_ids = db.session.scalars(select(Download.id)).all()
    leads = [
        {
            "download_id": download_ids[n % 5 if n % 7 else 0],
            "email": f"lead{n}@example.com",
            "name": "Lead",
            "consent_text": "ok",
            "marketing": True,
            "asked_at": now,
            "consented_at": now,
            "requests": 1,
            "last_requested_at": now,
        }
        for n in range(30_000)
    ]
    _insert(Lead, leads)
    db.session.commit()
    return {
        "users": len(user_ids),
        "subscriptions": len(subs),
        "comps": len(comps),
        "enrollments": len(enrollments),
        "certificates": len(certificates),
        "leads": len(leads),
    }


def _median_ms(fn, rounds: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(rounds):
        started = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    _environment(args.database_url)

    from campus import create_app
    from campus.accounts.models import User
    from campus.accounts.services import create_admin
    from campus.admin import dashboard
    from campus.extensions import db
    from campus.learning.models import Enrollment
    from campus.models.base import utcnow

    app = create_app()
    _reset_schema(app)
    now = utcnow()
    with app.app_context():
        started = time.perf_counter()
        counts = seed(args.members, now)
        create_admin("bench-admin@example.com", "bench-password-123")
        db.session.commit()
        dialect = db.engine.dialect.name
        # Fresh statistics, as autovacuum (PostgreSQL) or a periodic ANALYZE would give.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(db.text("ANALYZE"))
        seeded = time.perf_counter() - started
    print(f"database: {dialect}; seeded in {seeded:.1f}s: " + ", ".join(
        f"{name} {count:,}" for name, count in counts.items()
    ))  # fmt: skip

    queries = {
        "paying members": lambda: dashboard.paying_members(now),
        "active members": lambda: dashboard.active_members(now),
        "new members / month": lambda: dashboard.new_members(now).values,
        "churned / month": lambda: dashboard.churned_members(now).values,
        "enrollments / month": lambda: dashboard._per_month(Enrollment.enrolled_at, now).values,
        "completions / month": lambda: dashboard._per_month(Enrollment.completed_at, now).values,
        "CE hours / month": lambda: (
            dashboard._per_month(
                Enrollment.completed_at, now, value=Enrollment.ce_hours_earned
            ).values
        ),
        "whole dashboard (all figures)": lambda: dashboard.build(now),
    }
    print(f"\nmedian of {args.rounds} rounds")
    with app.app_context():
        for name, query in queries.items():
            ms, result = _median_ms(query, args.rounds)
            shown = result if not isinstance(result, dashboard.Dashboard) else ""
            print(f"  {name:<32} {ms:8.1f} ms  {shown}")
        board = dashboard.build(now)
    print(
        f"\nfigures: active {board.active:,}, paying {board.paying:,}, comp {board.comp:,}, "
        f"MRR ${board.mrr_cents / 100:,.2f}, CE hours delivered {board.ce_hours_total:,.1f}, "
        f"certificates {board.certificates_total:,}, leads {[c for _s, _t, c in board.leads]}"
    )

    client = app.test_client()
    with app.app_context():
        import pyotp

        from campus.accounts.sessions import start_session
        from campus.models.base import utcnow

        admin = db.session.scalar(db.select(User).where(User.role == "admin"))
        # /admin/ opens only to an admin with a second factor, in a session that passed it.
        admin.totp_secret = admin.totp_secret or pyotp.random_base32()
        admin.totp_enabled_at = admin.totp_enabled_at or utcnow()
        session_id = start_session(admin, second_factor=True)
        db.session.commit()
    with client.session_transaction() as session:
        session["_user_id"] = session_id
        session["_fresh"] = True
    client.get("/admin/")  # warm the templates
    ms, response = _median_ms(lambda: client.get("/admin/"), args.rounds)
    print(f"GET /admin/ (rendered page with charts): median {ms:.1f} ms, status "
          f"{response.status_code}")  # fmt: skip


if __name__ == "__main__":
    main()

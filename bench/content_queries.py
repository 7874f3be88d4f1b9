"""SQL queries per article page with 10 and with 10,000 articles: the count must not grow.

    .venv/bin/python bench/content_queries.py [--large 10000]

Counts every statement the app sends (SQLAlchemy's before_cursor_execute event) while the test
client loads each page, for an anonymous reader and a paying member, on a temporary SQLite
database (or DATABASE_URL). Counts are for a cold page (the process's page cache emptied first);
the time per request is the warm figure for the paying member. Exits 1 if any count grows.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PAGES = [
    ("library", "/articles/"),
    ("library, region + muscle", "/articles/?category=hip-and-thigh&tag=hamstrings"),
    ("search", "/articles/?q=trigger+point+pain"),
    ("public article", "/articles/hamstrings"),
    ("paid article", "/articles/piriformis"),
    ("API list", "/api/v1/articles?q=muscle"),
    ("API article", "/api/v1/articles/piriformis"),
]
WORDS = [
    "trigger",
    "point",
    "referred",
    "pain",
    "muscle",
    "fascia",
    "tendon",
    "stretch",
    "compression",
    "shoulder",
    "neck",
    "hip",
    "knee",
    "calf",
    "back",
    "thigh",
    "ache",
    "stiffness",
    "posture",
    "strain",
    "overload",
    "release",
    "technique",
    "massage",
]


def _add_articles(count: int, start: int) -> None:
    """Insert generated published articles in bulk (rendered once, like the importer would)."""
    from sqlalchemy import insert, select

    from campus.content.models import Article, Category, Tag, article_tags
    from campus.content.render import render_article
    from campus.content.services import get_or_create_category, get_or_create_tags
    from campus.extensions import db
    from campus.models.base import utcnow

    rng = random.Random(start)
    regions = [get_or_create_category(n).id for n in ("Back", "Shoulder", "Knee and leg")]
    tags = [t.id for t in get_or_create_tags([f"Muscle {n}" for n in range(40)])]
    now = utcnow()
    rows, links = [], []
    for n in range(start, start + count):
        text = " ".join(rng.choice(WORDS) for _ in range(400))
        body = f"{text[:600]}\n\n<!-- more -->\n\n{text[600:]}"
        rendered = render_article(body)
        rows.append(
            {
                "slug": f"generated-{n}",
                "title": f"Generated article {n}",
                "summary": text[:160],
                "body_md": body,
                "preview_html": rendered.preview_html,
                "full_html": rendered.full_html,
                "preview_text": rendered.preview_text,
                "full_text": rendered.full_text,
                "reading_minutes": rendered.reading_minutes,
                "visibility": rng.choice(["public", "members", "paid"]),
                "status": "published",
                "category_id": rng.choice(regions),
                "author_name": "Bench",
                "published_at": now - timedelta(days=n % 900 + 30, minutes=n),
                "created_at": now,
                "updated_at": now,
            }
        )
    for chunk in range(0, len(rows), 1000):
        db.session.execute(insert(Article), rows[chunk : chunk + 1000])
    ids = db.session.scalars(
        select(Article.id).where(Article.slug.like("generated-%")).order_by(Article.id)
    ).all()[-count:]
    for article_id in ids:
        for tag_id in rng.sample(tags, 3):
            links.append({"article_id": article_id, "tag_id": tag_id})
    for chunk in range(0, len(links), 2000):
        db.session.execute(insert(article_tags), links[chunk : chunk + 2000])
    db.session.commit()
    del Category, Tag


def _measure(app, client_for) -> dict[str, tuple[int, int, float]]:
    """{page: (queries anonymous, queries paying member (both cold), ms per request as member)}."""
    from sqlalchemy import event

    from campus.cache import clear_caches
    from campus.extensions import db

    with app.app_context():
        engine = db.engine
    counter = {"n": 0}

    def _count(*_args, **_kwargs) -> None:
        counter["n"] += 1

    figures = {}
    anonymous, member = client_for(None), client_for("member")
    for name, path in PAGES:
        row = []
        for client in (anonymous, member):
            client.get(path)  # warm templates and compiled SQL...
            # ...but count a cold page: no article pages or promo kept by the process.
            clear_caches(app, prefix="content")
            event.listen(engine, "before_cursor_execute", _count)
            counter["n"] = 0
            response = client.get(path)
            event.remove(engine, "before_cursor_execute", _count)
            assert response.status_code == 200, (path, response.status_code)
            row.append(counter["n"])
        started = time.perf_counter()
        for _ in range(20):
            member.get(path)
        figures[name] = (row[0], row[1], (time.perf_counter() - started) / 20 * 1000)
    return figures


def main() -> int:
    """Measure with 10 articles, grow the library, measure again and compare."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--large", type=int, default=10_000)
    args = parser.parse_args()
    from bench.harness import bench_environment

    tmp = bench_environment("campus-queries-", os.environ.get("DATABASE_URL"))
    try:
        from flask_migrate import upgrade

        from campus import create_app
        from campus.content.demo import seed
        from campus.extensions import db

        app = create_app()
        with app.app_context():
            upgrade()
            seed()
            db.session.commit()
            from bench.harness import make_user

            make_user("member@bench.example", paid=True)
            from campus.accounts.services import get_user_by_email
            from campus.accounts.sessions import start_session

            session_id = start_session(get_user_by_email("member@bench.example"))
            db.session.commit()
            from campus.content.models import Article

            small = db.session.scalar(db.select(db.func.count()).select_from(Article))
            _add_articles(10 - small, 0)

        def client_for(who):
            client = app.test_client()
            if who:
                with client.session_transaction() as session:
                    session["_user_id"] = session_id
                    session["_fresh"] = True
            return client

        first = _measure(app, client_for)
        with app.app_context():
            started = time.perf_counter()
            _add_articles(args.large - 10, 10)
            load_s = time.perf_counter() - started
        second = _measure(app, client_for)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    db_name = os.environ["DATABASE_URL"].split(":", 1)[0]
    print(
        f"\nSQL queries per page ({db_name}; {args.large - 10} articles loaded in {load_s:.0f}s)\n"
    )
    header = (
        f"{'page':<28} {'10: anon':>9} {'member':>7} {'ms':>7}   "
        f"{args.large}: anon {'member':>7} {'ms':>7}"
    )
    print(header)
    print("-" * len(header))
    grew = False
    for name, _path in PAGES:
        a, b = first[name], second[name]
        flag = "" if (a[0], a[1]) == (b[0], b[1]) else "  GREW"
        grew |= bool(flag)
        print(
            f"{name:<28} {a[0]:>9} {a[1]:>7} {a[2]:>7.1f}   {b[0]:>11} {b[1]:>7} {b[2]:>7.1f}{flag}"
        )
    print("\nQuery counts do not grow with the library." if not grew else "\nA count grew.")
    return 1 if grew else 0


if __name__ == "__main__":
    sys.exit(main())

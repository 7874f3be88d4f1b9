"""Search at 10,000 articles: every match ranked (as before) against the candidate-limited path.

    .venv/bin/python bench/search.py [--articles 10000] [--rounds 15]
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/campus_search .venv/bin/python bench/search.py

Builds a temporary instance (SQLite by default, or the empty PostgreSQL database DATABASE_URL
names; it is created if missing and dropped after), loads generated articles (tests/content/
search_corpus.py: Zipf-like domain words, so "pain" matches nearly every article), then times the
library's first search page for an anonymous reader and a paying member: the full ranking of the
old search against `campus.content.services.library_page`. Both pages must be identical. Prints
p50/p95 in ms per query and overall; exits 1 if a page differs or the new p50 is 30 ms or more.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET_P50_MS = 30.0


def _old_page(reader, q: str, per_page: int) -> tuple[list[str], int]:
    """The first page and the total, ranked the old way (every match, in full)."""
    from sqlalchemy import func
    from sqlalchemy.orm import joinedload, selectinload

    from campus.content.models import Article
    from campus.content.search import search_terms
    from campus.content.services import listable
    from campus.extensions import db
    from tests.content.search_corpus import reference_search

    stmt = reference_search(listable(reader), search_terms(q), reader)
    total = db.session.scalar(
        stmt.with_only_columns(func.count(Article.id), maintain_column_froms=True).order_by(None)
    )
    items = db.session.scalars(
        stmt.options(joinedload(Article.category), selectinload(Article.tags)).limit(per_page)
    ).all()
    return [a.slug for a in items], total or 0


def _new_page(reader, q: str, per_page: int) -> tuple[list[str], int]:
    from campus.content.services import library_page

    page = library_page(reader, q=q, per_page=per_page)
    return [a.slug for a in page.items], page.total


def _time(fn, rounds: int) -> list[float]:
    from campus.extensions import db

    samples = []
    for _ in range(rounds):
        db.session.expunge_all()
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
        db.session.rollback()
    return samples


def _pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    """Load the corpus, check the two paths agree, time them, print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    from bench.harness import bench_environment

    url = os.environ.get("DATABASE_URL")
    tmp = bench_environment("campus-search-", url)
    created_pg = False
    try:
        if url and url.startswith("postgresql"):
            from tests.support import _ensure_pg_database

            _ensure_pg_database(url)
            created_pg = True
        from flask_migrate import upgrade

        from campus import create_app
        from campus.content.access import ANONYMOUS, Reader
        from campus.extensions import db
        from tests.content.search_corpus import QUERIES, article_rows, insert_articles

        app = create_app()
        with app.app_context():
            upgrade()
            started = time.perf_counter()
            rows = article_rows(args.articles)
            insert_articles(rows)
            db.session.commit()
            if db.engine.dialect.name == "postgresql":
                with db.engine.connect() as conn:
                    conn.exec_driver_sql("ANALYZE")
                    conn.commit()
            load_s = time.perf_counter() - started
            member = Reader(signed_in=True, paid=True)
            readers = [("anonymous", ANONYMOUS), ("paying member", member)]
            rows_out, old_all, new_all, differ = [], [], [], 0
            for who, reader in readers:
                for q in QUERIES:
                    old = _old_page(reader, q, 12)
                    new = _new_page(reader, q, 12)
                    same = old == new
                    differ += not same
                    old_ms = _time(lambda r=reader, q=q: _old_page(r, q, 12), args.rounds)
                    new_ms = _time(lambda r=reader, q=q: _new_page(r, q, 12), args.rounds)
                    old_all += old_ms
                    new_all += new_ms
                    rows_out.append((who, q, old[1], old_ms, new_ms, same))
            db.session.remove()
            db.engine.dispose()
    finally:
        if created_pg:
            _drop_pg_database(url)
        shutil.rmtree(tmp, ignore_errors=True)

    name = os.environ["DATABASE_URL"].split(":", 1)[0]
    print(
        f"\nSearch, first page of 12, {args.articles} articles on {name} (loaded in {load_s:.0f}s)"
    )
    print(f"{args.rounds} rounds per query; ms\n")
    head = (
        f"{'reader':<14} {'query':<28} {'matches':>7}  {'old p50':>8} {'old p95':>8}"
        f"  {'new p50':>8} {'new p95':>8}  same page"
    )
    print(head)
    print("-" * len(head))
    for who, q, total, old_ms, new_ms, same in rows_out:
        print(
            f"{who:<14} {q:<28} {total:>7}  {statistics.median(old_ms):>8.1f} "
            f"{_pct(old_ms, 0.95):>8.1f}  {statistics.median(new_ms):>8.1f} "
            f"{_pct(new_ms, 0.95):>8.1f}  {'yes' if same else 'NO'}"
        )
    old_p50, new_p50 = statistics.median(old_all), statistics.median(new_all)
    print("-" * len(head))
    print(
        f"{'all queries':<43} {'':>7}  {old_p50:>8.1f} {_pct(old_all, 0.95):>8.1f}  "
        f"{new_p50:>8.1f} {_pct(new_all, 0.95):>8.1f}  "
        f"{'all same' if not differ else f'{differ} differ'}"
    )
    ok = not differ and new_p50 < TARGET_P50_MS
    print(
        f"\nTarget: identical first pages, new p50 under {TARGET_P50_MS:.0f} ms: "
        f"{'met' if ok else 'NOT met'}"
    )
    return 0 if ok else 1


def _drop_pg_database(url: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from tests.support import _pg_url

    target = make_url(_pg_url(url))
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
    admin.dispose()


if __name__ == "__main__":
    sys.exit(main())

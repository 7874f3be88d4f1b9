"""Migration 0016 keeps each article's search vectors in its row on PostgreSQL."""

from __future__ import annotations

from sqlalchemy import text

from tests.scratch import migrating

NOW = "2026-11-01 10:00:00"


def _toasted_values(conn) -> int:
    """How many values of the articles table live in its TOAST table (live rows only)."""
    conn.execute(text("VACUUM articles"))  # an UPDATE leaves the old version's chunks behind
    toast = conn.scalar(
        text("SELECT reltoastrelid::regclass::text FROM pg_class WHERE relname = 'articles'")
    )
    return conn.scalar(text(f"SELECT count(DISTINCT chunk_id) FROM {toast}"))


def test_postgres_moves_the_search_vectors_of_existing_articles_into_the_row(tmp_path):
    import random

    from flask_migrate import upgrade

    from campus.extensions import db

    rng = random.Random(16)
    # Words that do not compress: the text and its vector (about 4 KB) are too big for the
    # 2 KB a row aims at, though the vector fits a page.
    words = " ".join("".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=9)) for _ in range(300))
    with migrating("postgresql", tmp_path):
        upgrade(revision="0015_transcripts")
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO articles (slug, title, summary, body_md, preview_html, "
                    "full_html, preview_text, full_text, reading_minutes, visibility, "
                    "status, author_name, created_at, updated_at) VALUES ('t', 'Trapezius', "
                    "'', '', '', '', '', :words, 3, 'public', 'published', '', :now, :now)"
                ),
                {"words": words, "now": NOW},
            )
        engine = db.engine.execution_options(isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            assert _toasted_values(conn) == 2  # the full text and its vector
        upgrade(revision="0016_search_inline")
        with engine.connect() as conn:
            assert _toasted_values(conn) == 1  # the full text only
            found = conn.scalar(
                text(
                    "SELECT count(*) FROM articles "
                    "WHERE search_full @@ plainto_tsquery('english', 'trapezius')"
                )
            )
        assert found == 1

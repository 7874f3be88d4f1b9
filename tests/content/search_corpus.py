"""A generated article library for search tests and bench/search.py, and the ranking it must keep.

`reference_search` is the search as it was before candidates were limited: every match ranked
(ts_rank over the whole match set on PostgreSQL, FTS5's bm25 on SQLite). The faster search must
give the same first page, in the same order.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from sqlalchemy import Select, and_, bindparam, case, func, literal_column, not_, or_, text

DOMAIN = [
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
    "piriformis",
    "gluteus",
    "medius",
    "minimus",
    "trapezius",
    "levator",
    "scapulae",
    "scalenes",
    "sternocleidomastoid",
    "infraspinatus",
    "supraspinatus",
    "subscapularis",
    "teres",
    "pectoralis",
    "rhomboid",
    "latissimus",
    "erector",
    "quadratus",
    "lumborum",
    "iliopsoas",
    "adductor",
    "hamstrings",
    "quadriceps",
    "gastrocnemius",
    "soleus",
    "tibialis",
    "peroneus",
    "plantar",
    "fasciitis",
    "sciatica",
    "headache",
    "migraine",
    "jaw",
    "masseter",
    "temporalis",
    "forearm",
    "wrist",
    "thumb",
    "elbow",
    "tennis",
    "golfer",
    "palpation",
    "taut",
    "band",
    "twitch",
    "response",
    "ischemic",
    "dry",
    "needling",
    "heat",
    "ice",
    "breathing",
    "sleep",
    "desk",
    "runner",
    "cyclist",
    "swimmer",
    "rehab",
    "assessment",
    "range",
    "motion",
    "weakness",
]
SYLLABLES = [
    "ka",
    "lo",
    "mi",
    "ne",
    "ru",
    "sa",
    "ti",
    "vo",
    "ze",
    "pa",
    "qui",
    "dor",
    "fen",
    "gal",
    "hum",
    "jor",
    "kel",
    "mun",
    "nor",
    "pel",
]
QUERIES = [
    "pain",
    "trigger point",
    "muscle pain",
    "piriformis",
    "gluteus medius pain",
    "plantar fasciitis",
    "dry needling",
    "sciatica",
    "kalomi",
    "shoulder stiffness release",
    "zzzunknown",
]
VISIBILITIES = ("public", "members", "paid")


def _filler(rng: random.Random) -> list[str]:
    words = set()
    while len(words) < 3000:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(words)


def article_rows(count: int, seed: int = 18, *, words: int = 260) -> list[dict[str, Any]]:
    """Rows for `count` published articles: Zipf-like domain words mixed with rare filler."""
    from campus.content.render import render_article
    from campus.models.base import utcnow

    rng = random.Random(seed)
    filler = _filler(rng)
    domain_weights = [1 / (rank + 1) for rank in range(len(DOMAIN))]
    now = utcnow()
    rows = []
    for n in range(count):
        picked = rng.choices(DOMAIN, domain_weights, k=words * 2 // 3) + rng.choices(
            filler, k=words // 3
        )
        rng.shuffle(picked)
        paragraphs = [" ".join(picked[i : i + 40]).capitalize() + "." for i in range(0, words, 40)]
        body = "\n\n".join(paragraphs[:2]) + "\n\n<!-- more -->\n\n" + "\n\n".join(paragraphs[2:])
        rendered = render_article(body)
        title_words = rng.choices(DOMAIN, domain_weights, k=3)
        rows.append(
            {
                "slug": f"generated-{seed}-{n}",
                "title": f"{' '.join(title_words).title()} {n}",
                "summary": " ".join(rng.choices(DOMAIN, domain_weights, k=12)).capitalize() + ".",
                "body_md": body,
                "preview_html": rendered.preview_html,
                "full_html": rendered.full_html,
                "preview_text": rendered.preview_text,
                "full_text": rendered.full_text,
                "reading_minutes": rendered.reading_minutes,
                "visibility": rng.choice(VISIBILITIES),
                "status": "published",
                "author_name": "Generated",
                # Some share a publication time, so the tie-breaks are exercised too.
                "published_at": now - timedelta(days=rng.randint(1, 900)),
                "created_at": now,
                "updated_at": now,
            }
        )
    return rows


def insert_articles(rows: list[dict[str, Any]]) -> None:
    """Insert the rows in bulk; the search index follows (triggers, or stored generated columns)."""
    from sqlalchemy import insert

    from campus.content.models import Article
    from campus.extensions import db

    for start in range(0, len(rows), 1000):
        db.session.execute(insert(Article), rows[start : start + 1000])
    db.session.flush()


def reference_search(stmt: Select, terms: list[str], reader: Any) -> Select:
    """The search as it was: every match ranked (kept here as the oracle for the first page)."""
    from campus.content.access import readable_visibilities
    from campus.content.models import FTS_TABLE, Article
    from campus.extensions import db

    full_ok = Article.visibility.in_(readable_visibilities(reader))
    if db.engine.dialect.name == "postgresql":
        tsquery = func.plainto_tsquery(
            literal_column("'english'::regconfig"), bindparam("terms", " ".join(terms))
        )
        full_vector = literal_column(
            "to_tsvector('english'::regconfig, articles.title || ' ' || articles.summary"
            " || ' ' || articles.full_text)"
        )
        preview_vector = literal_column(
            "to_tsvector('english'::regconfig, articles.title || ' ' || articles.summary"
            " || ' ' || articles.preview_text)"
        )
        rank = func.ts_rank(case((full_ok, full_vector), else_=preview_vector), tsquery)
        return stmt.where(
            or_(
                and_(full_ok, full_vector.op("@@")(tsquery)),
                and_(not_(full_ok), preview_vector.op("@@")(tsquery)),
            )
        ).order_by(rank.desc(), Article.published_at.desc(), Article.id.desc())
    phrase = " AND ".join(f'"{term}"' for term in terms)
    matches = text(
        f"SELECT rowid AS article_id, rank AS score, 1 AS full_hit FROM {FTS_TABLE} "
        f"WHERE {FTS_TABLE} MATCH :full_q "
        f"UNION ALL SELECT rowid, rank, 0 FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :preview_q"
    ).columns(literal_column("article_id"), literal_column("score"), literal_column("full_hit"))
    hits = matches.bindparams(
        full_q=f"{{title summary full_text}} : ({phrase})",
        preview_q=f"{{title summary preview_text}} : ({phrase})",
    ).subquery("hits")
    return stmt.join(
        hits,
        and_(
            hits.c.article_id == Article.id,
            or_(and_(hits.c.full_hit == 1, full_ok), and_(hits.c.full_hit == 0, not_(full_ok))),
        ),
    ).order_by(hits.c.score, Article.published_at.desc(), Article.id.desc())

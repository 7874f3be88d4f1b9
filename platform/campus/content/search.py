"""Full-text search over what each reader may see: PostgreSQL tsvector or SQLite FTS5.

Every article is indexed twice: title, summary and preview text; and title, summary and the full
text. A reader is matched against the full text of articles they may read and against the
preview of the others, so a search can never reveal (or even hint at) gated text.
"""

from __future__ import annotations

import re
from typing import Any

from markupsafe import Markup, escape
from sqlalchemy import (
    ColumnClause,
    Select,
    and_,
    bindparam,
    case,
    func,
    literal_column,
    not_,
    or_,
    text,
)

from campus.content.access import Reader, readable_visibilities
from campus.content.models import FTS_TABLE, Article
from campus.extensions import db

MAX_QUERY_CHARS = 1000  # only the start of an enormous query is read
MAX_TERMS = 8
MAX_TERM_CHARS = 40
_TERM = re.compile(r"[^\W_]+", re.UNICODE)

PREVIEW_DOCUMENT = "title || ' ' || summary || ' ' || preview_text"
FULL_DOCUMENT = "title || ' ' || summary || ' ' || full_text"
# The migration builds GIN indexes on exactly these expressions; queries must repeat them.
PG_PREVIEW_VECTOR = f"to_tsvector('english'::regconfig, {PREVIEW_DOCUMENT})"
PG_FULL_VECTOR = f"to_tsvector('english'::regconfig, {FULL_DOCUMENT})"


def search_terms(query: str | None) -> list[str]:
    """Turn whatever was typed into a few plain words (no operators, quotes or syntax)."""
    if not query:
        return []
    terms: list[str] = []
    for word in _TERM.findall(query[:MAX_QUERY_CHARS].lower()):
        word = word[:MAX_TERM_CHARS]
        if word not in terms:
            terms.append(word)
        if len(terms) == MAX_TERMS:
            break
    return terms


def apply_search(stmt: Select, terms: list[str], reader: Reader) -> Select:
    """Filter and order an article query by the search terms, within what the reader may see."""
    readable = readable_visibilities(reader)
    full_ok = Article.visibility.in_(readable)
    if db.engine.dialect.name == "postgresql":
        tsquery = func.plainto_tsquery(
            literal_column("'english'::regconfig"), bindparam("terms", " ".join(terms))
        )
        full_vector: ColumnClause[Any] = literal_column(_qualified(PG_FULL_VECTOR))
        preview_vector: ColumnClause[Any] = literal_column(_qualified(PG_PREVIEW_VECTOR))
        rank = func.ts_rank(case((full_ok, full_vector), else_=preview_vector), tsquery)
        return stmt.where(
            or_(
                and_(full_ok, full_vector.op("@@")(tsquery)),
                and_(not_(full_ok), preview_vector.op("@@")(tsquery)),
            )
        ).order_by(rank.desc(), Article.published_at.desc(), Article.id.desc())
    # SQLite FTS5: one MATCH per column set, each limited to the articles it applies to.
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


def _qualified(expr: str) -> str:
    for column in ("title", "summary", "preview_text", "full_text"):
        expr = re.sub(rf"(?<![\w.]){column}\b", f"articles.{column}", expr)
    return expr


def snippet(text_value: str, terms: list[str], width: int = 220) -> Markup:
    """Cut a window of `text_value` around the first term found and mark every term in it."""
    if not text_value:
        return Markup("")
    lowered = text_value.lower()
    positions = [lowered.find(term) for term in terms if lowered.find(term) >= 0]
    start = max(0, min(positions) - width // 3) if positions else 0
    if start:
        space = text_value.find(" ", start)
        start = space + 1 if 0 <= space < start + 30 else start
    end = min(len(text_value), start + width)
    if end < len(text_value):
        space = text_value.rfind(" ", start, end)
        end = space if space > start + width // 2 else end
    window = text_value[start:end]
    if terms:
        pattern = re.compile(
            "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)), re.IGNORECASE
        )
        pieces, last = [], 0
        for match in pattern.finditer(window):
            pieces.append(escape(window[last : match.start()]))
            pieces.append(Markup("<mark>") + escape(match.group(0)) + Markup("</mark>"))
            last = match.end()
        pieces.append(escape(window[last:]))
        body = Markup("").join(pieces)
    else:
        body = escape(window)
    return (
        (Markup("… ") if start else Markup(""))
        + body
        + (Markup(" …") if end < len(text_value) else Markup(""))
    )

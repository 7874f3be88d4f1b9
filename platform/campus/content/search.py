"""Full-text search over what each reader may see: PostgreSQL tsvector or SQLite FTS5.

Every article is indexed twice: title, summary and preview text; and title, summary and the full
text. A reader is matched against the full text of articles they may read and against the
preview of the others, so a search can never reveal (or even hint at) gated text.

PostgreSQL ranks every match in one scan that also counts them, from stored tsvectors kept in
each article's row (not text parsed again per row, nor read from the TOAST table). SQLite counts
without ranking, then reads FTS5's bm25 order only until the page and any ties are settled.
The page is the one a full ranking of every match gives (rank, then newest, then highest id),
which tests/content/test_search_ranking.py checks against the full ranking.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from markupsafe import Markup, escape
from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    case,
    func,
    literal_column,
    not_,
    or_,
    select,
    text,
)

from campus.content.access import Reader, readable_visibilities
from campus.content.models import FTS_TABLE, VISIBILITIES, Article
from campus.extensions import db

MAX_QUERY_CHARS = 1000  # only the start of an enormous query is read
MAX_TERMS = 8
MAX_TERM_CHARS = 40
_TERM = re.compile(r"[^\W_]+", re.UNICODE)

# PostgreSQL: stored generated columns (migration 0014) with a GIN index each.
PG_FULL_VECTOR = "articles.search_full"
PG_PREVIEW_VECTOR = "articles.search_preview"
# SQLite: rows read from FTS5's bm25 order per round trip while settling a page.
SQLITE_BATCH = 200


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


def _arms(reader: Reader) -> list[tuple[bool, ColumnElement[bool]]]:
    """(full text?, which articles) for each index this reader is matched against."""
    readable = readable_visibilities(reader)
    arms: list[tuple[bool, ColumnElement[bool]]] = []
    if readable:
        arms.append((True, Article.visibility.in_(readable)))
    if set(readable) != set(VISIBILITIES):
        # Unknown visibilities are closed (access.may_read_full): not_(in_) covers them too.
        arms.append((False, not_(Article.visibility.in_(readable))))
    return arms


def _tsquery(terms: list[str]) -> ColumnElement[Any]:
    return func.plainto_tsquery(
        literal_column("'english'::regconfig"), bindparam("terms", " ".join(terms))
    )


def _fts_query(terms: list[str], full: bool) -> str:
    phrase = " AND ".join(f'"{term}"' for term in terms)
    columns = "title summary full_text" if full else "title summary preview_text"
    return f"{{{columns}}} : ({phrase})"


def match_condition(terms: list[str], reader: Reader) -> ColumnElement[bool]:
    """The WHERE clause of the articles this reader finds with these terms (no ranking)."""
    if db.engine.dialect.name == "postgresql":
        tsquery = _tsquery(terms)
        return or_(
            *(
                and_(which, literal_column(_vector(full)).op("@@")(tsquery))
                for full, which in _arms(reader)
            )
        )
    return or_(
        *(
            and_(
                which,
                Article.id.in_(_fts_rowids(terms, full)),
            )
            for full, which in _arms(reader)
        )
    )


def _fts_rowids(terms: list[str], full: bool) -> Select:
    fts = text(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :q_{int(full)}")
    sub = fts.bindparams(**{f"q_{int(full)}": _fts_query(terms, full)}).columns(
        literal_column("rowid")
    )
    return select(sub.subquery().c.rowid)


def _vector(full: bool) -> str:
    return PG_FULL_VECTOR if full else PG_PREVIEW_VECTOR


def search_page(
    stmt: Select, terms: list[str], reader: Reader, *, limit: int, offset: int
) -> tuple[int, list[int]]:
    """Count the matches of an article query and return the ids of one page, best first."""
    matched = stmt.where(match_condition(terms, reader))
    if db.engine.dialect.name == "postgresql":
        return _postgresql_page(matched, terms, reader, limit=limit, offset=offset)
    total = _count(matched)
    if not total or offset >= total:
        return total, []
    return total, _sqlite_page(stmt, terms, reader, offset + limit)[offset:]


def _count(matched: Select) -> int:
    """How many articles the matched query finds (no ranking)."""
    counting = matched.with_only_columns(func.count(Article.id), maintain_column_froms=True)
    return db.session.scalar(counting.order_by(None)) or 0


def _postgresql_page(
    matched: Select, terms: list[str], reader: Reader, *, limit: int, offset: int
) -> tuple[int, list[int]]:
    """One scan ranks every match and counts them (a window over the ranked rows)."""
    arms = _arms(reader)
    vector: ColumnElement[Any] = literal_column(_vector(arms[0][0]))
    if len(arms) == 2:
        vector = case((arms[0][1], vector), else_=literal_column(_vector(arms[1][0])))
    # OFFSET 0 keeps the rank in the inner query: without it the planner computes the rank
    # above the window, which then stores every match's tsvectors on the way.
    ranked = (
        matched.with_only_columns(
            Article.id,
            Article.published_at,
            func.ts_rank(vector, _tsquery(terms)).label("rank"),
            maintain_column_froms=True,
        )
        .order_by(None)
        .offset(0)
        .subquery("ranked")
    )
    counted = select(ranked, func.count().over().label("total")).subquery("counted")
    rows = db.session.execute(
        select(counted.c.id, counted.c.total)
        .order_by(counted.c.rank.desc(), counted.c.published_at.desc(), counted.c.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    if rows:
        return rows[0][1], [row[0] for row in rows]
    # Past the last page no row carries the total: count apart (the first page needs not).
    return (_count(matched) if offset else 0), []


def _sqlite_page(stmt: Select, terms: list[str], reader: Reader, need: int) -> list[int]:
    """The best `need` ids: bm25 order from FTS5, each arm read until the page is settled."""
    found: list[tuple[float, int, float, int]] = []
    for full, which in _arms(reader):
        ranked = db.session.execute(
            text(f"SELECT rowid, rank FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :q ORDER BY rank"),
            {"q": _fts_query(terms, full)},
        )
        kept: list[tuple[float, int, float, int]] = []
        while batch := ranked.fetchmany(SQLITE_BATCH):
            score = {row[0]: row[1] for row in batch}
            rows = db.session.execute(
                stmt.where(which, Article.id.in_(list(score))).with_only_columns(
                    Article.id, Article.published_at, maintain_column_froms=True
                )
            ).all()
            kept.extend(_sort_key(score[i], published, i) for i, published in rows)
            kept.sort()
            # FTS5 hands rows in rank order: once the last one read ranks below the need-th
            # kept, nothing further can enter the page (ties included).
            if len(kept) >= need and batch[-1][1] > kept[need - 1][0]:
                break
        ranked.close()
        if len(kept) > need:
            kept = kept[:need] + [k for k in kept[need:] if k[0] == kept[need - 1][0]]
        found.extend(kept)
    found.sort()
    return [-key[3] for key in found[:need]]


def _sort_key(
    score: float, published: datetime | None, article_id: int
) -> tuple[float, int, float, int]:
    """bm25 ascending, then newest first (undated last, as SQLite sorts NULL), then id down."""
    when = -published.timestamp() if published else 0.0
    return (score, 0 if published else 1, when, -article_id)


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

"""The search ranks only what a page needs and gives the page a full ranking of all would."""

from __future__ import annotations

import pytest
from sqlalchemy import func

from campus.content.access import ANONYMOUS, Reader
from campus.content.models import Article
from campus.content.search import search_terms
from campus.content.services import library_page, listable
from campus.extensions import db
from tests.content.search_corpus import QUERIES, article_rows, insert_articles, reference_search

READERS = {
    "anonymous": ANONYMOUS,
    "free member": Reader(signed_in=True),
    "paying member": Reader(signed_in=True, paid=True),
    "admin": Reader(signed_in=True, paid=True, admin=True),
}


def _reference(reader: Reader, q: str, page: int, per_page: int) -> tuple[list[str], int]:
    stmt = reference_search(listable(reader), search_terms(q), reader)
    total = db.session.scalar(
        stmt.with_only_columns(func.count(Article.id), maintain_column_froms=True).order_by(None)
    )
    items = db.session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)).all()
    return [a.slug for a in items], total or 0


@pytest.fixture
def corpus(app):
    with app.app_context():
        rows = article_rows(240, words=60)
        # Drafts (admins find them; they have no date) and a few exact duplicates, so that
        # equal ranks are broken by date and id as before.
        for row in rows[:12]:
            row.update(status="draft", published_at=None)
        for n in range(8):
            rows.append(dict(rows[20 + n], slug=f"twin-{n}"))
        insert_articles(rows)
        db.session.commit()
    return rows


@pytest.mark.parametrize("who", list(READERS))
def test_each_search_page_is_the_one_full_ranking_gives(app, corpus, who, monkeypatch):
    from campus.content import search

    # Small reads from FTS5's order, so that settling a page takes several of them.
    monkeypatch.setattr(search, "SQLITE_BATCH", 5)
    reader = READERS[who]
    with app.app_context():
        for q in QUERIES:
            for page, per_page in ((1, 12), (2, 12), (3, 7)):
                new = library_page(reader, q=q, page=page, per_page=per_page)
                expected = _reference(reader, q, page, per_page)
                assert ([a.slug for a in new.items], new.total) == expected, (q, page)


def test_a_search_with_a_region_finds_the_same_page_as_the_full_ranking(app, corpus):
    from campus.content.services import get_or_create_category

    with app.app_context():
        back = get_or_create_category("Back")
        for article in db.session.scalars(db.select(Article).where(Article.id % 3 == 0)):
            article.category = back
        db.session.commit()
        stmt = listable(ANONYMOUS).where(Article.category_id == back.id)
        new = library_page(ANONYMOUS, q="trigger point", category="back")
        expected = reference_search(stmt, ["trigger", "point"], ANONYMOUS)
        expected_slugs = [a.slug for a in db.session.scalars(expected.limit(12))]
        assert [a.slug for a in new.items] == expected_slugs
        assert new.items


def test_a_page_past_the_last_match_is_empty_but_keeps_the_count(app, corpus):
    with app.app_context():
        first = library_page(ANONYMOUS, q="sciatica")
        far = library_page(ANONYMOUS, q="sciatica", page=first.pages + 1)
    assert first.total > 0 and first.items
    assert far.items == [] and far.total == first.total

"""Full-text search (FTS5 on SQLite, tsvector on PostgreSQL) over what each reader may see."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campus.content.search import search_terms
from tests import support
from tests.content.helpers import make_article, sign_in_as


def _slugs(response) -> list[str]:
    return [item["slug"] for item in response.get_json()["items"]]


def test_search_finds_articles_by_words_in_title_summary_and_body(app, client):
    with app.app_context():
        make_article(slug="glute", title="Gluteus medius", body_md="Pain along the iliac crest.")
        make_article(slug="calf", title="Gastrocnemius", body_md="Night cramps in the calf.")
    assert _slugs(client.get("/api/v1/articles?q=gluteus")) == ["glute"]
    assert _slugs(client.get("/api/v1/articles?q=cramps")) == ["calf"]
    # Stemming: "cramping" finds "cramps" on both backends.
    assert _slugs(client.get("/api/v1/articles?q=cramping")) == ["calf"]
    assert _slugs(client.get("/api/v1/articles?q=calf cramps")) == ["calf"]
    assert _slugs(client.get("/api/v1/articles?q=calf crest")) == []


def test_search_snippet_marks_the_words_and_shows_only_visible_text(app, client):
    with app.app_context():
        make_article(slug="pir", visibility="paid", title="Piriformis")
    r = client.get("/articles/?q=piriformis")
    html = r.get_data(as_text=True)
    assert "<mark>Piriformis</mark>" in html or "Piriformis" in html
    assert "gatedwordpir" not in html
    api = client.get("/api/v1/articles?q=previewwordpir").get_json()
    assert "<mark>previewwordpir</mark>" in api["items"][0]["snippet"]
    assert "gatedwordpir" not in api["items"][0]["snippet"]


def test_a_paying_member_finds_words_below_the_cut(app, client):
    with app.app_context():
        make_article(slug="ql", visibility="paid", title="Quadratus lumborum")
    assert _slugs(client.get("/api/v1/articles?q=gatedwordql")) == []
    sign_in_as(app, client, "paying_member")
    r = client.get("/api/v1/articles?q=gatedwordql").get_json()
    assert [i["slug"] for i in r["items"]] == ["ql"]
    assert "<mark>gatedwordql</mark>" in r["items"][0]["snippet"]


ODD_QUERIES = [
    '"',
    "'",
    "\"unbalanced 'quotes",
    "a' OR '1'='1",
    "title:piriformis",
    "{title} : x",
    "NEAR(a b)",
    "AND OR NOT",
    "piri*",
    "^start",
    "(((",
    "-- ; DROP TABLE articles; --",
    "%_\\",
    "!@#$%^&*()[]{}<>?/|~`",
    "<script>alert(1)</script>",
    "\u0000nul",
    "émile müller ñandú 東京",
    "🦵🏽 💪",
    " ",
    "x" * 10_000,
    "word " * 2_000,
]


@pytest.mark.parametrize("query", ODD_QUERIES, ids=range(len(ODD_QUERIES)))
def test_odd_search_queries_get_a_clean_answer(app, client, query):
    with app.app_context():
        make_article(slug="ham", title="Hamstrings")
    page = client.get("/articles/", query_string={"q": query})
    assert page.status_code == 200
    assert "<script>alert(1)</script>" not in page.get_data(as_text=True)
    api = client.get("/api/v1/articles", query_string={"q": query})
    assert api.status_code == 200
    assert isinstance(api.get_json()["items"], list)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(query=st.text(max_size=300))
def test_any_text_is_a_valid_search(app, query):
    client = app.test_client()
    assert client.get("/api/v1/articles", query_string={"q": query}).status_code == 200


def test_search_terms_are_plain_bounded_words():
    assert search_terms('"Piriformis" AND (sciatic*) -nerve') == [
        "piriformis",
        "and",
        "sciatic",
        "nerve",
    ]
    assert len(search_terms("a b c d e f g h i j k")) == 8
    assert search_terms("x" * 10_000) == ["x" * 40]
    assert search_terms("!!! ???") == []


@pytest.mark.skipif(not support.is_postgres(), reason="PostgreSQL only")
def test_postgres_search_uses_the_gin_indexes(app):
    from sqlalchemy import text

    from campus.content.access import ANONYMOUS, Reader
    from campus.content.models import Article
    from campus.content.search import match_condition
    from campus.extensions import db

    def plan_for(reader) -> str:
        stmt = db.select(Article.id).where(match_condition(["zygapophysis"], reader))
        compiled = stmt.compile(db.engine, compile_kwargs={"literal_binds": True})
        # A few hundred rows fit a handful of pages: keep the planner off the plain scan.
        db.session.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(db.session.scalars(text(f"EXPLAIN {compiled}")).all())
        db.session.rollback()
        return plan

    with app.app_context():
        # A library the planner has statistics for, where one article mentions a rare word.
        from tests.content.search_corpus import article_rows, insert_articles

        insert_articles(article_rows(300, words=40))
        make_article(slug="zygapophysis", body_md="The zygapophysis joint.")
        db.session.execute(text("ANALYZE articles"))
        db.session.commit()
        # A paying member is matched on full texts only; a visitor on previews too.
        assert "ix_articles_search_full" in plan_for(Reader(signed_in=True, paid=True))
        assert "ix_articles_search_preview" in plan_for(ANONYMOUS)


@pytest.mark.skipif(support.is_postgres(), reason="SQLite only")
def test_sqlite_index_follows_updates_and_deletes(app, client):
    from campus.content.models import Article
    from campus.content.services import save_article
    from campus.extensions import db

    with app.app_context():
        make_article(slug="moving", body_md="Talks about scalenes.")
        assert _slugs(client.get("/api/v1/articles?q=scalenes")) == ["moving"]
        save_article(
            slug="moving",
            title="Moving",
            body_md="Now about levator.",
            status="published",
            visibility="public",
        )
        db.session.commit()
        assert _slugs(client.get("/api/v1/articles?q=scalenes")) == []
        assert _slugs(client.get("/api/v1/articles?q=levator")) == ["moving"]
        db.session.delete(db.session.scalar(db.select(Article)))
        db.session.commit()
        assert _slugs(client.get("/api/v1/articles?q=levator")) == []


def test_a_page_past_the_last_keeps_the_count_and_shows_nothing(app):
    from campus.content.access import ANONYMOUS
    from campus.content.services import library_page

    with app.app_context():
        for n in range(3):
            make_article(slug=f"scal-{n}", title=f"Scalenes {n}", body_md="Scalenes refer pain.")
        first = library_page(ANONYMOUS, q="scalenes", per_page=2)
        second = library_page(ANONYMOUS, q="scalenes", page=2, per_page=2)
        beyond = library_page(ANONYMOUS, q="scalenes", page=5, per_page=2)
    assert (first.total, len(first.items)) == (3, 2)
    assert (second.total, len(second.items)) == (3, 1)
    assert {a.slug for a in first.items + second.items} == {"scal-0", "scal-1", "scal-2"}
    assert (beyond.total, beyond.items) == (3, [])


@pytest.mark.skipif(not support.is_postgres(), reason="PostgreSQL only")
def test_postgres_keeps_the_search_vectors_in_the_row(app):
    from sqlalchemy import text

    from campus.extensions import db

    with app.app_context():
        # 'm' (MAIN): a vector moves to the TOAST table only if the row cannot fit a page.
        storage = dict(
            db.session.execute(
                text(
                    "SELECT attname, attstorage FROM pg_attribute "
                    "WHERE attrelid = 'articles'::regclass "
                    "AND attname IN ('search_full', 'search_preview')"
                )
            ).all()
        )
    assert storage == {"search_full": "m", "search_preview": "m"}

"""Cached article pages: never shown to another kind of reader, never stale after a change."""

from __future__ import annotations

import re

from campus.content.services import save_article
from campus.extensions import db
from tests import support
from tests.content.helpers import body, make_article, sign_in_as


def test_a_page_cached_for_a_paying_member_is_not_served_to_anyone_else(app, client):
    with app.app_context():
        make_article(slug="cached-paid", visibility="paid")
    sign_in_as(app, client, "paying_member")
    assert "gatedwordcachedpaid" in client.get("/articles/cached-paid").get_data(as_text=True)
    for reader in ("anonymous", "free_member", "lapsed_member"):
        other = app.test_client()
        sign_in_as(app, other, reader)
        for _ in range(2):  # the second time comes from the cache
            html = other.get("/articles/cached-paid").get_data(as_text=True)
            assert "previewwordcachedpaid" in html and "gatedwordcachedpaid" not in html


def test_a_change_is_seen_at_once_by_cached_pages(app, client):
    with app.app_context():
        make_article(slug="changing", visibility="public", title="Before")
    assert "gatedwordchanging" in client.get("/articles/changing").get_data(as_text=True)
    with app.app_context():
        save_article(
            slug="changing", title="After", body_md=body("changing"), visibility="paid",
            status="published",
        )  # fmt: skip
        db.session.commit()
    html = client.get("/articles/changing").get_data(as_text=True)
    assert "After" in html and "gatedwordchanging" not in html
    with app.app_context():
        save_article(
            slug="changing", title="After", body_md=body("changing"), visibility="paid",
            status="draft",
        )  # fmt: skip
        db.session.commit()
    assert client.get("/articles/changing").status_code == 404


def _publish(slug: str, visibility: str) -> None:
    save_article(
        slug=slug, title=slug.title(), body_md=body(slug.replace("-", "")), visibility=visibility,
        status="published",
    )  # fmt: skip
    db.session.commit()


def test_pages_cached_after_a_backup_are_never_served_once_it_is_restored(app, client):
    from sqlalchemy import text

    from campus.content.cache import current_version

    with app.app_context():
        make_article(slug="restored", visibility="paid")
        make_article(slug="edited-later")
        backup = current_version()  # what a dump taken now holds
        _publish("restored", "public")
    assert "gatedwordrestored" in client.get("/articles/restored").get_data(as_text=True)
    with app.app_context():
        # The restore: the rows (and the version row with them) as they were in the dump.
        db.session.execute(text("UPDATE articles SET visibility = 'paid' WHERE slug = 'restored'"))
        db.session.execute(text("UPDATE content_version SET version = :v"), {"v": backup})
        db.session.commit()
    for _ in range(3):  # the editors carry on; no one reads the page in between
        with app.app_context():
            _publish("edited-later", "public")
        html = client.get("/articles/restored").get_data(as_text=True)
        assert "previewwordrestored" in html and "gatedwordrestored" not in html


def test_an_admins_draft_view_is_not_served_to_readers(app, client):
    with app.app_context():
        make_article(slug="secret-draft", status="draft")
    sign_in_as(app, client, "admin")
    assert client.get("/articles/secret-draft").status_code == 200
    assert app.test_client().get("/articles/secret-draft").status_code == 404


def test_paying_members_share_the_article_but_each_sees_their_own_header(app, client):
    with app.app_context():
        make_article(slug="shared-paid", visibility="paid", title="Shared before")
    sign_in_as(app, client, "paying_member")
    first = client.get("/articles/shared-paid").get_data(as_text=True)
    other = app.test_client()
    sign_in_as(app, other, "paying_member")
    second = other.get("/articles/shared-paid").get_data(as_text=True)
    assert "gatedwordsharedpaid" in first and "gatedwordsharedpaid" in second
    # The header is each reader's own: their session's form token, not a cached one.
    tokens = [
        re.search(r'name="csrf-token" content="([^"]+)"', h).group(1) for h in (first, second)
    ]
    assert tokens[0] != tokens[1]
    assert f'value="{tokens[0]}"' in first and f'value="{tokens[1]}"' in second
    with app.app_context():
        save_article(
            slug="shared-paid", title="Shared after", body_md=body("sharedpaid"),
            visibility="paid", status="published",
        )  # fmt: skip
        db.session.commit()
    html = other.get("/articles/shared-paid").get_data(as_text=True)
    assert "Shared after" in html and "Shared before" not in html


def test_the_article_cache_survives_threads_reading_and_evicting_at_once(app, monkeypatch):
    from campus.content import cache

    with app.app_context():  # every put evicts: the race needs evictions
        monkeypatch.setattr(cache._store(), "max_entries", 4)

    def hammer(seed: int) -> None:
        with app.app_context():
            for i in range(4000):
                key = ("article", (seed * 7 + i) % 9)
                cache.put(key, i, 1)
                cache.get(key, 1)
                cache.get(("article", (seed + i) % 9), 1)

    assert support.hammer_in_threads(hammer) == []


def test_a_withdrawn_download_leaves_the_article_pages_of_every_host(app, fresh_app, client):
    """A download an admin withdraws on one host is not offered once its promo is re-read."""
    from sqlalchemy import select

    from campus.cache import app_cache
    from campus.content.downloads import save_download
    from campus.content.models import Download

    with app.app_context():
        make_article(slug="with-promo", visibility="public")
        save_download(slug="old-guide", title="Old stretching guide", description="A handout",
                      filename="old-guide.pdf")  # fmt: skip
        db.session.commit()
    assert "Old stretching guide" in client.get("/articles/with-promo").get_data(as_text=True)
    with fresh_app.app_context():
        db.session.scalar(select(Download).where(Download.slug == "old-guide")).active = False
        db.session.commit()
    client.get("/articles/with-promo")  # the page is rebuilt for the new content version
    app_cache("content.promo", 1, app=app).clear()  # as a minute later: the promo is re-read
    assert "Old stretching guide" not in client.get("/articles/with-promo").get_data(as_text=True)


def test_an_anonymous_page_keeps_the_links_of_the_address_it_is_served_under(app, client):
    """Served under a script root (/school) and at the root, each answer links within itself."""
    with app.app_context():
        make_article(slug="two-roots", visibility="public")
    school = client.get("/articles/two-roots", base_url="http://localhost/school/")
    assert 'href="/school/courses/"' in school.get_data(as_text=True)
    root = client.get("/articles/two-roots").get_data(as_text=True)
    assert 'href="/courses/"' in root and "/school/" not in root

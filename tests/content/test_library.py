"""The library page, article pages, the feed and the API around them."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from campus.content.disclaimer import VERSION
from tests.content.helpers import body, make_article, sign_in_as


def test_library_shows_a_badge_for_each_visibility(app, client):
    with app.app_context():
        make_article(title="Free one", visibility="public")
        make_article(title="Members one", visibility="members")
        make_article(title="Paid one", visibility="paid")
    html = client.get("/articles/").get_data(as_text=True)
    assert 'class="badge badge-free">Free' in html
    assert 'title="Open to anyone with a free account">Free account</span>' in html
    assert 'class="badge badge-paid">Paid' in html


def test_library_filters_by_category_and_tag(app, client):
    with app.app_context():
        make_article(slug="hip-a", category="Hip and thigh", tags=["Piriformis"], title="Hip A")
        make_article(slug="hip-b", category="Hip and thigh", tags=["Hamstrings"], title="Hip B")
        make_article(slug="neck", category="Head and neck", tags=["Upper trapezius"], title="Neck")
    hip = client.get("/articles/?category=hip-and-thigh").get_data(as_text=True)
    assert "Hip A" in hip and "Hip B" in hip and ">Neck<" not in hip
    tagged = client.get("/articles/?category=hip-and-thigh&tag=piriformis").get_data(as_text=True)
    assert "Hip A" in tagged and "Hip B" not in tagged
    api = client.get("/api/v1/articles?tag=upper-trapezius").get_json()
    assert [i["slug"] for i in api["items"]] == ["neck"]
    # A region or muscle that is not there is a missing page, not an empty library.
    for address in ("/articles/?category=%00bad", "/articles/?category=bogus", "/articles/?tag=x"):
        missing = client.get(address)
        assert missing.status_code == 404 and "There are no articles" in missing.text, address
    assert client.get("/api/v1/articles?category=no-such-region").get_json()["total"] == 0


def test_library_paginates_newest_first(app, client):
    with app.app_context():
        for n in range(15):
            make_article(slug=f"page-{n:02d}", title=f"Paged {n:02d}", days_ago=n)
    first = client.get("/articles/").get_data(as_text=True)
    second = client.get("/articles/?page=2").get_data(as_text=True)
    assert "Paged 00" in first and "Paged 11" in first and "Paged 12" not in first
    assert "Page 1 of 2" in first and 'rel="next"' in first
    assert "Paged 12" in second and "Paged 14" in second and "Paged 00" not in second
    for odd in ("abc", "-1", "0", "99999999999"):
        assert client.get(f"/articles/?page={odd}").status_code == 200
    past = client.get("/articles/?page=3")
    assert past.status_code == 404 and "The articles end on page 2." in past.text
    api = client.get("/api/v1/articles?per_page=5&page=3").get_json()
    assert api["total"] == 15 and api["pages"] == 3
    assert [i["slug"] for i in api["items"]] == [f"page-{n:02d}" for n in range(10, 15)]
    assert client.get("/api/v1/articles?per_page=500").status_code == 422
    assert client.get("/api/v1/articles?page=abc").status_code == 422


def test_related_articles_share_the_most_tags(app, client):
    with app.app_context():
        make_article(slug="base", tags=["Piriformis", "Gluteus medius", "Hamstrings"])
        make_article(slug="two-shared", title="Two shared", tags=["Piriformis", "Hamstrings"])
        make_article(slug="one-shared", title="One shared", tags=["Gluteus medius"])
        make_article(slug="unrelated", title="Unrelated", tags=["Soleus"])
        make_article(slug="draft-rel", title="Draft related", tags=["Piriformis"], status="draft")
    body = client.get("/api/v1/articles/base").get_json()
    assert [r["slug"] for r in body["related"]] == ["two-shared", "one-shared"]
    html = client.get("/articles/base").get_data(as_text=True)
    assert html.index("Two shared") < html.index("One shared")
    assert "Unrelated" not in html and "Draft related" not in html


@pytest.mark.parametrize("visibility", ["public", "members", "paid"])
def test_every_article_carries_the_versioned_disclaimer(app, client, visibility):
    with app.app_context():
        make_article(slug="disc", visibility=visibility)
    html = client.get("/articles/disc").get_data(as_text=True)
    assert "Medical disclaimer" in html and f"version {VERSION}" in html
    assert client.get("/api/v1/articles/disc").get_json()["disclaimer"]["version"] == VERSION


def _membership_path(app) -> str:
    return "/membership" if "billing.membership" in app.view_functions else "/signup"


@pytest.mark.parametrize(
    ("reader", "visibility", "expected"),
    [
        ("anonymous", "members", "Create a free account"),
        ("anonymous", "paid", "Create a free account"),
        ("free_member", "paid", "Become a member"),
        ("lapsed_member", "paid", "Renew your membership"),
        ("unpaid_member", "paid", "Update your payment"),
        ("pending_member", "paid", "Finish your payment"),
        ("ended_member", "paid", "Renew your membership"),
    ],
)
def test_the_call_to_action_fits_the_reader(app, client, reader, visibility, expected):
    with app.app_context():
        make_article(slug="cta", visibility=visibility)
    sign_in_as(app, client, reader)
    html = client.get("/articles/cta").get_data(as_text=True)
    assert 'class="article-cta"' in html
    assert expected in html
    if reader == "pending_member":
        # A first payment still clearing or awaiting confirmation has not failed.
        assert "did not go through" not in html and "payment is pending" in html
    if reader == "anonymous":
        assert 'href="/signup?next=/articles/cta"' in html
        # It promises what a free account opens, in the words of the library's badge.
        assert "members&#39; article" not in html and "members' article" not in html
        if visibility == "members":
            assert "opens every free-account article in the library" in html
    else:
        assert f'href="{_membership_path(app)}"' in html


@pytest.mark.parametrize(
    ("reader", "visibility"),
    [("paying_member", "paid"), ("free_member", "members"), ("anonymous", "public")],
)
def test_readers_with_access_get_no_call_to_action(app, client, reader, visibility):
    with app.app_context():
        make_article(slug="open", visibility=visibility)
    sign_in_as(app, client, reader)
    html = client.get("/articles/open").get_data(as_text=True)
    assert 'class="article-cta"' not in html
    assert "gatedwordopen" in html


def test_feed_is_valid_atom_with_previews_for_gated_articles(app, client):
    with app.app_context():
        make_article(slug="feed-free", visibility="public", title="Free <feed> & co")
        make_article(slug="feed-paid", visibility="paid")
    r = client.get("/articles/feed.atom")
    assert r.mimetype == "application/atom+xml"
    root = ET.fromstring(r.data)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    entries = {e.find("a:title", ns).text: e for e in root.findall("a:entry", ns)}
    assert "Free <feed> & co" in entries
    contents = " ".join(e.find("a:content", ns).text for e in entries.values())
    assert "gatedwordfeedfree" in contents and "gatedwordfeedpaid" not in contents
    assert "previewwordfeedpaid" in contents and "Members can read the whole article" in contents


def test_a_control_character_in_an_article_does_not_break_the_feed(app, client):
    with app.app_context():
        make_article(
            slug="feed-pasted",
            title="Pasted\x0b title",
            body_md="A body pasted from a word processor\x0c with a form feed.",
        )
    root = ET.fromstring(client.get("/articles/feed.atom").data)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    assert [e.find("a:title", ns).text for e in root.findall("a:entry", ns)] == ["Pasted title"]


def test_openapi_document_lists_the_article_endpoints(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert any(p.endswith("/articles") for p in paths)
    assert any(p.endswith("/articles/{slug}") for p in paths)


def test_unknown_article_in_the_api_is_a_json_404(client):
    r = client.get("/api/v1/articles/nothing-here")
    assert r.status_code == 404
    assert r.get_json()["error"]["code"] == "not_found"


def _count_queries(app, path: str) -> int:
    from sqlalchemy import event

    from campus.extensions import db

    count = 0

    def _count(*_args, **_kwargs):
        nonlocal count
        count += 1

    with app.app_context():
        engine = db.engine
    client = app.test_client()
    client.get(path)  # warm what a process keeps between requests
    event.listen(engine, "before_cursor_execute", _count)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", _count)
    return count


def test_queries_per_page_do_not_grow_with_the_library(app):
    with app.app_context():
        for n in range(3):
            make_article(slug=f"q-{n}", tags=["Soleus", f"Tag {n}"])
    small = {p: _count_queries(app, p) for p in ("/articles/", "/articles/q-0")}
    with app.app_context():
        for n in range(3, 30):
            make_article(slug=f"q-{n}", tags=["Soleus", f"Tag {n}"])
    large = {p: _count_queries(app, p) for p in ("/articles/", "/articles/q-0")}
    assert small == large


def _edit(slug: str, title: str) -> None:
    from campus.content.services import save_article
    from campus.extensions import db

    save_article(
        slug=slug,
        title=title,
        summary="Edited.",
        body_md=body(slug),
        visibility="public",
        status="published",
        category="Hip and thigh",
        author_name="Test Author",
    )
    db.session.commit()


@pytest.mark.parametrize(
    ("published", "edited", "byline"),
    [
        # 9 a.m. and 8 p.m. on March 4 in California: the edit is March 5 in UTC.
        ((3, 4, 17), (3, 5, 4), "By Test Author · Published March 4, 2026"),
        # 8 p.m. on March 4 and 10 a.m. on March 5 in California: both March 5 in UTC.
        ((3, 5, 4), (3, 5, 18), "By Test Author · Published March 4, 2026 · Updated March 5, 2026"),
    ],
)
def test_an_article_says_it_was_updated_when_edited_on_a_later_provider_day(
    app, client, pacific, published, edited, byline
):
    import re
    from datetime import UTC, datetime

    import time_machine

    with app.app_context():
        with time_machine.travel(datetime(2026, *published, tzinfo=UTC), tick=False):
            make_article(slug="edited")
        with time_machine.travel(datetime(2026, *edited, tzinfo=UTC), tick=False):
            _edit("edited", "Edited later")
    page = client.get("/articles/edited").text
    shown = re.search(r'<p class="article-byline muted">(.*?)</p>', page, re.S)
    items = [" ".join(item.split()) for item in re.findall(r"<span>(.*?)</span>", shown.group(1))]
    assert re.fullmatch(r"\d+ min read", items.pop())
    assert " · ".join(items) == byline

"""Gated text reaches exactly the readers allowed to see it, on every surface."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from tests.content.helpers import READERS, make_article, sign_in_as

VISIBILITIES = ("public", "members", "paid")
SURFACES = ("article_page", "library_card", "search_result", "feed", "json")

# Written out by hand, independently of the code under test.
MAY_READ = {
    "anonymous": {"public"},
    "free_member": {"public", "members"},
    "paying_member": {"public", "members", "paid"},
    "lapsed_member": {"public", "members"},
    "admin": {"public", "members", "paid"},
}


def _expected(surface: str, reader: str, visibility: str) -> bool:
    if surface == "library_card":
        return False  # cards show the summary only, never the body
    if surface == "feed":
        return visibility == "public"  # the feed is the anonymous view: previews for gated
    return visibility in MAY_READ[reader]


def _results_region(html: str) -> str:
    """The result list of a library page (the search box and the note echo the query)."""
    start = html.index('<div class="library-main">')
    start = html.index("</nav>", start)  # after the region filters
    note_end = html.find('class="result-note', start)  # also "result-note facts-line"
    if note_end >= 0:
        start = html.index("</p>", note_end)
    return html[start : html.index('<aside class="library-side">')]


def _surface_text(client, surface: str, slug: str, gated_word: str) -> str:
    if surface == "article_page":
        r = client.get(f"/articles/{slug}")
    elif surface == "library_card":
        r = client.get("/articles/")
    elif surface == "search_result":
        r = client.get("/articles/", query_string={"q": gated_word})
        assert r.status_code == 200
        return _results_region(r.get_data(as_text=True))
    elif surface == "feed":
        r = client.get("/articles/feed.atom")
    else:
        r = client.get(f"/api/v1/articles/{slug}")
        assert r.status_code == 200
        listing = client.get("/api/v1/articles", query_string={"q": gated_word})
        assert listing.status_code == 200
        return r.get_data(as_text=True) + listing.get_data(as_text=True)
    assert r.status_code == 200
    return r.get_data(as_text=True)


@pytest.mark.parametrize("surface", SURFACES)
@pytest.mark.parametrize("visibility", VISIBILITIES)
@pytest.mark.parametrize("reader", READERS)
def test_gated_text_appears_exactly_where_the_reader_may_see_it(
    app, client, reader, visibility, surface
):
    with app.app_context():
        make_article(slug=f"leak-{visibility}", visibility=visibility, title="Leak check")
    gated_word = f"gatedwordleak{visibility}"
    preview_word = f"previewwordleak{visibility}"
    sign_in_as(app, client, reader)

    text = _surface_text(client, surface, f"leak-{visibility}", gated_word)

    assert (gated_word in text) is _expected(surface, reader, visibility)
    if surface in ("article_page", "json", "feed"):
        assert preview_word in text  # everyone gets the preview
    if surface == "library_card":
        assert "Leak check" in text and "Summary of article" in text
    if surface == "search_result":
        found = visibility in MAY_READ[reader]
        assert ('href="/articles/leak-' in text) is found
    if surface == "feed":
        ET.fromstring(text)  # well-formed Atom


@pytest.mark.parametrize("reader", READERS)
def test_a_draft_is_404_for_everyone_but_admins(app, client, reader):
    with app.app_context():
        make_article(slug="draft-one", visibility="public", status="draft", title="Draft title")
    sign_in_as(app, client, reader)
    page = client.get("/articles/draft-one")
    api = client.get("/api/v1/articles/draft-one")
    listing = client.get("/articles/").get_data(as_text=True)
    search = client.get("/articles/?q=gatedworddraftone").get_data(as_text=True)
    feed = client.get("/articles/feed.atom").get_data(as_text=True)
    if reader == "admin":
        assert page.status_code == 200 and "Draft" in page.get_data(as_text=True)
        assert api.status_code == 200
        assert "Draft title" in listing and "Draft title" in search
    else:
        assert page.status_code == 404
        assert "We could not find that page" in page.get_data(as_text=True)
        assert api.status_code == 404 and api.get_json()["error"]["code"] == "not_found"
        assert "Draft title" not in listing and "Draft title" not in search
    assert "Draft title" not in feed  # the feed is public: never drafts


def test_unknown_slug_renders_the_404_page(client):
    r = client.get("/articles/no-such-muscle")
    assert r.status_code == 404
    assert "We could not find that page" in r.get_data(as_text=True)


@pytest.mark.parametrize("slug", ["Bad%20Slug", "%00", "a" * 300, "..%2f..%2fetc"])
def test_odd_slugs_are_404_not_errors(client, slug):
    assert client.get(f"/articles/{slug}").status_code == 404
    assert client.get(f"/api/v1/articles/{slug}").status_code == 404


def test_meta_description_comes_from_the_summary_not_the_gated_body(app, client):
    with app.app_context():
        make_article(slug="meta-paid", visibility="paid")
    html = client.get("/articles/meta-paid").get_data(as_text=True)
    head = html.split("</head>")[0]
    assert 'name="description" content="Summary of article' in head
    assert 'property="og:description"' in head
    assert "gatedword" not in head

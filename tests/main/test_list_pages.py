"""Every paginated list reads ?page= alike: a page past the end is a 404, not an empty page."""

from __future__ import annotations

import re

import pytest

from tests.directory.helpers import make_profile
from tests.learning.helpers import make_course

LISTS = ["/articles/?", "/courses/?", "/directory/?zip=10001&"]


@pytest.fixture
def lists(app):
    from campus.content.demo import seed
    from campus.extensions import db

    with app.app_context():
        seed()
        make_course("list-pages")
        make_profile("10001")
        db.session.commit()


@pytest.mark.parametrize("base", LISTS)
@pytest.mark.parametrize("page", ["2", "999", "0002"])
def test_a_page_past_the_end_is_missing(client, lists, base, page):
    response = client.get(f"{base}page={page}")
    assert response.status_code == 404, response.text[:200]
    assert "end on page 1" in response.text


@pytest.mark.parametrize("base", LISTS)
# Not a page number, or past any list (query_int reads it as the default).
@pytest.mark.parametrize("page", ["", "1", "0", "-1", "abc", "1e3", "²", "99999999999"])
def test_a_page_that_is_not_a_page_number_is_the_first(client, lists, base, page):
    assert client.get(f"{base}page={page}").status_code == 200


@pytest.mark.parametrize("base", ["/articles/", "/courses/"])
def test_the_first_page_is_linked_by_the_lists_own_address(app, client, base):
    # Walking back from page 2 led crawlers to "?page=1": the list's first page indexed twice,
    # under two addresses, with nothing to say which one is the list.
    from campus.extensions import db
    from tests.content.helpers import make_article

    with app.app_context():
        for n in range(13):
            make_article(slug=f"listed-{n}", days_ago=n)
        for n in range(25):
            make_course(f"listed-{n}", lessons=1)
        db.session.commit()
    page = client.get(f"{base}?page=2").text
    pages = re.search(r'<nav class="(pagination|pager)" aria-label="Pages">.*?</nav>', page, re.S)
    assert f'href="{base}"' in pages.group(0)
    assert "page=1" not in page

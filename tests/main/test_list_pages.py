"""Every paginated list reads ?page= alike: a page past the end is a 404, not an empty page."""

from __future__ import annotations

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

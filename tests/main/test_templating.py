"""The template helpers: the memoized url_for builds the same links as Flask's; file sizes."""

import pytest
from flask import url_for

from campus.templating import memoized_url_for


def test_memoized_links_equal_flasks_for_every_host_and_script_root(app):
    link = memoized_url_for(app)
    cases = [
        ("learning.lesson", {"slug": "hip", "lesson_id": 3}),
        ("static", {"filename": "campus.css"}),
        ("content.library", {"tag": "piriformis", "q": None}),
        ("content.library", {"q": "x" * 500}),  # too long to keep: built every time
        ("main.home", {"_external": True}),
        ("main.home", {"_anchor": "plans"}),
    ]
    environments = [
        {"base_url": "http://campus.example/"},
        {"base_url": "http://campus.example/school/"},
        {"base_url": "https://other.example:8443/"},
    ]
    for _ in range(2):  # the second pass answers from the memo
        for env in environments:
            with app.test_request_context("/", **env):
                for endpoint, values in cases:
                    assert link(endpoint, **values) == url_for(endpoint, **values)


def test_pages_use_the_memoized_url_for(app, client):
    assert app.jinja_env.globals["url_for"] is not app.url_for
    page = client.get("/").get_data(as_text=True)
    assert 'href="/courses/"' in page and "/static/campus.css" in page


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        (None, "0 KB"),
        (0, "0 KB"),
        (1, "1 KB"),
        (1024, "1 KB"),
        (50 * 1024, "50 KB"),
        (1024 * 1024 - 1, "1.0 MB"),
        (1024 * 1024, "1.0 MB"),
        (1536 * 1024, "1.5 MB"),
        (120 * 1024 * 1024, "120.0 MB"),
    ],
)
def test_file_sizes_read_in_kb_under_a_megabyte_and_mb_above(size, expected):
    from campus.templating import file_size

    assert file_size(size) == expected


def test_ids_are_unique_on_pages_with_several_forms(app, client):
    import re
    from collections import Counter

    from tests import support
    from tests.licenses.helpers import add_license

    with app.app_context():
        user = support.create_user()
        add_license(user.id)
        add_license(user.id, jurisdiction="TX", number="MT999")
        email = user.email
    support.login(app.test_client(), email)  # a second session: one more form on the page
    support.login(client, email)
    for path in ("/account/security", "/account/licenses", "/account/data"):
        html = client.get(path).get_data(as_text=True)
        assert "csrf_token" in html, path
        twice = [i for i, n in Counter(re.findall(r'\bid="([^"]+)"', html)).items() if n > 1]
        assert twice == [], (path, twice)

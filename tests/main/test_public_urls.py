from campus.urls import public_url
from tests.support import body_of, create_user, outbox


def test_reset_link_is_built_from_public_base_url_not_the_host_header(app, client):
    with app.app_context():
        create_user(email="kim@example.com")
    # The session cookie belongs to the test host, so the form token cannot travel with a forged
    # Host; the check under test is the link, not CSRF.
    app.config["WTF_CSRF_ENABLED"] = False
    r = client.post(
        "/password/reset", data={"email": "kim@example.com"}, headers={"Host": "evil.example"}
    )
    assert r.status_code == 200
    body = body_of(outbox(app)[-1])
    assert "evil.example" not in body
    assert app.config["PUBLIC_BASE_URL"].rstrip("/") + "/password/reset/" in body


def test_public_url_works_without_a_request_and_keeps_a_path_prefix(app):
    app.config["PUBLIC_BASE_URL"] = "https://learn.example.org/campus/"
    with app.app_context():
        assert public_url("billing.membership", **{"from": "portal"}) == (
            "https://learn.example.org/campus/membership?from=portal"
        )


def test_a_site_under_a_path_prefix_gives_search_engines_and_readers_working_addresses(app):
    # Served at learn.example.org/campus/ behind a proxy that sends the prefix: every absolute
    # link names it once, as public_url does, or crawlers and readers follow it to a 404.
    from tests.content.helpers import make_article
    from tests.directory.helpers import make_profile

    with app.app_context():
        make_article(slug="piriformis", tags=["hip"])
        make_article(slug="gluteus-medius", tags=["hip"])
        slug = make_profile().slug
    app.config["PUBLIC_BASE_URL"] = "https://learn.example.org/campus"
    client = app.test_client()
    base = "https://learn.example.org/campus/"
    for path, expected in (
        ("/articles/piriformis", base + "articles/piriformis"),
        ("/api/v1/articles/piriformis", base + "articles/gluteus-medius"),
        ("/articles/feed.atom", base + "articles/feed.atom"),
        ("/sitemap.xml", base + "articles/piriformis"),
        ("/directory/sitemap.xml", base + f"directory/{slug}"),
        ("/robots.txt", base + "sitemap.xml"),
    ):
        text = client.get(path, base_url="http://localhost/campus").get_data(as_text=True)
        assert expected in text, path
        assert "/campus/campus/" not in text, path

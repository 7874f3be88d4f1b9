"""The perimeter: trusted hosts, proxies, request size and where a login may send you back."""

from __future__ import annotations

import io

import pytest

from campus.preflight import trusted_hosts
from tests import support
from tests.api.helpers import bearer, member_with_token
from tests.production import BASE_URL, production_app


@pytest.fixture
def prod(_database):
    """A production app on the test database."""
    app = production_app(TRUSTED_HOSTS_EXTRA=["www.campus.example"])
    yield app
    support.clean_database(app)


@pytest.mark.parametrize("path", ["/", "/login", "/articles/", "/admin/"])
def test_an_unknown_host_gets_a_clean_400_page(prod, path):
    response = prod.test_client().get(path, base_url="https://evil.example")
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert "does not answer to that host name" in response.get_data(as_text=True)
    assert "evil.example" not in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/api/v1/me", "/api/v1/articles", "/webhooks/other"])
def test_an_unknown_host_gets_a_json_400_on_the_api(prod, path):
    response = prod.test_client().get(path, base_url="https://evil.example")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"
    assert "host name" in response.get_json()["error"]["message"]


# Passes the trust check of ".campus.example", but a DNS label is at most 63 characters.
_OVERLONG_HOST = "a" * 64 + ".campus.example"


@pytest.mark.parametrize("path", ["/", "/login", "/no-such-page"])
def test_a_malformed_host_under_a_trusted_domain_gets_the_400_page(_database, path):
    app = production_app(TRUSTED_HOSTS_EXTRA=[".campus.example"])
    try:
        response = app.test_client().get(path, headers={"Host": _OVERLONG_HOST})
        assert response.status_code == 400
        assert "does not answer to that host name" in response.get_data(as_text=True)
        api = app.test_client().get("/api/v1/me", headers={"Host": _OVERLONG_HOST})
        assert api.status_code == 400
        assert "host name" in api.get_json()["error"]["message"]
    finally:
        support.clean_database(app)


def test_a_form_post_to_an_unknown_host_gets_400_not_500(prod):
    client = prod.test_client()
    response = client.post(
        "/login",
        data={"email": "a@b.co", "password": "x"},
        base_url="https://evil.example",
    )
    assert response.status_code == 400


def test_the_public_host_and_the_listed_hosts_are_served(prod):
    client = prod.test_client()
    assert client.get("/", base_url=BASE_URL).status_code == 200
    assert client.get("/", base_url="https://www.campus.example").status_code == 200
    assert client.get("/", base_url="https://campus.example:8443").status_code == 200


def test_trusted_hosts_per_environment():
    settings = {"PUBLIC_BASE_URL": "https://campus.example", "TRUSTED_HOSTS_EXTRA": []}
    assert trusted_hosts(settings, "production") == ["campus.example"]
    local = {"PUBLIC_BASE_URL": "http://127.0.0.1:5103", "TRUSTED_HOSTS_EXTRA": []}
    assert trusted_hosts(local, "development") == ["127.0.0.1", "localhost"]
    assert trusted_hosts(settings, "testing") is None  # tests use any host unless told
    listed = {**settings, "TRUSTED_HOSTS_EXTRA": ["A.example", ".b.example"]}
    assert trusted_hosts(listed, "testing") == ["campus.example", "a.example", ".b.example"]
    upper = {"PUBLIC_BASE_URL": "https://Campus.Example", "TRUSTED_HOSTS_EXTRA": []}
    assert trusted_hosts(upper, "production") == ["campus.example"]


def test_development_refuses_a_foreign_host(_database, tmp_path):
    from campus import create_app

    app = create_app(
        "development",
        {"INSTANCE_PATH": tmp_path, "PUBLIC_BASE_URL": "http://127.0.0.1:5000"},
    )
    try:
        client = app.test_client()
        assert client.get("/healthz", base_url="http://localhost:5000").status_code == 200
        assert client.get("/healthz", base_url="http://attacker.example").status_code == 400
    finally:
        support.clean_database(app)  # also closes the pool's connections


# --- proxies ------------------------------------------------------------------------------


def _probe(app):
    from flask import jsonify, request

    @app.get("/_probe")
    def _probe_view():
        return jsonify(addr=request.remote_addr, scheme=request.scheme)

    return app


def test_forwarded_headers_are_ignored_without_proxy_settings(fresh_app):
    app = fresh_app
    client = _probe(app).test_client()
    body = client.get(
        "/_probe", headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    ).get_json()
    assert body == {"addr": "127.0.0.1", "scheme": "http"}


def test_configured_proxy_headers_give_the_client_address_and_scheme(_database):
    app = _probe(support.make_app(PROXY_FIX_X_FOR=1, PROXY_FIX_X_PROTO=1))
    try:
        body = (
            app.test_client()
            .get(
                "/_probe",
                headers={
                    # The first address is the client's claim; only the proxy's own is trusted.
                    "X-Forwarded-For": "198.51.100.1, 203.0.113.9",
                    "X-Forwarded-Proto": "https",
                },
            )
            .get_json()
        )
        assert body == {"addr": "203.0.113.9", "scheme": "https"}
    finally:
        support.clean_database(app)


@pytest.mark.parametrize(
    ("prefix", "status"),
    [
        ("/campus", 200),
        ("//evil.example", 400),
        ("/\\evil.example", 400),
        ("/.//evil.example", 400),  # a browser resolves the dot: "//evil.example/login"
        ("evil", 400),
    ],
)
def test_a_forwarded_path_prefix_must_be_a_plain_path(_database, prefix, status):
    app = support.make_app(PROXY_FIX_X_PREFIX=1)
    try:
        response = app.test_client().get("/login", headers={"X-Forwarded-Prefix": prefix})
        assert response.status_code == status
        if status == 200:  # the site's own links start with the prefix
            assert 'href="/campus/static/campus.css' in response.text
        else:
            assert "evil.example" not in response.text
    finally:
        support.clean_database(app)


def test_one_click_email_links_are_limited_per_address_by_their_setting(_database):
    app = support.make_app(ONE_CLICK_RATE_LIMIT="2 per minute")
    try:
        client = app.test_client()
        for path in ("/unsubscribe/not-a-token", "/account/licenses/reminders/stop/not-a-token"):
            assert [client.post(path).status_code for _ in range(3)] == [400, 400, 429], path
    finally:
        support.clean_database(app)


def _failed_logins(client, address: str, n: int) -> list[int]:
    statuses = []
    for i in range(n):
        response = support.post_form(
            client,
            "/login",
            {"email": f"nobody{i}@{address}.example", "password": "wrong password!"},
            headers={"X-Forwarded-For": address},
        )
        statuses.append(response.status_code)
    return statuses


def test_rate_limits_key_on_the_forwarded_client_address_behind_a_proxy(_database):
    app = support.make_app(PROXY_FIX_X_FOR=1, LOGIN_ADDRESS_RATE_LIMIT="3 per minute")
    try:
        client = app.test_client()
        assert _failed_logins(client, "203.0.113.1", 4)[-1] == 429
        # Another client behind the same proxy has its own allowance.
        assert _failed_logins(client, "203.0.113.2", 1) == [422]
    finally:
        support.clean_database(app)


def test_a_forged_forwarded_address_does_not_escape_the_limit_without_a_proxy(_database):
    app = support.make_app(LOGIN_ADDRESS_RATE_LIMIT="3 per minute")
    try:
        client = app.test_client()
        statuses = _failed_logins(client, "203.0.113.1", 3) + _failed_logins(
            client, "203.0.113.2", 1
        )
        assert statuses[-1] == 429
    finally:
        support.clean_database(app)


# --- request size -------------------------------------------------------------------------


def test_request_bodies_are_bounded_by_default(app):
    assert app.config["MAX_CONTENT_LENGTH"] == 1024 * 1024


def test_an_oversized_json_body_gets_a_json_413_before_it_is_parsed(app, client):
    _user_id, raw = member_with_token(app, "write")
    body = b'{"answers": [' + b"1," * (1024 * 1024) + b"1]}"
    response = client.post(
        "/api/v1/courses/any/quiz/attempts",
        data=body,
        content_type="application/json",
        headers=bearer(raw),
    )
    assert response.status_code == 413
    error = response.get_json()["error"]
    assert error["code"] == "too_large" and "1024 kB" in error["message"]


def test_an_oversized_form_gets_the_413_page(app, client):
    response = client.post("/login", data={"email": "a@b.co", "password": "x" * (1024 * 1024 + 1)})
    assert response.status_code == 413
    assert response.mimetype == "text/html"
    assert "larger than this site accepts" in response.get_data(as_text=True)


def _streamed_login(client, filler: int):
    """Sign in with a form sent chunked (no Content-Length), `filler` bytes after the fields."""
    with client.application.app_context():
        support.create_user(email="streamed@example.com")
    fields = f"csrf_token={support.csrf_token(client, '/login')}&email=streamed%40example.com"
    body = f"{fields}&password=correct+horse+battery&filler={'a' * filler}".encode()
    return client.post(
        "/login",
        input_stream=io.BytesIO(body),
        content_type="application/x-www-form-urlencoded",
        environ_overrides={"wsgi.input_terminated": True, "HTTP_TRANSFER_ENCODING": "chunked"},
    )


def test_an_oversized_streamed_form_gets_the_413_page_and_signs_nobody_in(app, client):
    response = _streamed_login(client, 1024 * 1024)
    assert response.status_code == 413
    assert "larger than this site accepts" in response.get_data(as_text=True)
    assert client.get("/api/v1/me").status_code == 401


def test_a_streamed_form_within_the_limit_is_read_whole(app, client):
    assert _streamed_login(client, 1000).status_code == 302
    assert client.get("/api/v1/me").status_code == 200


def test_the_limit_is_a_setting(_database):
    app = support.make_app(MAX_CONTENT_LENGTH=100)
    try:
        _user_id, raw = member_with_token(app, "write")
        response = app.test_client().post(
            "/api/v1/courses/any/quiz/attempts",
            data=b"x" * 101,
            content_type="application/json",
            headers=bearer(raw),
        )
        assert response.status_code == 413
    finally:
        support.clean_database(app)


# --- where a login sends you back ---------------------------------------------------------


@pytest.fixture
def member(app):
    with app.app_context():
        return support.create_user(email="sam@example.com").email


@pytest.mark.parametrize(
    "target",
    [
        "/account%0d%0aSet-Cookie:%20planted=1",
        "/account%0aLocation:%20https://evil.example",
        "/%09/evil.example",
        "/%5Cevil.example",
        "/\\evil.example",
        "//evil.example",
        "/.//evil.example",
        "/a/..//evil.example",
        "/..//evil.example",  # a browser keeps the empty segment a ".." at the root leaves
        "/a/../..//evil.example",
        "/%252e%252e//evil.example",
        "/%252e//evil.example",  # "/%2e//evil.example" once the query is read
        "/a/%252E%252e//evil.example",
        "https://evil.example/",
    ],
)
def test_login_refuses_a_next_that_is_not_a_plain_local_path(client, member, target):
    response = support.post_form(
        client, f"/login?next={target}", {"email": member, "password": support.DEFAULT_PASSWORD}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "planted" not in response.headers.get("Set-Cookie", "")


def test_a_signed_in_visit_to_login_with_a_crlf_next_goes_home(client, member):
    support.login(client, member)
    response = client.get("/login?next=/x%0d%0aSet-Cookie:%20a=b")
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_signup_refuses_a_crlf_next(client):
    response = support.post_form(
        client,
        "/signup?next=/courses/%0d%0aX-Injected:%201",
        {
            "email": "new@example.com",
            "password": "a long and unusual passphrase 42",
            "full_name": "New Person",
            "profession": "massage_therapist",
        },
    )
    # Sign-up answers its "check your email" page (it never redirects to `next`).
    assert response.status_code == 200, response.get_data(as_text=True)[:1500]
    assert "X-Injected" not in response.headers


def test_a_local_next_with_a_query_is_kept(client, member):
    response = support.post_form(
        client,
        "/login?next=/courses/%3Fq%3Dneck",
        {"email": member, "password": support.DEFAULT_PASSWORD},
    )
    assert response.headers["Location"] == "/courses/?q=neck"


def test_a_forwarded_host_is_still_checked_against_the_trusted_hosts(_database):
    app = production_app(PROXY_FIX_X_HOST=1)
    try:
        client = app.test_client()
        trusted = client.get("/", base_url=BASE_URL, headers={"X-Forwarded-Host": "campus.example"})
        assert trusted.status_code == 200
        forged = client.get("/", base_url=BASE_URL, headers={"X-Forwarded-Host": "evil.example"})
        assert forged.status_code == 400
    finally:
        support.clean_database(app)


def test_back_to_the_form_after_a_refused_post_keeps_the_path_prefix(_database):
    # A form sent without its CSRF token (a session that expired) is answered 400 with a link
    # back to it: under a prefix, a link without it leads off the site to another app's 404.
    app = support.make_app(PROXY_FIX_X_PREFIX=1)
    try:
        response = app.test_client().post(
            "/login?next=/learning/",
            data={"email": "a@b.example"},
            headers={"X-Forwarded-Prefix": "/campus"},
        )
        assert response.status_code == 400
        assert 'href="/campus/login?next=/learning/">Back to the form' in response.text
    finally:
        support.clean_database(app)

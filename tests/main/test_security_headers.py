"""Security headers, the content security policy and no-store on private responses."""

from __future__ import annotations

import re
import socket
from pathlib import Path
from urllib.parse import quote

import pytest

from tests import support
from tests.production import BASE_URL, production_app

# The pages that take a way back in `next`.
PAGES = ("login", "signup")
TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
# What a policy without 'unsafe-inline' refuses: inline script, handlers, javascript: URLs and
# style attributes.
# A JSON-LD block (`<script type="application/ld+json">`) is data, not code: browsers never run
# it, so script-src does not apply to it and it is not inline code.
INLINE_CODE = re.compile(
    r"<script(?![^>]*\ssrc=)(?![^>]*\stype=\"application/ld\+json\")[^>]*>"
    r"|<style\b|\son[a-z]+\s*=|javascript:|\sstyle\s*=",
    re.I,
)


def _policy(response) -> dict[str, list[str]]:
    policy = {}
    for directive in response.headers["Content-Security-Policy"].split(";"):
        name, *values = directive.split()
        policy[name] = values
    return policy


def test_pages_allow_only_our_own_scripts_and_styles(client):
    policy = _policy(client.get("/"))
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]  # the simulated checkout stays on this site
    assert "'unsafe-inline'" not in str(policy) and "'unsafe-eval'" not in str(policy)


def test_every_video_host_the_sanitizer_keeps_may_be_framed(client):
    # An article's iframe on youtube-nocookie.com without "www" was kept by the sanitizer and
    # then blocked by the browser: the reader saw an empty frame where the video should be.
    from campus.content.render import VIDEO_HOSTS

    frames = _policy(client.get("/"))["frame-src"]
    assert {f"https://{host}" for host in VIDEO_HOSTS} <= set(frames)


@pytest.mark.parametrize(
    "path", ["/", "/login", "/no-such-page", "/api/v1/articles", "/static/campus.css", "/healthz"]
)
def test_every_response_carries_the_browser_protections(client, path):
    with client.get(path) as response:  # a static file is streamed: close what it opened
        headers = response.headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert "Strict-Transport-Security" not in headers  # HTTPS is production's business


def test_non_pages_load_nothing(client):
    policy = client.get("/api/v1/articles").headers["Content-Security-Policy"]
    assert policy == "default-src 'none'; frame-ancestors 'none'"


def test_production_sends_hsts_and_lets_forms_reach_stripe(_database):
    app = production_app()
    try:
        response = app.test_client().get("/", base_url=BASE_URL)
        assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
        policy = _policy(response)
        assert policy["form-action"] == [
            "'self'",
            "https://checkout.stripe.com",
            "https://billing.stripe.com",
        ]
        assert "upgrade-insecure-requests" in policy
    finally:
        support.clean_database(app)


def test_signed_in_responses_are_never_stored(app, client):
    with app.app_context():
        email = support.create_user().email
    assert "no-store" not in client.get("/").headers.get("Cache-Control", "")
    support.login(client, email)
    for path in ("/", "/articles/", "/api/v1/me", "/no-such-page"):
        assert client.get(path).headers["Cache-Control"] == "no-store", path


def test_a_downloaded_pdf_is_never_stored(app, client):
    from campus.content.demo import seed
    from campus.extensions import db

    with app.app_context():
        seed()
        db.session.commit()
    slug = "hip-and-thigh-stretching-guide"
    support.post_form(
        client,
        f"/articles/downloads/{slug}",
        {"name": "Ana Ruiz", "email": "ana@example.com", "consent": "y"},
    )
    [message] = support.outbox(app)
    with client.get(support.link_in(message)) as pdf:
        assert pdf.mimetype == "application/pdf"
        assert pdf.headers["Cache-Control"] == "no-store"
    # The browser's PDF viewer is a plugin: the page policy would block it.
    assert pdf.headers["Content-Security-Policy"] == "frame-ancestors 'none'"


def test_an_attachment_is_never_stored(fresh_app):
    app = fresh_app
    from flask import Response

    @app.get("/_export")
    def _export():
        return Response(
            "a,b\n",
            mimetype="text/plain",
            headers={
                "Content-Disposition": "attachment; filename=x.txt",
                "Cache-Control": "max-age=60",
            },
        )

    assert app.test_client().get("/_export").headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "template", sorted(str(p.relative_to(TEMPLATES)) for p in TEMPLATES.rglob("*.html"))
)
def test_templates_hold_no_inline_script_handler_or_style(template):
    source = (TEMPLATES / template).read_text()
    source = re.sub(r"\{#.*?#\}", "", source, flags=re.S)  # comments may name what is refused
    assert not INLINE_CODE.findall(source)


def _inline_code(html: str) -> list[str]:
    return INLINE_CODE.findall(html)


def test_student_pages_render_without_inline_code(app, client):
    from tests.content.helpers import make_article
    from tests.learning.helpers import complete_all_lessons, make_course, make_reader

    with app.app_context():
        course = make_course("csp-course")
        make_article(slug="csp-article")
    user_id = make_reader(app, "member", client, course)
    with app.app_context():
        complete_all_lessons(user_id, course)
    pages = [
        "/",
        "/articles/",
        "/articles/csp-article",
        "/courses/",
        "/courses/csp-course",
        f"/courses/csp-course/lessons/{course.lesson_ids[0]}",
        "/courses/csp-course/quiz",
        "/membership",
        "/account",
        "/api/v1/docs",
    ]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        assert _inline_code(response.get_data(as_text=True)) == [], path


def test_admin_pages_render_without_inline_code(app, client):
    from tests.admin import helpers

    ids = helpers.make_catalog(app)
    helpers.sign_in_admin(app, client)
    pages = [
        "/admin/",
        "/admin/courses/",
        f"/admin/courses/edit/?id={ids.course}",
        "/admin/courses/new/",
        "/admin/articles/",
        "/admin/members/",
        "/admin/audit/",
    ]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        # Flask-Admin's own inert "javascript:void(0)" links (tabs, pagination) stay: admin.js
        # stops every such link from navigating, so the browser never runs or refuses them.
        html = response.get_data(as_text=True).replace('href="javascript:void(0)"', "")
        assert _inline_code(html) == [], path
    course_list = client.get("/admin/courses/").get_data(as_text=True)
    assert 'data-model-action="publish"' in course_list  # the "With selected" actions
    assert "data-confirm=" in course_list  # the row delete asks first
    edit = client.get(f"/admin/courses/edit/?id={ids.course}").get_data(as_text=True)
    assert "data-inline-add=" in edit  # board approvals are added inline


def _shared_cache_may_store(response) -> bool:
    cache = response.cache_control
    return not (cache.private or cache.no_store)


def test_a_response_that_sets_a_cookie_is_kept_from_shared_caches(fresh_app):
    from flask import make_response

    from tests.directory.helpers import make_profile

    @fresh_app.get("/_cached")
    def _cached():
        response = make_response("hello")
        response.headers["Cache-Control"] = "public, max-age=60, s-maxage=600"
        response.set_cookie("seen", "1")
        return response

    with fresh_app.app_context():
        slug = make_profile("10001", display_name="Jay Doe").slug
    for path in ("/login", "/signup", f"/directory/{slug}", "/_cached"):
        client = fresh_app.test_client()  # a first visit: the session cookie is set now
        response = client.get(path)
        assert "Set-Cookie" in response.headers, path
        assert not _shared_cache_may_store(response), path
    assert response.cache_control.s_maxage is None and not response.cache_control.public


def test_pages_reached_by_an_emailed_secret_are_never_stored_and_do_not_pass_it_on(app, client):
    from flask import url_for

    from campus.mail.services import unsubscribe_token

    with app.test_request_context():
        rules = [rule for rule in app.url_map.iter_rules() if "token" in rule.arguments]
        paths = {
            url_for(rule.endpoint, token="abc", **dict.fromkeys(rule.arguments - {"token"}, "x"))
            for rule in rules
        }
        paths.add(url_for("mail.unsubscribe_page", token=unsubscribe_token("ana@example.com")))
    assert len(paths) >= 7  # unsubscribe, reminders stop, verify, reset, email change, download
    for path in sorted(paths):
        for response in (client.get(path), client.post(path)):
            if response.status_code == 405:
                continue
            assert response.headers.get("Cache-Control") == "no-store", path
            # The address holds the secret: only the origin goes on to the next page or a CDN.
            assert response.headers.get("Referrer-Policy") == "strict-origin", path


def test_the_error_page_of_a_mangled_emailed_link_does_not_pass_it_on(app, client):
    # Copied with what followed it in the message (a slash, a bracket) or sent with another
    # method, a link matches no page; the 404 or 405 page's address still holds a live token,
    # and its links and static files would carry it on in a whole Referer.
    from campus.accounts.services import issue_token
    from campus.extensions import db

    with app.app_context():
        raw = issue_token(support.create_user(verified=False), "verify_email", 3600)
        db.session.commit()
    mangled = (
        client.get(f"/verify-email/{raw}/"),
        client.get(f"/password/reset/{raw}/)."),
        client.put(f"/account/email/confirm/{raw}"),
    )
    for response in mangled:
        assert response.status_code in (404, 405)
        assert response.headers.get("Referrer-Policy") == "strict-origin"
        assert response.headers.get("Cache-Control") == "no-store"
    # A missing page that names no emailed link keeps the site-wide policy.
    missing = client.get("/articles/no-such/page/")
    assert missing.status_code == 404
    assert missing.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_a_page_whose_query_names_an_emailed_link_does_not_pass_it_on(app, client):
    # A signed-out member following the email-change link is sent to sign in with the link in
    # `next`: the sign-in page's address then holds the single-use token.
    from flask import url_for

    with app.test_request_context():
        rules = [rule for rule in app.url_map.iter_rules() if "token" in rule.arguments]
        links = {
            url_for(rule.endpoint, token="abc", **dict.fromkeys(rule.arguments - {"token"}, "x"))
            for rule in rules
        }
    sent = client.get("/account/email/confirm/abc123")
    assert sent.status_code == 302 and "abc123" in sent.headers["Location"]
    pages = [sent.headers["Location"]]
    pages += [f"/{page}?next={quote(link, safe='')}" for link in links for page in PAGES]
    for page in pages:
        for response in (client.get(page), support.post_form(client, page, {})):
            assert response.headers.get("Referrer-Policy") == "strict-origin", page
            assert response.headers.get("Cache-Control") == "no-store", page
    # A way back to an ordinary page is no secret: the site-wide policy stands.
    plain = client.get("/login?next=/account")
    assert plain.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_an_untrusted_host_with_a_way_back_is_a_400_not_a_500(_database):
    # The check of `next` read the request's host, which raises for a Host not trusted: the
    # refusal (400) became a 500 once any query value looked like a path.
    app = production_app(PROPAGATE_EXCEPTIONS=False)
    try:
        client = app.test_client()
        for query in ("next=/account", "next=//campus.example/account", "next=%2Fa%3Fb%3D%2Fc"):
            response = client.get(f"/login?{query}", base_url="https://evil.example")
            assert response.status_code == 400, query
        # The trusted host is still checked as before.
        sent = client.get("/login?next=/account/email/confirm/abc", base_url=BASE_URL)
        assert sent.status_code == 200
        assert sent.headers["Referrer-Policy"] == "strict-origin"
    finally:
        support.clean_database(app)


def test_production_cookies_are_host_only_secure_and_named_so(_database):
    # The __Host- prefix makes the browser refuse such a cookie unless it is Secure, for the
    # whole site and set by this host: a subdomain (or a plain-HTTP page) cannot plant one.
    from flask import make_response
    from flask_login import login_user

    from campus.accounts.models import User
    from campus.accounts.sessions import start_session
    from campus.extensions import db

    app = production_app()
    try:
        with app.app_context():
            user_id = support.create_user(email="host@example.com").id
        with app.test_request_context("/", base_url=BASE_URL):
            user = db.session.get_one(User, user_id)
            start_session(user, remember=True)
            db.session.commit()
            login_user(user, remember=True)
            response = app.process_response(make_response("signed in"))
        cookies = {c.split("=", 1)[0]: c for c in response.headers.getlist("Set-Cookie")}
        assert set(cookies) == {"__Host-session", "__Host-remember_token"}
        for cookie in cookies.values():
            parts = [part.strip().lower() for part in cookie.split(";")]
            assert "secure" in parts and "path=/" in parts and "httponly" in parts, cookie
            assert not [part for part in parts if part.startswith("domain=")], cookie
        spec = app.test_client().get("/api/v1/openapi.json", base_url=BASE_URL).get_json()
        assert spec["components"]["securitySchemes"]["sessionCookie"]["name"] == "__Host-session"
    finally:
        support.clean_database(app)


def test_production_sign_out_deletes_the_remember_cookie_in_a_form_browsers_accept(_database):
    # A browser ignores a __Host- cookie sent without Secure, its deletion included: the
    # remember cookie would outlive the sign-out it is meant to end with.
    from flask import make_response
    from flask_login import login_user

    from campus.accounts.access import forget_browser_session
    from campus.accounts.models import User
    from campus.accounts.sessions import start_session
    from campus.extensions import db

    app = production_app()
    try:
        with app.app_context():
            user_id = support.create_user(email="leaving@example.com").id
        with app.test_request_context("/", base_url=BASE_URL):
            user = db.session.get_one(User, user_id)
            start_session(user, remember=True)
            db.session.commit()
            login_user(user, remember=True)
            forget_browser_session()
            response = app.process_response(make_response("signed out"))
        cookies = {c.split("=", 1)[0]: c for c in response.headers.getlist("Set-Cookie")}
        deletion = cookies["__Host-remember_token"]
        parts = [part.strip().lower() for part in deletion.split(";")]
        assert "max-age=0" in parts, deletion
        assert "secure" in parts and "path=/" in parts, deletion
        assert not [part for part in parts if part.startswith("domain=")], deletion
    finally:
        support.clean_database(app)


def _referer_a_browser_sends(policy: str, page: str) -> str | None:
    """The Referer a browser puts on a form sent from `page` to its own site, under `policy`."""
    if policy == "no-referrer":
        return None
    if policy in ("origin", "strict-origin"):
        return f"{BASE_URL}/"
    return page  # same-origin and the *-when-cross-origin policies send the whole address


def test_a_form_on_a_page_holding_an_emailed_link_can_be_sent_over_https(_database):
    # Over HTTPS the CSRF check refuses a form sent with no Referer naming this site; the
    # reset page and the sign-in page with a link in `next` told the browser to send none, so
    # in production both answered "the form expired" every time.
    from campus.accounts.services import issue_token
    from campus.extensions import db

    # Its forms reach rate-limited routes (sign-in, reset), and production keeps their counts
    # in Redis only: a laptop's run without it skips this (CI always has it).
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        pytest.skip("production's rate limits need Redis on 127.0.0.1:6379")
    app = production_app()
    try:
        with app.app_context():
            user = support.create_user(email="sam@example.com")
            raw = issue_token(user, "reset_password", 3600)
            db.session.commit()
        new = "a much sturdier passphrase 9"
        reset = f"/password/reset/{raw}"
        login = f"/login?next={quote(f'/account/email/confirm/{raw}', safe='')}"
        fields = {
            reset: {"password": new, "confirm": new},
            login: {"email": "sam@example.com", "password": new},
        }
        for path, data in fields.items():
            client = app.test_client()
            page = client.get(path, base_url=BASE_URL)
            referer = _referer_a_browser_sends(page.headers["Referrer-Policy"], BASE_URL + path)
            assert raw not in (referer or ""), path  # the token stays out of the Referer
            token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text)
            sent = client.post(
                path,
                base_url=BASE_URL,
                data={"csrf_token": token and token.group(1), **data},
                headers={"Referer": referer} if referer else {},
            )
            assert sent.status_code == 302, (path, re.findall(r"<h1>.*|<p>.*", sent.text))
    finally:
        support.clean_database(app)

"""Every admin URL, from the app's own URL map: students 403, anonymous to login, admins in."""

from __future__ import annotations

import re
import time

import pytest

from tests import support
from tests.admin import helpers


def _admin_rules():
    app = support.shared_app()
    rules = []
    for rule in app.url_map.iter_rules():
        endpoint = rule.endpoint
        if not (endpoint == "admin.index" or endpoint.startswith(("admin.", "admin_"))):
            continue
        if endpoint == "admin.static":
            continue  # Flask-Admin's own CSS/JS files: public assets, not admin pages
        for method in ("GET", "POST"):
            if method in rule.methods:
                rules.append((endpoint, rule.rule, method))
    return sorted(rules)


RULES = _admin_rules()


def _view(app, endpoint: str):
    prefix = endpoint.split(".")[0]
    for admin in app.extensions["admin"]:
        for view in admin._views:
            if view.endpoint == prefix:
                return view
    raise AssertionError(f"no admin view for {endpoint}")


def _expected_for_admin(app, endpoint: str) -> int:
    """What an admin gets on GET: 200, except pages a read-only view does not offer."""
    view = _view(app, endpoint)
    page = endpoint.split(".")[1]
    if page == "create_view" and not getattr(view, "can_create", True):
        return 302  # back to the list: this log cannot be written by hand
    if page == "edit_view" and not getattr(view, "can_edit", True):
        return 302
    if page == "details_view" and not getattr(view, "can_view_details", True):
        return 302
    if endpoint == "admin_outline.pick":
        return 302  # to the course list, where each title opens its course page
    if page == "ajax_lookup":
        return 404  # no field looks records up by ajax, so every lookup name is unknown
    return 200


@pytest.fixture(scope="module")
def site(_database):
    """One app and one of everything for the whole matrix: these requests change nothing."""
    app = support.shared_app()
    ids = helpers.make_catalog(app)
    with app.app_context():
        admin_id = support.create_user(role="admin").id
        support.enable_totp(admin_id)
        ids.admin = support.open_session(admin_id, second_factor=True)
        ids.student = support.open_session(support.create_user().id)
        assessor_id = support.create_user(role="assessor").id
        support.enable_totp(assessor_id)
        ids.assessor = support.open_session(assessor_id, second_factor=True)
    yield app, ids
    support.clean_database(app)


def _client(app, session_id: str | None):
    """A client signed in as the given session id (the login form is tested elsewhere)."""
    client = app.test_client()
    if session_id:
        with client.session_transaction() as session:
            session["_user_id"] = session_id
            session["_fresh"] = True
            session["admin_confirmed_at"] = time.time()
    return client


@pytest.fixture
def ids(site):
    return site[1]


@pytest.mark.parametrize(
    ("endpoint", "rule", "method"), RULES, ids=[f"{m} {r}" for _e, r, m in RULES]
)
def test_anonymous_visitors_are_sent_to_login(site, ids, endpoint, rule, method):
    client = _client(site[0], None)
    url = helpers.admin_url(rule, endpoint, ids)
    response = client.get(url) if method == "GET" else support.post_form(client, url, {})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize(
    ("endpoint", "rule", "method"), RULES, ids=[f"{m} {r}" for _e, r, m in RULES]
)
def test_students_are_refused(site, ids, endpoint, rule, method):
    client = _client(site[0], ids.student)
    url = helpers.admin_url(rule, endpoint, ids)
    response = client.get(url) if method == "GET" else support.post_form(client, url, {})
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("endpoint", "rule", "method"), RULES, ids=[f"{m} {r}" for _e, r, m in RULES]
)
def test_assessors_reach_only_the_assessments(site, ids, endpoint, rule, method):
    client = _client(site[0], ids.assessor)
    url = helpers.admin_url(rule, endpoint, ids)
    response = client.get(url) if method == "GET" else support.post_form(client, url, {})
    if endpoint.startswith("admin_assessments."):
        # In: the queue, a review page, the video; an empty review form is refused, not a 500.
        assert response.status_code == 200, url
    else:
        assert response.status_code == 403, url
    response.close()


GETS = [(e, r) for e, r, m in RULES if m == "GET"]


@pytest.mark.parametrize(("endpoint", "rule"), GETS, ids=[r for _e, r in GETS])
def test_admins_open_every_page(site, ids, endpoint, rule):
    app = site[0]
    client = _client(app, ids.admin)
    response = client.get(helpers.admin_url(rule, endpoint, ids))
    assert response.status_code == _expected_for_admin(app, endpoint), response.get_data(
        as_text=True
    )[:3000]
    if response.status_code == 200 and response.mimetype == "text/html":
        html = response.get_data(as_text=True)
        assert "campus.css" in html  # the site's look, not a bare Bootstrap page
        # Every stylesheet and script is served locally (a bare "cdn" search would also match
        # random CSRF tokens).
        assets = re.findall(r'<(?:link|script)\b[^>]*\b(?:href|src)="([^"]+)"', html)
        assert assets and all(url.startswith("/") and not url.startswith("//") for url in assets)


def test_the_access_matrix_covers_the_whole_admin():
    prefixes = {e.split(".")[0] for e, _r, _m in RULES}
    assert {
        "admin",
        "admin_courses",
        "admin_articles",
        "admin_members",
        "admin_webhooks",
    } <= prefixes
    assert len(RULES) > 100


def test_the_header_links_to_the_admin_under_the_sites_path_prefix(app, client):
    # Behind a proxy serving the site at /campus/, "/admin/" is another site's page on that host.
    helpers.sign_in_admin(app, client)
    page = client.get("/", base_url="http://localhost/campus").get_data(as_text=True)
    assert 'href="/campus/admin/"' in page
    assessor = app.test_client()
    with app.app_context():
        support.sign_in_directly(assessor, support.create_user(role="assessor").id)
    page = assessor.get("/", base_url="http://localhost/campus").get_data(as_text=True)
    assert 'href="/campus/admin/assessments/"' in page


def test_an_assessors_header_marks_assessments_as_current_only_on_them(app):
    # On the admin's other pages, refused to an assessor, it said "you are here" beside a 403.
    with app.app_context():
        assessor_id = support.create_user(role="assessor").id
        support.enable_totp(assessor_id)
        client = _client(app, support.open_session(assessor_id, second_factor=True))
    current = re.compile(r'<a href="/admin/assessments/"\s+aria-current="page">Assessments</a>')
    queue = client.get("/admin/assessments/")
    assert queue.status_code == 200 and current.search(queue.get_data(as_text=True))
    refused = client.get("/admin/courses/")
    assert refused.status_code == 403
    page = refused.get_data(as_text=True)
    assert 'href="/admin/assessments/"' in page and not current.search(page)


def test_the_admin_menu_links_under_the_path_each_request_came_by(fresh_app):
    # One process answers the proxy's /campus/ and its own address alike: a menu built for
    # the first request sent every later admin to pages of the other path (a 404 there).
    client = fresh_app.test_client()
    helpers.sign_in_admin(fresh_app, client)
    for root in ("", "/campus", ""):
        page = client.get("/admin/", base_url=f"http://localhost{root}").get_data(as_text=True)
        assert f'href="{root}/admin/courses/"' in page, root
        assert f'href="{root}/admin/audit/"' in page, root


def test_a_password_check_with_no_page_to_return_to_returns_to_the_admin_under_the_prefix(
    app, client
):
    helpers.sign_in_admin(app, client, fresh=False)
    with app.app_context():
        member_id = support.create_user().id
    response = helpers.post(
        client,
        f"/admin/members/{member_id}/comp",
        {"days": "30", "reason": "Guest instructor"},
        base_url="http://localhost/campus",
    )
    assert response.headers["Location"] == "/campus/admin/confirm/?next=/campus/admin/"


def test_an_admin_pages_title_tells_a_record_and_its_form_from_their_list(app, client):
    # Read first by a screen reader and shown on each browser tab: a list, a record's form and
    # a member's page all titled "Courses · Admin" could not be told apart.
    import re

    ids = helpers.make_catalog(app)
    helpers.sign_in_admin(app, client)

    def title(path: str) -> str:
        response = client.get(path)
        assert response.status_code == 200, path
        return re.search(r"<title>(.*?)</title>", response.get_data(as_text=True)).group(1)

    assert title("/admin/courses/").startswith("Catalog · Courses · Admin")
    assert title(f"/admin/courses/edit/?id={ids.course}").startswith("Edit · Catalog · Courses")
    assert title("/admin/courses/new/").startswith("New · Catalog · Courses")
    assert title(f"/admin/members/{ids.member}/").startswith("Mia Member · Members · Admin")
    assert title(f"/admin/course-outline/{ids.course}/").startswith(
        "Course admin-fixture-course · Course outline · Admin"
    )


def test_an_admin_page_has_its_content_before_the_section_menu(app, client):
    # On a phone (one column) and to a keyboard or screen reader, the thirty-link menu came
    # first: a member's page opened a screen and a half below its own title.
    helpers.sign_in_admin(app, client)
    page = client.get("/admin/members/").get_data(as_text=True)
    body, side = page.index('class="admin-body"'), page.index('class="admin-side"')
    assert body < side
    assert 'id="admin-sections"' in page[side - 200 : side + 200]
    assert 'href="#admin-sections"' in page[body:side]

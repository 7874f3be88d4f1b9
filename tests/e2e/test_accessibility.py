"""Every page, signed out, as a member and in the admin: no serious or critical WCAG 2.1 A/AA
violation that axe-core finds.

The pages come from the app's url_map (its GET rules), so a page added later is crawled without
anyone listing it. A rule whose URL needs an argument takes it from ARGUMENTS, filled from the
data tests/e2e/prepare.py makes; a new rule with an argument nobody filled fails the test with
its name, as does a page that answers something other than HTML and is not in EXCLUDED.
A page of an emailed link is opened with a broken token (its error page) and, for the links
whose page has a button (the sign-up and email-change confirmations), with one that works.
"""

from __future__ import annotations

import pytest

from tests.e2e.browsing import axe_violations, describe, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# Endpoints not crawled, each with the reason. Endpoints ending in these suffixes are Flask-Admin
# machinery that answers files or JSON for every model view.
EXCLUDED_SUFFIXES = {
    ".export": "a CSV file",
    ".ajax_lookup": "JSON for the admin's select boxes",
    ".static": "static files",
}
EXCLUDED = {
    "static": "static files (CSS, JS, images)",
    "main.healthz": "JSON for load balancers",
    "content.feed": "an Atom feed (XML)",
    "certificates.pdf": "a PDF (the certificate journey opens it)",
    "certificates.transcript": "a PDF or CSV transcript",
    "certificates.verify_json": "JSON (Open Badges credential)",
    "certificates.jwks": "JSON (public keys)",
    "certificates.revocation_list": "JSON (the 1EdTech revocation list of a credential)",
    "learning.resource": "a lesson's downloadable file",
    "admin_ce.evaluations_csv": "a CSV file",
    "admin_ce.time_log_csv": "a CSV file",
    "api-docs.openapi_json": "JSON (the OpenAPI document)",
    "directory.photo": "a practitioner's photo (an image)",
    "directory.sitemap": "the directory's sitemap (XML)",
    "main.sitemap": "the site's sitemap (XML)",
    "directory.robots": "robots.txt (plain text)",
    "programs.credential_pdf": "a PDF (the program credential)",
    "programs.verify_json": "JSON (Open Badges credential of a program)",
    "programs.revocation_list": "JSON (the 1EdTech revocation list of a program's badge)",
    "records.download_export": "the member's data archive (a ZIP file)",
    "admin_assessments.video": "a practical's video stream",
    "admin_roster.download": "the CE Broker roster (XML)",
    "observability.scrape": "Prometheus metrics (plain text; off unless configured)",
}
# API endpoints answer JSON; the human page of the API is api_docs.docs, which is crawled.
EXCLUDED_PREFIXES = {"/api/v1/": "JSON API (api_docs.docs is the page for people)"}

# Pages that answer an error status on purpose with the data they are given.
EXPECTED_STATUS = {
    "accounts.verify_email": 400,
    "accounts.reset_password": 400,
    "mail.unsubscribe_page": 400,
    "content.download_file": 400,
    "licenses.stop_page": 400,
    "accounts.confirm_email_change": 400,
    "errors.not_found": 404,  # an address nothing answers: the error page
}

BAD_TOKEN = "not-a-valid-token"


def _argument(endpoint: str, name: str, data: dict) -> str | None:
    """The value of URL argument `name` of `endpoint`, from the prepared data."""
    blueprint = endpoint.split(".")[0]
    by_endpoint = {
        ("content.download", "slug"): data["download_slug"],
        ("content.download_file", "slug"): data["download_slug"],
        ("content.article", "slug"): data["article_slug"],
        ("learning.course_evaluation", "slug"): data["finished_course_slug"],
        ("learning.lesson", "lesson_id"): data["lesson_id"],
        ("certificates.verify", "code"): data["certificate_code"],
        ("billing_sim.checkout", "session_id"): data["checkout_session_id"],
        ("admin_outline.index", "course_id"): data["course_id"],
        ("admin_members.member", "user_id"): data["member_id"],
        ("admin_articles.preview_saved", "article_id"): data["article_id"],
        ("licenses.edit", "license_id"): data["license_id"],
        ("programs.detail", "slug"): data["program_slug"],
        ("programs.sitting", "slug"): data["program_slug"],
        ("programs.sitting", "sitting_id"): data["sitting_id"],
        ("programs.verify", "code"): data["credential_code"],
        ("directory.profile", "slug"): data["directory_slug"],
        ("admin_assessments.review", "submission_id"): data["submission_id"],
    }
    by_blueprint = {("learning", "slug"): data["course_slug"]}
    if (endpoint, name) in by_endpoint:
        return str(by_endpoint[endpoint, name])
    if (blueprint, name) in by_blueprint:
        return str(by_blueprint[blueprint, name])
    if name == "token":
        return BAD_TOKEN  # the page that explains a broken or expired link
    return None


def _valid_links(data: dict) -> list[tuple[str, str, int]]:
    """The emailed links' pages with their button (a token that works), beside their errors."""
    return [
        ("accounts.verify_email", f"/verify-email/{data['verify_email_token']}", 200),
        (
            "accounts.confirm_email_change",
            f"/account/email/confirm/{data['change_email_token']}",
            200,
        ),
    ]


def _excluded(rule: dict) -> str | None:
    endpoint = rule["endpoint"]
    if endpoint in EXCLUDED:
        return EXCLUDED[endpoint]
    for suffix, reason in EXCLUDED_SUFFIXES.items():
        if endpoint.endswith(suffix):
            return reason
    for prefix, reason in EXCLUDED_PREFIXES.items():
        if rule["rule"].startswith(prefix) and endpoint != "api_docs.docs":
            return reason
    return None


def _build(rule: dict, data: dict) -> str:
    path = rule["rule"]
    for name in rule["arguments"]:
        value = _argument(rule["endpoint"], name, data)
        if value is None:
            raise AssertionError(
                f"{rule['endpoint']} ({rule['rule']}) needs <{name}>: add a value to "
                "tests/e2e/test_accessibility.py _argument (and the data that backs it to "
                "tests/e2e/prepare.py), or exclude the page in EXCLUDED with a reason"
            )
        path = path.replace(f"<{name}>", value)
        for converter in ("int", "string", "path"):
            path = path.replace(f"<{converter}:{name}>", value)
    if "<" in path:
        raise AssertionError(f"{rule['endpoint']}: could not fill {rule['rule']} -> {path}")
    return path


def _pages(routes: dict, data: dict, *, admin: bool) -> list[tuple[str, str, int]]:
    """(endpoint, path, expected status) of every page to visit, admin pages or the others."""
    pages = []
    for rule in sorted(routes["rules"], key=lambda r: r["rule"]):
        if _excluded(rule) or rule["rule"].startswith("/admin") != admin:
            continue
        path = _build(rule, data)
        endpoint = rule["endpoint"]
        status = EXPECTED_STATUS.get(endpoint, 200)
        pages.append((endpoint, path, status))
        if admin and endpoint.endswith((".details_view", ".edit_view")):
            view = endpoint.rsplit(".", 1)[0]
            row = routes["admin_rows"].get(view)
            if row is None:
                raise AssertionError(
                    f"{endpoint}: the admin's {view} has no row to show: make one in "
                    "tests/e2e/prepare.py pages()"
                )
            pages[-1] = (endpoint, f"{path}?id={row}", status)
    if not admin:
        pages += _valid_links(data)
    return pages


@pytest.fixture(scope="module")
def crawl(stack):
    """The prepared data and the app's routes."""
    data = stack.prepare("pages")
    return data, stack.prepare("routes")


def _check(page, pages: list[tuple[str, str, int]], *, allow_login: bool = False) -> list[str]:
    """Visit each page and return the problems: bad status, not HTML, axe violations."""
    problems = []
    seen_final = set()
    for endpoint, path, status in pages:
        response = page.goto(path)
        assert response is not None
        final = page.url.split("?")[0]
        if allow_login and final.endswith("/login"):
            continue  # a member page: the member's visit checks it
        if response.status != status:
            problems.append(f"{endpoint} {path}: status {response.status}, expected {status}")
            continue
        if "text/html" not in (response.headers.get("content-type") or ""):
            problems.append(
                f"{endpoint} {path}: answers {response.headers.get('content-type')}, not HTML: "
                "add it to EXCLUDED with the reason"
            )
            continue
        if final in seen_final:
            continue  # a redirect to a page already checked
        seen_final.add(final)
        violations = axe_violations(page)
        if violations:
            problems.append(f"{endpoint} {path}:\n{describe(violations)}")
    return problems


@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
def test_every_public_page_has_no_serious_accessibility_violation(page, crawl):
    data, routes = crawl
    pages = [*_pages(routes, data, admin=False), ("errors.not_found", "/no-such-page", 404)]
    problems = _check(page, pages, allow_login=True)
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
def test_every_member_page_has_no_serious_accessibility_violation(page, crawl):
    data, routes = crawl
    log_in(page, data["member"], data["password"])
    problems = _check(page, _pages(routes, data, admin=False))
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
def test_every_admin_page_has_no_serious_accessibility_violation(page, crawl):
    data, routes = crawl
    log_in(page, data["admin"], data["password"], data["admin_totp_secret"])
    problems = _check(page, _pages(routes, data, admin=True))
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
def test_every_assessor_page_has_no_serious_accessibility_violation(page, crawl):
    data, routes = crawl
    log_in(page, data["assessor"], data["password"], data["assessor_totp_secret"])
    # An assessor's admin is the practical reviews; every other admin page is closed to them.
    pages = [
        (endpoint, path, status)
        for endpoint, path, status in _pages(routes, data, admin=True)
        if endpoint.startswith("admin_assessments.")
    ]
    assert pages, "no assessment page in the url_map"
    problems = _check(page, pages)
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
def test_the_sign_up_link_page_its_owner_sees_has_no_serious_accessibility_violation(page, crawl):
    # Signed in to the account the link confirms, unconfirmed still: the page as its owner,
    # not the signed-out or other account's view the crawls above see.
    data, _routes = crawl
    log_in(page, data["unverified"], data["password"])
    problems = _check(page, _valid_links(data)[:1])
    assert problems == [], "\n".join(problems)

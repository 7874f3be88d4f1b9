"""Every route of the URL map, fed odd input by every kind of visitor: never a 5xx; a refusal
says why (the site's error page, or the API's JSON error); and a request that is refused (no
CSRF token, a path that names nothing, a body of the wrong shape) changes nothing.

The requests are sampled: each route gets a few of the variants below per visitor, chosen by a
seed (CAMPUS_FUZZ_SEED, printed on failure) so that every run covers another part of the space
and a failure can be replayed. CAMPUS_FUZZ_ALL=1 sends every variant (minutes, not seconds).
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Mapping
from types import SimpleNamespace

import pytest

from tests import support
from tests.admin import helpers
from tests.main.fuzzing import ODD_VALUES, Writes, fill, forms_on, send, variants

SEED = int(os.environ.get("CAMPUS_FUZZ_SEED") or time.strftime("%Y%m%d"))
EVERY_VARIANT = os.environ.get("CAMPUS_FUZZ_ALL") == "1"
PER_VISITOR = 3  # variants per route and visitor in a sampled run

ROLES = ("anonymous", "student", "member", "assessor", "admin")


@pytest.fixture(scope="module")
def site(_database):
    """One of everything, and a signed-in session for each kind of visitor."""
    app = support.shared_app()
    ids = helpers.make_catalog(app)
    with app.app_context():
        from campus.directory.models import DirectoryProfile
        from campus.extensions import db
        from campus.programs.models import Program

        ids.course_slug = "admin-fixture-course"
        ids.program_slug = db.session.get(Program, ids.program).slug
        ids.profile_slug = db.session.get(DirectoryProfile, ids.directory_profile).slug
        _freeze_documents(ids)
        admin_id = support.create_user(role="admin").id
        support.enable_totp(admin_id)
        assessor_id = support.create_user(role="assessor").id
        support.enable_totp(assessor_id)
        users = {
            "anonymous": None,
            "student": (support.create_user().id, False),
            "member": (ids.member, False),
            "assessor": (assessor_id, True),
            "admin": (admin_id, True),
        }
    site = SimpleNamespace(app=app, ids=ids, users=users)
    site.forms = _crawl_forms(site)
    with app.app_context():
        site.writes = Writes(db.engine)
    yield site
    site.writes.close()
    support.clean_database(app)


def _freeze_documents(ids) -> None:
    """Give the catalog's certificate and credential every field an issued one carries."""
    from campus.accounts.models import User
    from campus.certificates.models import Certificate
    from campus.certificates.services import freeze
    from campus.extensions import db
    from campus.learning.models import Course
    from campus.programs.issuing import _frozen_data
    from campus.programs.models import Credential, Program

    member = db.session.get(User, ids.member)
    certificate = db.session.get(Certificate, ids.certificate)
    certificate.data = freeze(
        member,
        db.session.get(Course, ids.course),
        certificate.completed_at,
        certificate.code,
        None,
        certificate.ce_hours,
    )
    credential = db.session.get(Credential, ids.credential)
    credential.data = _frozen_data(
        member,
        db.session.get(Program, ids.program),
        credential.code,
        credential.valid_from,
        credential.valid_until,
    )
    db.session.commit()
    ids.certificate_code, ids.credential_code = certificate.code, credential.code


def _crawl_forms(site) -> dict[str, dict[str, str]]:
    """The fields of every form on every page the visitors open, by the path it posts to."""
    found: dict[str, dict[str, str]] = {}
    for role in ("member", "admin", "assessor", "student"):
        client = _client(site, role)
        for endpoint, rule, method in ROUTES:
            if method != "GET" or "export" in endpoint or rule.endswith((".pdf", ".csv")):
                continue
            url = fill(rule, endpoint, site.ids)
            response = client.get(url)
            if response.mimetype == "text/html":
                for target, fields in forms_on(response.get_data(as_text=True), url).items():
                    found.setdefault(target, {}).update(fields)
            response.close()
    return found


def _client(site, role: str):
    """A client signed in afresh as the role (a variant may have signed the last one out)."""
    client = site.app.test_client()
    if site.users[role]:
        user_id, second_factor = site.users[role]
        with site.app.app_context():
            token = support.open_session(user_id, second_factor=second_factor)
        with client.session_transaction() as session:
            session["_user_id"] = token
            session["_fresh"] = True
            session["admin_confirmed_at"] = time.time()
    return client


def _routes():
    app = support.shared_app()
    found = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((rule.endpoint, rule.rule, method))
    return sorted(found)


ROUTES = _routes()


def _pick(every: list, role: str, rule: str) -> list:
    if EVERY_VARIANT:
        return every
    return random.Random(f"{SEED}{role}{rule}").sample(every, min(PER_VISITOR, len(every)))


# Werkzeug's own words, meant for developers: a refusal the site did not word itself.
_STOCK = ("If you entered the URL manually", "The browser (or proxy) sent a request",
          "The method is not allowed for the requested URL")  # fmt: skip


def _unclear_refusal(response, kwargs: dict) -> str | None:
    """Say what is wrong with a refusal's body: the API's JSON error, or the site's error page."""
    # A 412 answers a cache's If-Match on a file: a status for the cache, with no body to read.
    status = response.status_code
    if status < 400 or status == 412 or kwargs.get("method") == "HEAD":
        return None
    path = kwargs["path"]
    if path.startswith(("/api/", "/webhooks/")):
        error = (response.get_json(silent=True) or {}).get("error") or {}
        return None if error.get("code") and error.get("message") else "not the JSON error shape"
    text = response.get_data(as_text=True)
    if response.mimetype == "application/json":
        error = (response.get_json(silent=True) or {}).get("error") or {}
        return None if error.get("message") else "a JSON refusal without a message"
    if any(phrase in text for phrase in _STOCK) or "campus.css" not in text:
        return "not the site's error page"
    return None


# Routes whose answer to a visit is a write by design, whatever came with it.
_WRITES_ON_ANY_POST = {"accounts.logout"}


def _a_logged_refusal(written: list[str], fields: object) -> bool:
    """A wrong password is refused and logged by design (SECURITY.md): its audit entry alone."""
    names = fields.keys() if isinstance(fields, Mapping) else ()
    return written == ["admin_audit_entries"] and any("password" in name for name in names)


@pytest.mark.parametrize(
    ("endpoint", "rule", "method"), ROUTES, ids=[f"{m} {r}" for _e, r, m in ROUTES]
)
def test_odd_input_gets_an_answer_and_a_refusal_changes_nothing(site, endpoint, rule, method):
    failures = []
    every = variants(endpoint, rule, method, site.ids, site.forms, SEED)
    for role in ROLES:
        client = _client(site, role)
        csrf_cache: dict = {}
        if method == "GET":  # what a first visit records (the lesson a student opened) is fine
            client.get(fill(rule, endpoint, site.ids)).close()
        site.writes.take()
        for label, kwargs, may_write in _pick(every, role, rule):
            try:
                response = send(client, kwargs, csrf_cache)
            except Exception as error:  # the app raised: a 500 in production
                failures.append(f"{role}: {label}: raised {type(error).__name__}: {error}"[:300])
                continue
            status = response.status_code
            problem = _unclear_refusal(response, kwargs)
            response.close()
            if status >= 500 or problem:
                failures.append(f"{role}: {label}: {status} {problem or ''}")
            written = site.writes.take()
            if method == "GET":  # what an admin read or exported is logged, by design
                written = [name for name in written if name != "admin_audit_entries"]
            refused = status >= 400  # a refusal changes nothing, whatever came with it
            if refused and _a_logged_refusal(written, kwargs.get("data")):
                written = []
            if written and (refused or not may_write) and endpoint not in _WRITES_ON_ANY_POST:
                failures.append(f"{role}: {label}: {status} wrote {written}")
    assert not failures, f"CAMPUS_FUZZ_SEED={SEED}\n" + "\n".join(failures)


# Forms whose sending signs the visitor out or ends the account: not sent over and over.
_ENDINGS = ("/logout", "/account/security/sign-out-everywhere", "/account/delete")


@pytest.mark.slow
def test_every_field_of_every_form_with_every_odd_value(site):
    """Each form as its page fills it in, one field changed to each odd value in turn."""
    failures = []
    for target, filled in sorted(site.forms.items()):
        if target.startswith(_ENDINGS):
            continue
        role = "admin" if target.startswith("/admin") else "member"
        client = _client(site, role)
        token = support.csrf_token(client)
        for name in filled:
            for value in ODD_VALUES:
                site.writes.take()
                try:
                    response = client.post(
                        target, data={**filled, name: value, "csrf_token": token}
                    )
                except Exception as error:
                    failures.append(f"{target} {name}={value[:30]!r}: raised {error!r}"[:300])
                    continue
                response.close()
                written = site.writes.take()
                if _a_logged_refusal(written, {name: value}):
                    written = []
                if response.status_code >= 500 or (written and response.status_code >= 400):
                    failures.append(f"{target} {name}={value[:30]!r}: {response.status_code} "
                                    f"wrote {written}")  # fmt: skip
    assert not failures, "\n".join(failures)

"""Odd input for every route: the values, headers and bodies, the requests built from them,
and a watch on the database that tells which tables a request wrote."""

from __future__ import annotations

import io
import random
import re
from urllib.parse import quote

from werkzeug.datastructures import MultiDict

from tests import support
from tests.admin.helpers import admin_url

# Query values that break naive int(), float(), Decimal(), date and string handling.
ODD_VALUES = [
    "99999999999999999999999",
    "-1",
    "0",
    "1.5",
    "1e309",
    "nan",
    "٣",
    "²",
    "1_000",
    " 7",
    "x\x00y",
    "%",
    "a" * 5000,
    "2026-02-30",
    "0000-00-00",
    "9999-12-31",
    "' OR 1=1 --",
    "<script>",
    "..%2f..%2f",
    "\u202e\ufeff",
    "",
    "Infinity",
    "-0",
    "1e-999",
    "99999-12-31",
    "12/31/2026",
    "\u0660\u0661",
    "üñï@ëxample.com",
    "on",
    "true",
    "[]",
    "{}",
]
# Query names the views and the admin's list pages read.
QUERY_NAMES = [
    "page", "per_page", "page_size", "q", "from", "to", "next", "zip", "radius", "radius_miles",
    "tries", "session_id", "kept", "id", "topic", "profession", "hours", "code", "tag",
    "specialty", "credential", "category", "sort", "desc", "search", "flt0_0", "flt1_1",
    "flt2_3", "url", "fmt", "status", "year", "state", "kind",
]  # fmt: skip
# A path argument's hostile replacements (each is a URL-encoded path segment).
ODD_SEGMENTS = ["%00", "%2e%2e", "..", "x.", "%c0%ae%c0%ae", "%ff%fe", "a" * 3000, "٣", "-1",
                "99999999999999999999", "%20", "%0d%0aX:1", "0"]  # fmt: skip


def _foreign_session() -> str:
    """A session cookie signed with another site's key, naming a user id."""
    from flask import Flask
    from flask.sessions import SecureCookieSessionInterface

    other = Flask("elsewhere")
    other.secret_key = "another site's key, long enough to be believed"
    serializer = SecureCookieSessionInterface().get_signing_serializer(other)
    assert serializer is not None
    return serializer.dumps({"_user_id": "1", "_fresh": True, "csrf_token": "x"})


ODD_HEADERS = [
    {"Cookie": f"session={_foreign_session()}"},
    {"Range": "bytes=5-1"},
    {"Range": "bytes=-0"},
    {"Range": "bytes=99999999999999999999-"},
    {"Range": "bytes=0-0,1-1,2-2,3-3,4-4,5-5,6-6,7-7,8-8,9-9,10-10,11-11,12-12"},
    {"Range": "items=0-1"},
    {"If-Modified-Since": "Mon, 01 Jan 0001 00:00:00 GMT"},
    {"If-Modified-Since": "not a date"},
    {"If-Modified-Since": "Fri, 31 Dec 9999 23:59:59 GMT"},
    {"If-Unmodified-Since": "yesterday"},
    {"If-None-Match": '"' + "x" * 4000 + '"'},
    {"If-None-Match": "*"},
    {"If-Match": 'W/"\x7f"'},
    {"If-Range": "garbage"},
    {"Accept-Language": "xx-ZZ;q=abc, *;q=-1, " + "de," * 200},
    {"Accept": "application/json;q=x, text/html;q=nan"},
    {"Accept": "application/json"},
    {"Accept-Encoding": "gzip;q=" + "9" * 400},
    {"X-Requested-With": "XMLHttpRequest"},
    {"Content-Type": "multipart/form-data"},  # no boundary
    {"Origin": "null"},
    {"Authorization": "Bearer " + "x" * 3000},
    {"Authorization": "Bearer \u00e9t\u00e9"},
    {"Authorization": "Basic Og=="},
    {"X-CSRFToken": "x" * 500},
    {"Cookie": "junk=" + "c" * 8000},
    {"Cookie": "session=.eJw" + "%%%" * 10},
]
# Bodies of the wrong shape for a JSON endpoint.
ODD_JSON = ["null", "[]", "[1, 2]", "7", '"text"', "true", '{"a": {"b": {"c": [[]]}}}',
            '{"answers": "all"}', '{"answers": {"1": "x"}}', '{"answers": [[{"id": null}]]}',
            '{"lesson_id": "7"}', '{"name": 12, "scope": ["read"]}', "{", '{"a": 1e999}',
            '{"a": 1, "a": 2}', "\ufeff{}"]  # fmt: skip


class Writes:
    """The tables a request's committed statements wrote, seen at the engine."""

    _DML = re.compile(r"^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?(\w+)", re.I)

    def __init__(self, engine) -> None:
        from sqlalchemy import event

        self.pending: set[str] = set()
        self.committed: set[str] = set()
        event.listen(engine, "after_cursor_execute", self._executed)
        event.listen(engine, "commit", self._commit)
        event.listen(engine, "rollback", self._rollback)
        self.engine = engine

    def _executed(self, _conn, _cursor, statement, *_args) -> None:
        match = self._DML.match(statement)
        if match and match.group(1) not in BOOKKEEPING:
            self.pending.add(match.group(1))

    def _commit(self, _conn) -> None:
        self.committed |= self.pending
        self.pending = set()

    def _rollback(self, _conn) -> None:
        self.pending = set()

    def take(self) -> list[str]:
        """The tables written since the last call."""
        written, self.committed, self.pending = sorted(self.committed), set(), set()
        return written

    def close(self) -> None:
        from sqlalchemy import event

        event.remove(self.engine, "after_cursor_execute", self._executed)
        event.remove(self.engine, "commit", self._commit)
        event.remove(self.engine, "rollback", self._rollback)


# Tables written on a visit by design, not a change the visitor asked for: when a session was
# last seen, and the counts of who saw what.
BOOKKEEPING = {"user_sessions", "directory_impressions"}


_FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S | re.I)
_ACTION = re.compile(r'action="([^"]*)"')
_FIELD = re.compile(
    r"<(input|select|textarea)\b([^>]*)>(.*?(?:</select>|</textarea>))?", re.S | re.I
)
_ATTR = re.compile(r'([a-z_-]+)="([^"]*)"')
_OPTION = re.compile(r'<option\b[^>]*value="([^"]*)"', re.I)


def form_values(body: str) -> dict[str, str]:
    """The values a form would send as the page filled it in (the first option of a select)."""
    import html

    values: dict[str, str] = {}
    for tag, attributes, inner in _FIELD.findall(body):
        attrs = dict(_ATTR.findall(attributes))
        name = attrs.get("name")
        if not name or name == "csrf_token" or name in values:
            continue
        if tag.lower() == "select":
            options = _OPTION.findall(inner or "")
            value = next((o for o in options if o), "")
        elif tag.lower() == "textarea":
            value = re.sub(r"</textarea>$", "", inner or "")
        elif attrs.get("type") in ("checkbox", "radio"):
            value = attrs.get("value", "y")
        elif attrs.get("type") in ("submit", "file", "button"):
            continue
        else:
            value = attrs.get("value", "")
        values[name] = html.unescape(value)
    return values


def forms_on(page: str, url: str) -> dict[str, dict[str, str]]:
    """The forms of a page, by the path each posts to, with the values the page filled in."""
    import html

    found: dict[str, dict[str, str]] = {}
    for attributes, body in _FORM.findall(page):
        action = _ACTION.search(attributes)
        target = (html.unescape(action.group(1)) if action else url).split("#")[0] or url
        found.setdefault(target, {}).update(form_values(body))
    return found


_ARG_VALUES = {
    "user_id": "member", "event_id": "event", "article_id": "article", "course_id": "course",
    "credential_id": "credential", "submission_id": "submission", "profile_id": "directory_profile",
    "certificate_id": "certificate", "lesson_id": "lesson", "program_id": "program",
    "question_id": "exam_question", "module_id": "module", "report_id": "report",
    "hold_id": "hold", "comp_id": "comp", "approval_id": "approval",
}  # fmt: skip


def fill(rule: str, endpoint: str, ids) -> str:
    """The rule with each argument filled by a real value of the fixture (or a plausible one)."""
    if endpoint.startswith("admin"):
        return admin_url(rule, endpoint, ids)  # with ?id= on the record pages

    def value(match: re.Match) -> str:
        name = match.group(2)
        if name in _ARG_VALUES:
            return str(getattr(ids, _ARG_VALUES[name]))
        if name == "slug":
            if endpoint.startswith("programs"):
                return ids.program_slug
            if endpoint.startswith("directory"):
                return ids.profile_slug
            if endpoint.startswith("content"):
                return "fixture-guide" if "download" in endpoint else "fixture-article"
            return ids.course_slug
        if name == "code":
            return ids.credential_code if endpoint.startswith("programs") else ids.certificate_code
        return {
            "fmt": "pdf", "filename": "campus.css", "export_type": "csv", "action": "cancel",
            "name": "photo.jpg",
        }.get(name, "1")  # fmt: skip

    return re.sub(r"<(?:([a-z]+)(?:\([^)]*\))?:)?([a-z_]+)>", value, rule)


def odd_path(rule: str, endpoint: str, ids, segment: str) -> str | None:
    """The rule with its first argument replaced by a hostile segment (None: no argument)."""
    if "<" not in rule:
        return None
    filled = fill(re.sub(r"<[^>]+>", "\x01", rule, count=1), endpoint, ids)
    return filled.replace("\x01", segment)


def odd_query(rng: random.Random) -> str:
    pairs = []
    for _ in range(rng.randint(1, 4)):
        name = rng.choice(QUERY_NAMES)
        value = rng.choice(ODD_VALUES)
        pairs.append(f"{name}={value}")
        if rng.random() < 0.3:
            pairs.append(f"{name}={rng.choice(ODD_VALUES)}")  # a repeated key
        if rng.random() < 0.2:
            pairs.append(f"{name}[]={value}&{name}[0][x]=1")
    return "&".join(quote(p, safe="=&[]") for p in pairs)


def variants(endpoint: str, rule: str, method: str, ids, forms: dict, seed: int) -> list:
    """Every hostile request for one route: (label, kwargs of client.open, may_write).

    `forms` holds the fields of the site's forms by the path they post to (forms_on), so a
    form gets its own fields with one odd value at a time as well as fields it never had.
    """
    url = fill(rule, endpoint, ids)
    is_api = rule.startswith(("/api/", "/webhooks/"))
    out = []
    for segment in ODD_SEGMENTS:
        path = odd_path(rule, endpoint, ids, segment)
        if path:
            out.append((f"path {segment[:20]!r}", {"path": path}, False))
    rng = random.Random(f"{seed}{rule}")
    for n in range(6):
        joiner = "&" if "?" in url else "?"
        out.append((f"query {n}", {"path": f"{url}{joiner}{odd_query(rng)}"}, False))
    for headers in ODD_HEADERS:
        out.append((f"headers {str(headers)[:40]}", {"path": url, "headers": headers}, False))
    for other in ("HEAD", "OPTIONS", "PUT", "DELETE", "PATCH", "TRACE"):
        out.append((other, {"path": url, "method": other}, False))
    for extra in ("/", ".", "//", "/%2e%2e/", "%00"):
        path, _, query = url.partition("?")
        out.append((f"suffix {extra!r}", {"path": path.rstrip("/") + extra, "query_string": query},
                    False))  # fmt: skip
    if method == "GET":
        return [(label, {**kw, "method": kw.get("method", "GET")}, w) for label, kw, w in out]
    posts = [(label, {**kw, "method": "POST"}, w) for label, kw, w in out if "method" not in kw]
    posts += [(label, kw, w) for label, kw, w in out if "method" in kw]
    fields = {name: rng.choice(ODD_VALUES) for name in rng.sample(QUERY_NAMES, 5)}
    long_fields = {"email": "a" * 100_000 + "@example.com", "password": "p" * 100_000}
    posts += [
        ("form, no CSRF", {"path": url, "method": "POST", "data": fields}, False),
        ("form, bad CSRF", {"path": url, "method": "POST", "data": {**fields, "csrf_token": "x"}},
         False),
        ("JSON, no CSRF", {"path": url, "method": "POST", "json": {"a": 1}}, False),
        ("text body", {"path": url, "method": "POST", "data": "\xff\x00",
                       "content_type": "text/plain"}, False),
    ]  # fmt: skip
    filled = forms.get(url) or {k: "" for k in rng.sample(sorted(set().union(*forms.values())), 8)}
    real = sorted(filled)
    with_csrf = [
        ("empty form", {"data": {}}),
        ("its fields, odd values", {"data": {k: rng.choice(ODD_VALUES) for k in real}}),
        *[
            (f"its fields, {name} odd", {"data": {**filled, name: rng.choice(ODD_VALUES)}})
            for name in real
        ],
        ("odd fields", {"data": fields}),
        ("repeated fields", {"data": MultiDict([(k, v) for k in fields for v in ("1", "2")])}),
        ("over-long fields", {"data": long_fields}),
        ("file in a field", {"data": lambda: {"email": (io.BytesIO(b"x"), "f.txt")},
                             "content_type": "multipart/form-data"}),
        ("length mismatch", {"data": "a=1", "content_type": "application/x-www-form-urlencoded",
                             "headers": {"Content-Length": "99999"}}),
    ]  # fmt: skip
    for body in ODD_JSON:
        with_csrf.append((f"JSON {body[:20]}", {"data": body, "content_type": "application/json"}))
    for label, kw in with_csrf:
        posts.append((f"{label}, with CSRF", {"path": url, "method": "POST", "csrf": True, **kw},
                      True))  # fmt: skip
    if is_api:
        for segment in ("x.", "%00"):
            path = odd_path(rule, endpoint, ids, segment)
            if path:
                kwargs = {"path": path, "method": "POST", "json": {}, "csrf": True}
                posts.append((f"path {segment!r} JSON", kwargs, False))
    return posts


def send(client, kwargs: dict, csrf_cache: dict):
    """Send one variant; one marked `csrf` carries the session's token as a page would."""
    kwargs = dict(kwargs)
    if callable(kwargs.get("data")):  # a file is read once: a fresh one for each request
        kwargs["data"] = kwargs["data"]()
    headers = dict(kwargs.pop("headers", {}))
    if kwargs.pop("csrf", False):
        token = csrf_cache.get(id(client))
        if token is None:
            token = csrf_cache[id(client)] = support.csrf_token(client)
        headers["X-CSRFToken"] = token
        data = kwargs.get("data")
        if isinstance(data, MultiDict):
            kwargs["data"] = MultiDict([("csrf_token", token), *data.items(multi=True)])
        elif isinstance(data, dict):
            kwargs["data"] = {"csrf_token": token, **data}
    return client.open(headers=headers, **kwargs)

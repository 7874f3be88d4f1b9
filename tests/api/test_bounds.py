"""Integers past 64 bits, odd digits and deep or large JSON bodies get 4xx answers, never 500."""

from __future__ import annotations

import io
import json
from urllib.parse import quote

import pytest

from campus.api.bodies import nesting_depth
from campus.errors import PLAIN_JSON
from campus.integers import MAX_ID
from tests import support
from tests.api.helpers import bearer, member_with_token


def _member(app) -> int:
    with app.app_context():
        return support.create_user(email="bounds@example.com").id


def test_a_lesson_id_beyond_64_bits_is_not_found(app, client):
    user_id = _member(app)
    with app.app_context():
        support.sign_in_directly(client, user_id)
    response = client.post(
        "/api/v1/lessons/9223372036854775808/complete",
        headers={"X-CSRFToken": support.csrf_token(client, "/account/security")},
    )
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_the_largest_id_still_reaches_the_view_and_one_more_is_refused(app, client):
    user_id = _member(app)
    with app.app_context():
        support.sign_in_directly(client, user_id)
    headers = {"X-CSRFToken": support.csrf_token(client, "/account/security")}
    response = client.post(f"/api/v1/lessons/{MAX_ID}/complete", headers=headers)
    assert response.status_code == 404  # no such lesson, said by the view itself
    assert response.get_json()["error"]["message"] != PLAIN_JSON[404]
    beyond = client.post(f"/api/v1/lessons/{MAX_ID + 1}/complete", headers=headers)
    assert beyond.status_code == 404
    assert beyond.get_json()["error"]["message"] == PLAIN_JSON[404]  # no route matched


def test_html_routes_refuse_integers_beyond_64_bits_with_a_404(app, client):
    user_id = _member(app)
    with app.app_context():
        support.sign_in_directly(client, user_id)
    response = client.get("/courses/any/lessons/9223372036854775808")
    assert response.status_code == 404
    assert b"We could not find that page" in response.data


def _other_digits(number: int) -> str:
    """The number in Arabic-Indic digits, URL-encoded: int() reads them, no id is written so."""
    return quote("".join(chr(0x0660 + int(digit)) for digit in str(number)))


def test_an_id_in_another_scripts_digits_names_no_lesson_and_completes_nothing(app, client):
    from sqlalchemy import func, select

    from campus.extensions import db
    from campus.learning.models import LessonProgress
    from tests.learning.helpers import api_post, make_course, make_reader

    with app.app_context():
        course = make_course(lessons=2)
    make_reader(app, "member", client, course)
    lesson = _other_digits(course.lesson_ids[0])
    response = api_post(client, f"/api/v1/lessons/{lesson}/complete")
    assert response.status_code == 404
    assert response.get_json()["error"]["message"] == PLAIN_JSON[404]  # no route matched
    assert client.get(f"/courses/{course.slug}/lessons/{lesson}").status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count(LessonProgress.id))) == 0


def test_page_numbers_with_non_ascii_digits_fall_back_to_the_first_page(client):
    assert client.get("/courses/?page=\u00b2").status_code == 200
    assert client.get("/articles/?page=\u00b2").status_code == 200
    assert client.get("/courses/?page=99999999999999999999999999").status_code == 200


def test_query_integers_beyond_64_bits_are_a_validation_error(client):
    response = client.get("/api/v1/courses?page=9223372036854775808")
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "validation_error"


def _post_signed_in(app, client, body: str):
    """Post a raw JSON body as a signed-in member (a session and its CSRF token)."""
    user_id = _member(app)
    with app.app_context():
        support.sign_in_directly(client, user_id)
    return client.post(
        "/api/v1/courses/any/quiz/attempts",
        data=body,
        content_type="application/json",
        headers={"X-CSRFToken": support.csrf_token(client, "/account/security")},
    )


def test_a_small_body_nested_a_thousand_levels_is_a_400(app, client):
    response = _post_signed_in(app, client, "[" * 1000 + "]" * 1000)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"
    assert "nests too deeply" in response.get_json()["error"]["message"]


def test_a_json_body_over_the_limit_is_a_413(app, client):
    _user_id, raw = member_with_token(app, "write")
    body = json.dumps({"answers": [{"question_id": 1, "choice_ids": [1]}] * 20000})
    response = client.post(
        "/api/v1/courses/any/quiz/attempts",
        data=body,
        content_type="application/json",
        headers=bearer(raw),
    )
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "too_large"
    assert "JSON body may be at most" in response.get_json()["error"]["message"]


def test_nesting_depth_ignores_brackets_inside_strings():
    assert nesting_depth(b'{"a": "[[[[{{{{", "b": [1, [2]]}') == 3
    assert nesting_depth(b'"\\"[["') == 0
    assert nesting_depth(b"[" * 5) == 5


def test_answer_ids_beyond_64_bits_are_a_validation_error(app, client):
    user_id = _member(app)
    with app.app_context():
        support.sign_in_directly(client, user_id)
    response = client.post(
        "/api/v1/courses/any/quiz/attempts",
        json={"answers": [{"question_id": 2**64, "choice_ids": [2**70]}]},
        headers={"X-CSRFToken": support.csrf_token(client, "/account/security")},
    )
    assert response.status_code == 422
    details = response.get_json()["error"]["details"]["json"]["answers"]["0"]
    assert set(details) == {"question_id", "choice_ids"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", 1),
        ("2147483647", 2**31 - 1),
        ("2147483648", None),
        ("99999999999999999999", None),
        ("0", None),
        ("-1", None),
        ("²", None),
        ("\u0661", None),
        ("", None),
        (None, None),
        (7, None),
    ],
)
def test_an_id_is_read_from_ascii_digits_within_the_column(raw, expected):
    from campus.integers import id_from

    assert id_from(raw) == expected


def test_a_replay_by_an_id_past_the_column_finds_no_event(app):
    from campus.billing.events import find_event

    with app.app_context():
        assert find_event("99999999999999999999") is None
        assert find_event("9" * 12) is None


@pytest.mark.parametrize("written", ["\u0661", "1_0", " 1", "+2", "-1"])
def test_api_page_numbers_take_only_ascii_digits(client, written):
    for path in ("/api/v1/courses?", "/api/v1/articles?", "/api/v1/directory?zip=10001&"):
        response = client.get(f"{path}page={quote(written)}")
        assert response.status_code == 422, path
        assert "page" in response.get_json()["error"]["details"]["query"], path
    response = client.get(f"/api/v1/articles?per_page={quote(written)}")
    assert response.status_code == 422


@pytest.mark.parametrize("digits", [4000, 5000])
def test_a_number_of_thousands_of_digits_is_a_400(app, client, digits):
    body = '{"answers": [{"question_id": %s, "choice_ids": [1]}]}' % ("9" * digits)
    response = _post_signed_in(app, client, body)
    assert response.status_code == 400
    assert "more than 100 digits" in response.get_json()["error"]["message"]


@pytest.mark.parametrize(
    "body",
    [
        "NaN",
        '{"answers": [{"question_id": 1, "choice_ids": [Infinity]}]}',
        '{"answers": [{"question_id": -Infinity, "choice_ids": [1]}], "attempt_id": NaN}',
    ],
)
def test_nan_and_infinity_are_malformed_json_not_a_validation_error(app, client, body):
    # Python's parser reads them, but they are no JSON numbers (RFC 8259 6): the body is
    # malformed, a 400, as any other parser a client tests against would say.
    response = _post_signed_in(app, client, body)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "bad_request" and "NaN" in error["message"]


def test_nan_and_infinity_inside_strings_are_text():
    from campus.api.bodies import has_non_json_number

    assert has_non_json_number(b'{"a": NaN}') and has_non_json_number(b"[-Infinity]")
    assert not has_non_json_number(b'{"NaN": "Infinity", "b": "x\\\\", "c": "NaN"}')
    assert not has_non_json_number(b'{"a": "\\"NaN"}')


def test_longest_number_skips_strings():
    from campus.api.bodies import longest_number

    assert longest_number(b'{"a": "' + b"9" * 500 + b'", "b": 12345}') == 5
    assert longest_number(b"[1.0e-123, -77]") == 3
    assert longest_number(b"{}") == 0


def test_an_unclosed_string_of_escaped_quotes_is_measured_at_once(app, client):
    # Each scan of the body skipped strings by a pattern tried again at every quote of a string
    # that never closes: 32 kB of `\"` took seconds per scan, and anyone may send a JSON body.
    import time

    from campus.api.bodies import has_non_json_number, longest_number, nesting_depth

    body = b'["' + b'\\"' * 16000
    started = time.perf_counter()
    assert nesting_depth(body) == 1
    assert longest_number(body) == 0 and not has_non_json_number(body)
    assert time.perf_counter() - started < 0.5
    # What follows the opening quote of a string that never closes is text, as to the parser.
    assert longest_number(b'["' + b"9" * 500) == 0 and nesting_depth(b'["[[\\') == 1
    assert not has_non_json_number(b'["NaN\\')
    response = client.post("/login", data=body, content_type="application/json")
    assert response.status_code == 400


_OVERSIZED = 2 * 1024 * 1024


class _Unreadable(io.RawIOBase):
    """An oversized request body that fails the test if anything reads it."""

    def __init__(self) -> None:
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        self._position = _OVERSIZED if whence == 2 else offset
        return self._position

    def tell(self) -> int:
        return self._position

    def readinto(self, buffer) -> int:
        raise AssertionError("the body was read before the caller was known")


@pytest.mark.parametrize("headers", [{}, bearer("not-a-token"), {"Authorization": "Basic eDp5"}])
def test_a_caller_without_a_valid_token_hears_401_before_the_size_of_its_body(client, headers):
    response = client.post(
        "/api/v1/courses/any/enroll",
        input_stream=_Unreadable(),
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="campus"'


def test_a_streamed_form_from_a_caller_without_a_token_hears_401_not_413(client):
    response = client.post(
        "/api/v1/courses/any/enroll",
        input_stream=io.BytesIO(b"a=" + b"x" * _OVERSIZED),
        content_type="application/x-www-form-urlencoded",
        environ_overrides={"wsgi.input_terminated": True, "HTTP_TRANSFER_ENCODING": "chunked"},
    )
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="campus"'


def test_a_valid_tokens_oversized_body_is_still_refused_unread(app, client):
    _user_id, raw = member_with_token(app, "write")
    response = client.post(
        "/api/v1/courses/any/enroll",
        input_stream=_Unreadable(),
        content_type="application/json",
        headers=bearer(raw),
    )
    assert response.status_code == 413


@pytest.mark.parametrize(
    "kind",
    [
        "text/plain",
        "application/octet-stream",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ],
)
def test_a_tokens_write_with_any_body_past_the_site_limit_is_a_413_and_changes_nothing(
    app, client, kind
):
    # The README: any body past MAX_CONTENT_LENGTH is a 413. A write that reads no body
    # (an enrollment) went through with one of any size that was not JSON.
    from tests.learning.helpers import make_course

    user_id, raw = member_with_token(app, "write")
    with app.app_context():
        make_course("big-body")
    response = client.post(
        "/api/v1/courses/big-body/enroll",
        input_stream=_Unreadable(),
        content_type=kind,
        headers=bearer(raw),
    )
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "too_large"
    with app.app_context():
        from campus.extensions import db
        from campus.learning.models import Enrollment

        assert db.session.query(Enrollment).filter_by(user_id=user_id).count() == 0
    document = client.get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/api/v1/courses/{slug}/enroll"]["post"]
    assert "any body is past the site's limit" in operation["responses"]["413"]["description"]


@pytest.mark.parametrize("kind", ["text/plain", "application/octet-stream"])
def test_a_tokens_streamed_write_body_past_the_site_limit_is_a_413_and_changes_nothing(
    app, client, kind
):
    # Sent chunked, without a Content-Length: nothing declares its size, so it is counted.
    from tests.learning.helpers import make_course

    user_id, raw = member_with_token(app, "write")
    with app.app_context():
        make_course("streamed-body")
    response = client.post(
        "/api/v1/courses/streamed-body/enroll",
        input_stream=io.BytesIO(b"x" * _OVERSIZED),
        content_type=kind,
        headers=bearer(raw),
        environ_overrides={"wsgi.input_terminated": True, "HTTP_TRANSFER_ENCODING": "chunked"},
    )
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "too_large"
    with app.app_context():
        from campus.extensions import db
        from campus.learning.models import Enrollment

        assert db.session.query(Enrollment).filter_by(user_id=user_id).count() == 0


def test_a_tokens_streamed_write_body_within_the_limit_still_goes_through(app, client):
    from tests.learning.helpers import make_course

    _user_id, raw = member_with_token(app, "write")
    with app.app_context():
        make_course("small-streamed-body")
    response = client.post(
        "/api/v1/courses/small-streamed-body/enroll",
        input_stream=io.BytesIO(b"x" * 1000),
        content_type="text/plain",
        headers=bearer(raw),
        environ_overrides={"wsgi.input_terminated": True, "HTTP_TRANSFER_ENCODING": "chunked"},
    )
    assert response.status_code == 201


def test_a_signed_in_members_oversized_streamed_form_is_refused_not_cut_short(app, client):
    with app.app_context():
        support.sign_in_directly(client, _member(app))
    token = support.csrf_token(client, "/account/security")
    response = client.post(
        "/api/v1/courses/any/enroll",
        input_stream=io.BytesIO(b"a=" + b"x" * _OVERSIZED),
        content_type="application/x-www-form-urlencoded",
        headers={"X-CSRFToken": token},
        environ_overrides={"wsgi.input_terminated": True, "HTTP_TRANSFER_ENCODING": "chunked"},
    )
    assert response.status_code == 413


_IGNORED_BODIES = {
    "over JSON_MAX_BYTES": json.dumps({"a": "x" * 200_000}).encode(),
    "nested too deeply": b"[" * 1000 + b"]" * 1000,
    "a number too long": b"[" + b"9" * 5000 + b"]",
    "a NUL": b'{"a": "\\u0000"}',
    "malformed": b"{",
}


@pytest.mark.parametrize("body", list(_IGNORED_BODIES.values()), ids=list(_IGNORED_BODIES))
@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS"])
@pytest.mark.parametrize("path", ["/api/v1/courses", "/api/v1/me", "/courses/"])
def test_a_body_sent_with_a_read_is_ignored(app, client, path, method, body):
    # A read takes no body (none of them documents one): its answer is the one without it,
    # not a 413 or 400 the document does not list for a read.
    _user_id, raw = member_with_token(app)
    headers = bearer(raw) if path.startswith("/api/") else {}
    plain = client.open(path, method=method, headers=headers)
    sent = client.open(
        path, method=method, data=body, content_type="application/json", headers=headers
    )
    assert (sent.status_code, sent.data) == (plain.status_code, plain.data)


def test_a_read_never_reads_an_oversized_body(app, client):
    _user_id, raw = member_with_token(app)
    response = client.get(
        "/api/v1/me",
        input_stream=_Unreadable(),
        content_type="application/json",
        headers=bearer(raw),
    )
    assert response.status_code == 200

"""Bounds on JSON request bodies: their size and how deeply they nest.

Python's JSON parser recurses once per level, so a small body nested a thousand levels deep
raises RecursionError (a 500) in whatever parses it first (Flask, webargs, a view), and it
refuses a number of more than 4,300 digits with a ValueError that webargs does not catch. Every
JSON body is measured here before any parser sees it: too large is a 413, too deep or holding
too long a number a 400, as is NaN or Infinity (which Python's parser reads but JSON has not). A
body sent with a read (GET, HEAD, OPTIONS) is neither measured nor read: no read takes one, and
its answer is the one without it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort, current_app, request

# A JSON string with its escapes, skipped by the scans below so "[[[" or "NaN" inside one is
# text. One never closed runs to the end of the body, as it does for a parser: tried again at
# each of its quotes, a long unclosed string of escaped quotes took time squared in its length.
_STRING = rb'"(?:[^"\\]|\\.)*(?:"|\\?\Z)'
# A JSON string or one bracket.
_TOKENS = re.compile(_STRING + rb"|[\[\]{}]", re.DOTALL)
_OPENERS = frozenset(b"[{")
# A JSON string (skipped) or a run of digits outside one.
_DIGIT_RUNS = re.compile(_STRING + rb"|[0-9]+", re.DOTALL)
# No field takes a number this long; Python's own limit on reading one is 4,300 digits.
MAX_DIGITS = 100
# A JSON string (skipped) or a word Python's parser reads as a number but JSON has not.
_NON_JSON_NUMBERS = re.compile(_STRING + rb"|NaN|Infinity", re.DOTALL)
# The escape of a NUL character (not an escaped backslash followed by "u0000").
_NUL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def nesting_depth(body: bytes) -> int:
    """Return how deeply the arrays and objects of a JSON text nest (malformed text included)."""
    depth = deepest = 0
    for match in _TOKENS.finditer(body):
        first = match.group()[0]
        if first == 0x22:  # a string
            continue
        if first in _OPENERS:
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth = max(0, depth - 1)
    return deepest


def longest_number(body: bytes) -> int:
    """Return the most digits in a row in a JSON text outside its strings."""
    return max(
        (len(match.group()) for match in _DIGIT_RUNS.finditer(body) if match.group()[0] != 0x22),
        default=0,
    )


def has_non_json_number(body: bytes) -> bool:
    """Tell whether a JSON text holds NaN or Infinity outside its strings (no JSON numbers)."""
    return any(match.group()[0] != 0x22 for match in _NON_JSON_NUMBERS.finditer(body))


def _limit_message(limit: int) -> str:
    return f"A JSON body may be at most {limit // 1024} kB."


def check_json_size() -> None:
    """Refuse a body whose declared length is past the limits (413), before reading it.

    A JSON body anywhere, and an API write's body of any type: a write that reads no body (an
    enrollment) would otherwise go through with one past the site-wide limit.
    """
    length = request.content_length
    if length is None or request.method in _BODYLESS:
        return
    if not (_applies() or request.path.startswith("/api/")):
        return
    if length > (current_app.config.get("MAX_CONTENT_LENGTH") or float("inf")):
        abort(413)  # the site-wide limit, said as for any other request
    if _applies() and length > current_app.config["JSON_MAX_BYTES"]:
        abort(413, _limit_message(current_app.config["JSON_MAX_BYTES"]))


def check_streamed_size() -> None:
    """Refuse an API write's streamed body (no Content-Length) past MAX_CONTENT_LENGTH (413)."""
    from campus.security import streamed_past_limit

    # A write that takes no body never reads it, and would go through with one past the limit.
    if request.method in _BODYLESS or not request.path.startswith("/api/"):
        return
    if streamed_past_limit():
        abort(413)


def check_json_body() -> None:
    """Refuse a JSON body larger than JSON_MAX_BYTES (413) or deeper than JSON_MAX_DEPTH (400)."""
    if not _applies():
        return
    limit = current_app.config["JSON_MAX_BYTES"]
    body = request.get_data(cache=True)  # bounded by MAX_CONTENT_LENGTH even without a length
    if len(body) > limit:
        abort(413, _limit_message(limit))
    max_depth = current_app.config["JSON_MAX_DEPTH"]
    if nesting_depth(body) > max_depth:
        abort(400, f"The JSON body nests too deeply (at most {max_depth} levels).")
    if longest_number(body) > MAX_DIGITS:
        abort(400, f"The JSON body holds a number of more than {MAX_DIGITS} digits.")
    if has_non_json_number(body):
        # Python's parser reads them (then a schema calls the field invalid, a 422); no JSON
        # parser does (RFC 8259 6), so the body is malformed.
        abort(400, "The JSON body is malformed: NaN and Infinity are not JSON numbers.")
    if b"\x00" in body or _NUL_ESCAPE.search(body):
        # PostgreSQL can neither store nor compare text holding one (a 500 from the driver).
        abort(400, "The JSON body holds a NUL character, which no field takes.")


# Methods that take no body: nothing reads one sent with them, so it is not measured either.
_BODYLESS = frozenset({"GET", "HEAD", "OPTIONS"})


def _applies() -> bool:
    # Stripe's signed deliveries are verified before they are parsed. A read's body was
    # refused with a 413 or 400 that no read documents, where it changes nothing.
    return (
        request.is_json
        and request.method not in _BODYLESS
        and not request.path.startswith("/webhooks/")
    )


def json_body(view: Callable[..., Any]) -> Callable[..., Any]:
    """Refuse a body that is not JSON with a 415, before the schema reads it as missing fields."""

    @wraps(view)
    def checked(*args: Any, **kwargs: Any) -> Any:
        if not request.is_json:
            abort(415, "Send the body as JSON, with Content-Type: application/json.")
        return view(*args, **kwargs)

    return checked

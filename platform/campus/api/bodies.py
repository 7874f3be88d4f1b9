"""Bounds on JSON request bodies: their size and how deeply they nest.

Python's JSON parser recurses once per level, so a small body nested a thousand levels deep
raises RecursionError (a 500) in whatever parses it first (Flask, webargs, a view). Every JSON
body is measured here before any parser sees it: too large is a 413, too deep a 400.
"""

from __future__ import annotations

import re

from flask import abort, current_app, request

# A JSON string (with its escapes) or one bracket; strings are skipped so "[[[" inside one is text.
_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)
_OPENERS = frozenset(b"[{")


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


def check_json_body() -> None:
    """Refuse a JSON body larger than JSON_MAX_BYTES (413) or deeper than JSON_MAX_DEPTH (400)."""
    if not request.is_json or request.path.startswith("/webhooks/"):
        return  # Stripe's signed deliveries are verified before they are parsed
    limit = current_app.config["JSON_MAX_BYTES"]
    if request.content_length is not None and request.content_length > limit:
        abort(413, f"A JSON body may be at most {limit // 1024} kB.")
    body = request.get_data(cache=True)
    if len(body) > limit:
        abort(413, f"A JSON body may be at most {limit // 1024} kB.")
    max_depth = current_app.config["JSON_MAX_DEPTH"]
    if nesting_depth(body) > max_depth:
        abort(400, f"The JSON body nests too deeply (at most {max_depth} levels).")

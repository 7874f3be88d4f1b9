"""Byte ranges: which part of a file a request's Range header gets, one rule for every download.

Werkzeug answers 416 to any Range it cannot serve as one range: several ranges ("bytes=0-0,-1",
which download managers send), another unit, a malformed header, or a suffix longer than the
file. HTTP says those are to be ignored (the whole file, 200) or, for the suffix, served whole;
416 is only for a range that starts past the end, and it names the length in Content-Range.
"""

from __future__ import annotations

from typing import Any

from flask import Response
from werkzeug.exceptions import RequestedRangeNotSatisfiable
from werkzeug.http import parse_range_header
from werkzeug.wrappers import Response as BaseResponse


def _one_range(header: str | None) -> tuple[int, int | None] | None:
    """Return the request's one byte range as Werkzeug parses it, or None to send it all."""
    # A player seeks with one byte range; several ranges, other units or a malformed header
    # get the whole file.
    wanted = parse_range_header(header)
    if wanted is None or wanted.units != "bytes" or len(wanted.ranges) != 1:
        return None
    return wanted.ranges[0]


def byte_range(header: str | None, length: int) -> tuple[int, int] | None:
    """Return the (start, stop) bytes to send for a Range header, or None to send them all.

    Raises RequestedRangeNotSatisfiable (416, with the length) when the range starts past the
    end.
    """
    wanted = _one_range(header)
    if wanted is None:
        return None
    begin, end = wanted
    if begin < 0:  # the last -begin bytes: asking for more than there is gets it all
        begin, end = max(0, length + begin), length
    end = length if end is None else min(end, length)
    if begin >= end:
        raise RequestedRangeNotSatisfiable(length=length)
    return begin, end


class RangedResponse(Response):
    """Flask's response, whose file downloads (send_file) read the Range header by that rule."""

    def make_conditional(
        self,
        request_or_environ: Any,
        accept_ranges: bool | str = False,
        complete_length: int | None = None,
    ) -> BaseResponse:
        """Answer conditional and range requests, ignoring a Range that is not one byte range."""
        environ = getattr(request_or_environ, "environ", request_or_environ)
        if accept_ranges and complete_length and "HTTP_RANGE" in environ:
            # Werkzeug reads the environ (and still checks If-Range, clips the end and refuses
            # a start past the end): it is given a copy with the one range it is to serve.
            environ = dict(environ)
            wanted = _one_range(environ.pop("HTTP_RANGE"))
            if wanted is not None:
                begin = wanted[0] if wanted[0] >= 0 else max(0, complete_length + wanted[0])
                end = "" if wanted[1] is None or wanted[0] < 0 else wanted[1] - 1
                environ["HTTP_RANGE"] = f"bytes={begin}-{end}"
        return super().make_conditional(environ, accept_ranges, complete_length)

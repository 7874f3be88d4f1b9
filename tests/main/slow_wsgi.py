"""The WSGI app of the graceful-shutdown test: Campus, plus one request that takes its time.

`gunicorn tests.main.slow_wsgi:app` serves the real app; GET /slow-for-test (only here, never in
wsgi.py) writes `reached` into SLOW_REQUEST_DIR, then answers once the test creates `release`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from wsgi import app as campus

BODY = b"finished after the release\n" * 1000


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Hold /slow-for-test until released; hand everything else to Campus."""
    if environ.get("PATH_INFO") != "/slow-for-test":
        return campus(environ, start_response)
    folder = Path(os.environ["SLOW_REQUEST_DIR"])
    (folder / "reached").write_text(str(os.getpid()))
    while not (folder / "release").exists():
        time.sleep(0.05)
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(BODY)))])
    return [BODY]

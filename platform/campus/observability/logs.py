"""Logging: plain text in development, one JSON object a line in production, with request ids.

A request id is taken from the `X-Request-ID` header when it looks like one (a load balancer's),
else made here; it is returned on the response, stamped on every log line of the request, and
carried in the headers of every task the request enqueues, so the worker's lines of that task
carry it too.
"""

from __future__ import annotations

import logging
import re
import sys
import uuid
from contextvars import ContextVar

from pythonjsonlogger.json import JsonFormatter

REQUEST_ID_HEADER = "X-Request-ID"
TASK_HEADER = "campus_request_id"  # the Celery message header that carries it
_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")

request_id_var: ContextVar[str | None] = ContextVar("campus_request_id", default=None)
task_var: ContextVar[tuple[str, str] | None] = ContextVar("campus_task", default=None)

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s"


def request_id_from(header: str | None) -> str:
    """Return the caller's request id if it is well formed, else a new one."""
    if header and _VALID_ID.match(header):
        return header
    return uuid.uuid4().hex


class ContextFilter(logging.Filter):
    """Stamp each record with the current request id and, in a task, its name and id."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        task = task_var.get()
        if task is not None:
            record.task_name, record.task_id = task
        return True


class TextFormatter(logging.Formatter):
    """The plain format, with line breaks in a message escaped (a traceback still follows)."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        # A path or a name with %0A in it would otherwise start a line that looks logged by us.
        return super().formatMessage(record).replace("\r", "\\r").replace("\n", "\\n")


def json_formatter() -> logging.Formatter:
    """Format records as one JSON object a line, with UTC ISO timestamps."""
    return JsonFormatter(
        _JSON_FIELDS,
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        timestamp=False,
        json_ensure_ascii=False,
    )


def configure(log_format: str) -> None:
    """Set the process's log format ("json" or "text") at INFO; the first app built decides.

    A process serves one app; a later app in the same process (tests build several) keeps the
    format the first chose rather than swapping handlers under a running one.
    """
    global _configured
    if _configured:
        return
    _configured = True
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    if root.handlers:
        return  # as logging.basicConfig: someone (a test runner) already decided where lines go
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(json_formatter() if log_format == "json" else TextFormatter(TEXT_FORMAT))
    handler.addFilter(ContextFilter())
    root.addHandler(handler)


_configured = False

"""Where requests and tasks are measured and tagged: Flask request hooks, Celery signals."""

from __future__ import annotations

import logging
import time
from contextvars import Token
from typing import Any

from celery import signals
from flask import Flask, Response, g, request

from campus.observability import logs, metrics

log = logging.getLogger("campus.request")


def install(app: Flask) -> None:
    """Give every request an id, count it, and log it when the settings ask for it."""
    app.before_request(_start_request)
    app.after_request(_finish_request)
    app.teardown_request(_end_request)


def start_first(app: Flask) -> None:
    """Move the request's id and clock before every other before_request hook.

    Called once every hook is registered: a hook that refuses a request (a token's 401 or 429,
    a session write's missing CSRF token, a body past the limit, a rate limit) answers at once
    and skips the hooks after it, and its answer would carry no request id and be neither
    counted nor logged.
    """
    hooks = app.before_request_funcs.setdefault(None, [])
    hooks.remove(_start_request)
    hooks.insert(0, _start_request)


def _start_request() -> None:
    g.campus_started = time.perf_counter()
    g.campus_request_id = logs.request_id_from(request.headers.get(logs.REQUEST_ID_HEADER))
    g.campus_request_token = logs.request_id_var.set(g.campus_request_id)


def _finish_request(response: Response) -> Response:
    from flask import current_app

    started = g.get("campus_started")
    if started is None:
        return response  # a request refused before the hooks ran (a bad Host)
    response.headers[logs.REQUEST_ID_HEADER] = g.campus_request_id
    route = request.url_rule.rule if request.url_rule is not None else "unmatched"
    metrics.observe_request(route, request.method, response.status_code, started)
    if current_app.config.get("LOG_REQUESTS"):
        elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
        path = _logged_path()
        log.info(
            "%s %s %s %.1f ms",
            request.method,
            path,
            response.status_code,
            elapsed_ms,
            extra={
                "method": request.method,
                "path": path,
                "route": route,
                "status": response.status_code,
                "duration_ms": elapsed_ms,
                "remote_addr": request.remote_addr,
            },
        )
    return response


def _logged_path() -> str:
    """The request's path, with the token of an emailed link (reset, unsubscribe) masked."""
    # The token alone opens the link: whoever reads the logs must not be able to use it.
    token = (request.view_args or {}).get("token")
    if not token and request.url_rule is None:
        from campus.security import token_in_path

        # A mangled link (a 404 or 405) matched no route, so no view arguments name its token.
        token = token_in_path(request.path)
    if not token:
        return request.path
    return request.path.replace(str(token), "[token]")


def _end_request(_error: BaseException | None) -> None:
    token: Token | None = g.pop("campus_request_token", None)
    if token is not None:
        logs.request_id_var.reset(token)


# --- Celery: the request id travels in the message; tasks are counted by outcome -------------

_running: dict[str, tuple[float, list[Token[Any]]]] = {}


@signals.before_task_publish.connect(weak=False)
def _carry_request_id(headers: dict[str, Any] | None = None, **_: Any) -> None:
    request_id = logs.request_id_var.get()
    if request_id and headers is not None:
        headers[logs.TASK_HEADER] = request_id


@signals.task_prerun.connect(weak=False)
def _task_started(task_id: str, task: Any, **_: Any) -> None:
    tokens: list[Token[Any]] = [logs.task_var.set((task.name, task_id))]
    # Eager tasks run inside the request and already carry its id; a worker reads the header.
    carried = getattr(task.request, logs.TASK_HEADER, None)
    if carried:
        tokens.append(logs.request_id_var.set(str(carried)))
    _running[task_id] = (time.perf_counter(), tokens)


@signals.task_postrun.connect(weak=False)
def _task_finished(task_id: str, task: Any, state: str | None = None, **_: Any) -> None:
    started, tokens = _running.pop(task_id, (None, []))
    for token in reversed(tokens):
        token.var.reset(token)
    outcome = (state or "unknown").lower()
    metrics.TASKS.labels(task.name, outcome).inc()
    if started is not None:
        metrics.TASK_DURATION.labels(task.name).observe(time.perf_counter() - started)

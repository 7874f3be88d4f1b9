"""Request ids and JSON logs: one id from the web request to the task it enqueued."""

from __future__ import annotations

import io
import json
import logging
import re
import socket
import urllib.request

import pytest

from campus.observability import hooks, logs
from campus.security import LONGEST_ROUTE
from tests import support
from tests.api.helpers import bearer, member_with_token
from tests.production import production_app


def test_every_response_carries_a_request_id(client):
    first = client.get("/articles/").headers["X-Request-ID"]
    second = client.get("/articles/").headers["X-Request-ID"]
    assert len(first) == 32 and first != second


def test_a_request_refused_before_its_view_carries_a_request_id_and_is_logged(app, client, caplog):
    # A token's 401, a session write's missing CSRF token (400), a body past the limit (413):
    # refused by hooks that run before the view, and as much a request to trace as any other.
    _user_id, raw = member_with_token(app, "write")
    with app.app_context():
        support.sign_in_directly(client, support.create_user().id)
    unknown = {"Authorization": "Bearer campus_unknown"}
    app.config["LOG_REQUESTS"] = True
    try:
        with caplog.at_level(logging.INFO, logger=hooks.log.name):
            refused = [
                client.get("/api/v1/me", headers=unknown),
                client.post("/api/v1/courses/any/enroll", json={}),
                client.post("/login", data={"email": "x@example.com"}),
                client.post(
                    "/api/v1/courses/any/quiz/attempts",
                    json={"answers": "x" * 200_000},
                    headers=bearer(raw),
                ),
            ]
    finally:
        app.config["LOG_REQUESTS"] = False
    assert [r.status_code for r in refused] == [401, 400, 400, 413]
    for response in refused:
        assert len(response.headers.get("X-Request-ID", "")) == 32, response.status_code
    lines = [r for r in caplog.records if r.name == hooks.log.name]
    assert [r.status for r in lines] == [401, 400, 400, 413]


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("lb-4f1c2a9e-77", True),
        ("short", False),
        ("has spaces in it", False),
        ("x" * 65, False),
        ('quote"injected-1234', False),
    ],
)
def test_a_well_formed_request_id_from_the_proxy_is_kept(client, sent, kept):
    answered = client.get("/healthz", headers={"X-Request-ID": sent}).headers["X-Request-ID"]
    assert (answered == sent) is kept


def test_a_json_line_carries_the_request_id_and_the_task(app):
    stream = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            stream.append(self.format(record))

    handler = Collect()
    handler.setFormatter(logs.json_formatter())
    handler.addFilter(logs.ContextFilter())
    logger = logging.getLogger("campus.test_json")
    logger.addHandler(handler)
    try:
        token = logs.request_id_var.set("req-0123456789")
        task = logs.task_var.set(("campus.mail.deliver", "task-1"))
        logger.warning("sent é", extra={"status": 200})
        logs.task_var.reset(task)
        logs.request_id_var.reset(token)
        logger.warning("outside")
    finally:
        logger.removeHandler(handler)
    inside, outside = (json.loads(line) for line in stream)
    assert inside["message"] == "sent é"
    assert inside["level"] == "WARNING" and inside["logger"] == "campus.test_json"
    assert inside["request_id"] == "req-0123456789"
    assert inside["task_name"] == "campus.mail.deliver" and inside["task_id"] == "task-1"
    assert inside["status"] == 200 and "time" in inside
    assert outside["request_id"] is None and "task_name" not in outside


def test_the_request_id_travels_in_the_task_message_and_back():
    headers: dict = {}
    token = logs.request_id_var.set("req-abcdef12")
    try:
        hooks._carry_request_id(headers=headers)
    finally:
        logs.request_id_var.reset(token)
    assert headers == {logs.TASK_HEADER: "req-abcdef12"}

    class Request:
        campus_request_id = "req-abcdef12"

    class Task:
        name = "campus.example"
        request = Request()

    hooks._task_started("t-1", Task())
    assert logs.request_id_var.get() == "req-abcdef12"
    hooks._task_finished("t-1", Task(), state="SUCCESS")
    assert logs.request_id_var.get() is None


def test_a_request_line_never_carries_the_secret_token_of_an_emailed_link(app, client, caplog):
    """Whoever reads the logs must not be able to open a member's reset or unsubscribe link."""
    from campus.accounts import services
    from campus.extensions import db
    from campus.mail.services import unsubscribe_token

    with app.app_context():
        user = support.create_user()
        reset = services.issue_token(user, "reset_password", 3600)
        db.session.commit()
        unsubscribe = unsubscribe_token(user.email)
    app.config["LOG_REQUESTS"] = True
    try:
        with caplog.at_level(logging.INFO, logger=hooks.log.name):
            assert client.get(f"/password/reset/{reset}").status_code == 200
            assert client.get(f"/unsubscribe/{unsubscribe}").status_code == 200
    finally:
        app.config["LOG_REQUESTS"] = False
    lines = [r for r in caplog.records if r.name == hooks.log.name]
    assert [r.route for r in lines] == ["/password/reset/<token>", "/unsubscribe/<token>"]
    for record in lines:
        assert reset not in record.getMessage() and reset not in record.path
        assert unsubscribe not in record.getMessage() and unsubscribe not in record.path


def test_a_text_log_line_cannot_be_forged_with_a_line_break_in_the_request(
    app, client, monkeypatch
):
    """A path with %0A in it stays on its own line: no made-up line follows it."""
    root = logging.getLogger()
    monkeypatch.setattr(logs, "_configured", False)
    monkeypatch.setattr(root, "handlers", [])
    monkeypatch.setattr(root, "level", root.level)
    logs.configure("text")
    stream = io.StringIO()
    root.handlers[0].setStream(stream)
    monkeypatch.setitem(app.config, "LOG_REQUESTS", True)
    forged = "x\r\n2026-01-01 00:00:00,000 INFO campus.request: POST /admin/members 200 1.0 ms"
    client.get("/articles/" + forged.replace("\r", "%0D").replace("\n", "%0A"))
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1, lines
    assert "GET /articles/x" in lines[0] and "POST /admin/members" in lines[0]


def test_production_logs_json_and_every_request_by_default(_database):
    app = production_app()
    try:
        assert app.config["LOG_FORMAT"] == "json"
        assert app.config["LOG_REQUESTS"] is True
    finally:
        support.clean_database(app)


@pytest.mark.parametrize(
    ("overrides", "complaint"),
    [
        ({"METRICS_ENABLED": True}, "METRICS_ENABLED is on with neither"),
        ({"METRICS_ALLOW_FROM": ["10.0.0.0/8", "not-a-net"]}, "'not-a-net'"),
        ({"LOG_FORMAT": "xml"}, "LOG_FORMAT='xml'"),
    ],
)
def test_production_refuses_unsafe_or_malformed_observability_settings(
    _database, overrides, complaint
):
    from campus.preflight import ConfigurationError

    with pytest.raises(ConfigurationError, match=complaint):
        production_app(**overrides)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
@pytest.mark.worker
def test_a_worker_logs_json_with_the_request_id_and_serves_its_task_figures(_database):
    """A reset request's id reaches the worker's log line; the worker's /metrics counts it."""
    port = _free_port()
    proc = support.start_worker(
        pool="prefork",
        concurrency=1,
        log_name="worker-json.log",
        LOG_FORMAT="json",
        METRICS_ENABLED="1",
        METRICS_WORKER_PORT=str(port),
    )
    app = support.shared_app(eager=False)
    try:
        with app.app_context():
            support.create_user(email="json-logs@example.com")
        client = app.test_client()
        response = support.post_form(
            client,
            "/password/reset",
            {"email": "json-logs@example.com"},
            headers={"X-Request-ID": "reset-req-42424242"},
        )
        assert response.status_code in (200, 302)

        def task_line() -> dict | None:
            # A line logged inside a task the request led to (with Redis the reset request
            # reaches the worker through a debounced wake-up task rather than its own).
            for line in proc.log_path.read_text().splitlines():  # type: ignore[attr-defined]
                if not line.startswith("{"):
                    continue  # Celery's start-up banner is printed, not logged
                entry = json.loads(line)
                if entry.get("request_id") == "reset-req-42424242" and entry.get("task_name"):
                    return entry
            return None

        entry = support.wait_for(task_line, message="a task's JSON log line with the request id")
        assert entry["task_name"].startswith("campus.")
        counted_line = re.compile(
            r'^campus_celery_tasks_total\{outcome="success",task="'
            + re.escape(entry["task_name"])
            + r'"\} [1-9]',
            re.M,
        )

        def counted() -> bool:
            url = f"http://127.0.0.1:{port}/metrics"
            with urllib.request.urlopen(url, timeout=5) as answer:
                return bool(counted_line.search(answer.read().decode()))

        support.wait_for(counted, message="the worker's metrics to count the task")
    finally:
        support.stop_worker(proc)
        support.clean_database(app)


def test_a_mangled_emailed_link_that_matches_no_page_is_logged_without_its_token(
    app, client, caplog, monkeypatch
):
    """A link copied with what followed it (a slash, a bracket) or sent with another method."""
    from campus.accounts import services
    from campus.extensions import db

    with app.app_context():
        user = support.create_user(verified=False)
        raw = services.issue_token(user, "verify_email", 3600)
        db.session.commit()
    monkeypatch.setitem(app.config, "LOG_REQUESTS", True)
    with caplog.at_level(logging.INFO, logger=hooks.log.name):
        assert client.get(f"/verify-email/{raw}/").status_code == 404
        assert client.get(f"/verify-email/{raw}/).").status_code == 404
        assert client.put(f"/account/email/confirm/{raw}").status_code == 405
        assert client.get("/articles/no-such/page/").status_code == 404
    lines = [r for r in caplog.records if r.name == hooks.log.name]
    assert [r.path for r in lines] == [
        "/verify-email/[token]/",
        "/verify-email/[token]/).",
        "/account/email/confirm/[token]",
        "/articles/no-such/page/",  # no emailed link's address: kept whole
    ]
    assert not [r for r in lines if raw in r.getMessage()]
    # Only starts of a path as long as the longest route are tried: no route may be longer.
    assert max(rule.rule.count("/") for rule in app.url_map.iter_rules()) <= LONGEST_ROUTE

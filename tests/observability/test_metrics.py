"""GET /metrics: off by default, only for the scraper, and figures that move with the work."""

from __future__ import annotations

import re

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests import support
from tests.billing.fake_stripe import event, post_event
from tests.certificates.helpers import completed_student

TOKEN = "scrape-" + "x" * 24


@pytest.fixture
def metrics_on(app):
    """Switch /metrics on with a bearer token for this test."""
    app.config.update(METRICS_ENABLED=True, METRICS_TOKEN=TOKEN, METRICS_ALLOW_FROM=[])
    yield app
    app.config.update(METRICS_ENABLED=False, METRICS_TOKEN=None, METRICS_ALLOW_FROM=[])


def scrape(client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Scrape /metrics and return every sample by name and labels."""
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.content_type.startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_are_off_by_default(client):
    assert client.get("/metrics").status_code == 404


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}, {"Authorization": "Basic x"}],
)
def test_metrics_refuse_a_caller_without_the_token(client, metrics_on, headers):
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 403
    assert b"campus_" not in response.data


def test_metrics_answer_an_allowed_network_without_a_token(client, app):
    app.config.update(METRICS_ENABLED=True, METRICS_TOKEN=None, METRICS_ALLOW_FROM=["10.0.0.0/8"])
    try:
        outside = client.get("/metrics", environ_base={"REMOTE_ADDR": "192.0.2.7"})
        inside = client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    finally:
        app.config.update(METRICS_ENABLED=False, METRICS_ALLOW_FROM=[])
    assert outside.status_code == 403
    assert inside.status_code == 200
    assert b"campus_http_requests_total" in inside.data


def test_requests_are_counted_by_route_and_status_with_latency(client, metrics_on):
    before = scrape(client)
    for _ in range(3):
        assert client.get("/articles/").status_code == 200
    assert client.get("/articles/no-such-article").status_code == 404
    after = scrape(client)

    ok = dict(route="/articles/", method="GET", status="200")
    missing = dict(route="/articles/<slug>", method="GET", status="404")
    assert (
        value(after, "campus_http_requests_total", **ok)
        == value(before, "campus_http_requests_total", **ok) + 3
    )
    assert (
        value(after, "campus_http_requests_total", **missing)
        == value(before, "campus_http_requests_total", **missing) + 1
    )
    latency = dict(route="/articles/", method="GET")
    assert value(after, "campus_http_request_duration_seconds_count", **latency) >= 3
    assert value(after, "campus_http_request_duration_seconds_sum", **latency) > 0


def test_requests_refused_before_their_view_are_counted(client, metrics_on):
    # A token refused (401) or past its limit (429) never reaches the view: the figures an
    # operator watches for a misbehaving script must count it all the same.
    before = scrape(client)
    unknown = {"Authorization": "Bearer campus_unknown"}
    for _ in range(2):
        assert client.get("/api/v1/me", headers=unknown).status_code == 401
    after = scrape(client)
    refused = dict(route="/api/v1/me", method="GET", status="401")
    assert (
        value(after, "campus_http_requests_total", **refused)
        == value(before, "campus_http_requests_total", **refused) + 2
    )


def test_failed_sign_ins_are_counted(client, metrics_on, app):
    with app.app_context():
        support.create_user(email="counted@example.com")
    before = value(scrape(client), "campus_logins_failed_total", reason="password")
    for email, password in (
        ("counted@example.com", "not the password"),
        ("nobody-here@example.com", "whatever it is"),
    ):
        refused = support.post_form(client, "/login", {"email": email, "password": password})
        assert refused.status_code == 422
    support.login(client, "counted@example.com")  # a success is not counted
    after = value(scrape(client), "campus_logins_failed_total", reason="password")
    assert after == before + 2


def test_tasks_certificates_and_emails_move_the_figures(client, metrics_on, app):
    before = scrape(client)
    completed_student(app)  # issues the certificate and sends its email in (eager) tasks
    after = scrape(client)

    assert (
        value(after, "campus_certificates", status="issued")
        == value(before, "campus_certificates", status="issued") + 1
    )
    sent_now = value(after, "campus_emails", status="sent") + value(
        after, "campus_emails", status="queued"
    )
    sent_before = value(before, "campus_emails", status="sent") + value(
        before, "campus_emails", status="queued"
    )
    assert sent_now > sent_before
    task = dict(task="campus.certificates.issue_certificate", outcome="success")
    assert (
        value(after, "campus_celery_tasks_total", **task)
        == value(before, "campus_celery_tasks_total", **task) + 1
    )
    assert value(after, "campus_queue_depth", queue="celery") == 0  # eager: nothing waits


def test_webhook_events_are_counted_by_status_with_the_oldest_age(client, metrics_on):
    before = scrape(client)
    evt = event("customer.created", {"id": "cus_metrics", "object": "customer"})
    assert post_event(client, evt).status_code == 200
    after = scrape(client)
    stored_before = sum(v for (n, _), v in before.items() if n == "campus_webhook_events")
    stored_after = sum(v for (n, _), v in after.items() if n == "campus_webhook_events")
    assert stored_after == stored_before + 1
    # Processed at once (eager): nothing waits, so the oldest waiting event is 0 seconds old.
    assert value(after, "campus_webhook_oldest_unprocessed_age_seconds") == 0


def test_a_waiting_webhook_event_reports_its_age(client, metrics_on, app):
    from campus.billing.models import WebhookEvent
    from campus.extensions import db
    from campus.models.base import utcnow

    with app.app_context():
        from datetime import timedelta

        db.session.add(
            WebhookEvent(
                stripe_event_id="evt_waiting",
                type="invoice.paid",
                created=0,
                payload="{}",
                status="failed",
                created_at=utcnow() - timedelta(minutes=5),
            )
        )
        db.session.commit()
    age = value(scrape(client), "campus_webhook_oldest_unprocessed_age_seconds")
    assert 290 < age < 600


def test_metric_names_follow_prometheus_conventions(client, metrics_on):
    body = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).get_data(
        as_text=True
    )
    names = set(re.findall(r"^# TYPE (\S+) ", body, re.M))
    assert names >= {
        "campus_http_requests_total",
        "campus_http_request_duration_seconds",
        "campus_celery_tasks_total",
        "campus_logins_failed_total",
        "campus_webhook_events",
        "campus_certificates",
        "campus_emails",
        "campus_queue_depth",
    }
    assert all(name.startswith("campus_") for name in names)


def test_several_server_processes_without_a_shared_folder_get_a_503_not_one_processs_figures(
    client, metrics_on, monkeypatch
):
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    response = client.get(
        "/metrics",
        headers={"Authorization": f"Bearer {TOKEN}"},
        environ_overrides={"wsgi.multiprocess": True},
    )
    assert response.status_code == 503
    assert "PROMETHEUS_MULTIPROC_DIR" in response.get_data(as_text=True)
    assert b"campus_http_requests_total" not in response.data


def test_one_server_process_needs_no_shared_folder(client, metrics_on, monkeypatch):
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    response = client.get(
        "/metrics",
        headers={"Authorization": f"Bearer {TOKEN}"},
        environ_overrides={"wsgi.multiprocess": False},
    )
    assert response.status_code == 200


def test_a_multiprocess_folder_that_cannot_be_written_stops_the_start(app, monkeypatch, tmp_path):
    from campus.preflight import setting_problems

    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "missing"))
    problems = setting_problems(app.config)
    assert any("PROMETHEUS_MULTIPROC_DIR" in problem for problem in problems)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    assert setting_problems(app.config) == []


def test_made_up_methods_do_not_each_add_a_series(client, metrics_on):
    # A client may send any word as the method: each one kept as a label would be a new series
    # in every scrape, growing without bound (and a file per worker under multiprocess mode).
    for method in ("BREW", "XYZZY", "PROPFIND"):
        assert client.open("/articles/", method=method).status_code == 405
    samples = scrape(client)
    methods = {dict(labels).get("method") for (name, labels) in samples}
    assert not methods & {"BREW", "XYZZY", "PROPFIND"}
    other = dict(route="unmatched", method="other", status="405")
    assert value(samples, "campus_http_requests_total", **other) >= 3


def test_a_drained_queue_on_redis_reports_zero_waiting_not_no_figure(_database):
    """Redis deletes a list once its last message is taken: the queue is empty, not unknown."""
    import os

    from kombu import Queue

    url = os.environ["CELERY_BROKER_URL"]
    if not url.startswith("redis"):
        pytest.skip("runs when CELERY_BROKER_URL points at Redis")
    app = support.make_app(eager=False)
    from campus.observability.metrics import _queue_depth

    try:
        with app.app_context():
            celery_app = app.extensions["celery"]
            with celery_app.connection_for_write() as connection:
                # Declared (as a worker does at start), then every message taken: no list left.
                Queue("campus-drained", channel=connection.default_channel).declare()
                assert _queue_depth("campus-drained") == 0
    finally:
        support.clean_database(app)


def test_a_scrape_while_the_database_is_down_still_reports_the_requests(_database):
    """An outage is when the 503s must be seen: the stored figures go, not the whole scrape."""
    app = support.make_app(
        SQLALCHEMY_DATABASE_URI="postgresql+psycopg://nobody@127.0.0.1:1/none",
        METRICS_ENABLED=True,
        METRICS_TOKEN=TOKEN,
    )
    client = app.test_client()
    assert client.get("/healthz").status_code == 503
    samples = scrape(client)
    answered = dict(route="/healthz", method="GET", status="503")
    assert value(samples, "campus_http_requests_total", **answered) >= 1
    assert not any(name.startswith("campus_certificates") for name, _labels in samples)

"""Prometheus metrics: what each process counts, and what the database and broker hold.

Counters and histograms live in the process that sees the event: web requests and failed
sign-ins in the web processes, Celery tasks in the worker (its child processes). Under gunicorn
or a prefork worker, `PROMETHEUS_MULTIPROC_DIR` makes every child write its figures to files that
one scrape adds up (prometheus_client's multiprocess mode). Figures that must agree across hosts
(webhook events, certificates, emails, queue depth) are read from the database and the broker at
scrape time, so any web process answers the same.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime

from flask import Flask, current_app
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import func, select

log = logging.getLogger(__name__)

# This module's own metrics, apart from the library's default process and platform collectors.
_PROCESS = CollectorRegistry(auto_describe=True)

HTTP_REQUESTS = Counter(
    "campus_http_requests",
    "HTTP requests answered, by route (endpoint), method and status.",
    ["route", "method", "status"],
    registry=_PROCESS,
)
HTTP_LATENCY = Histogram(
    "campus_http_request_duration_seconds",
    "Time to answer an HTTP request, by route (endpoint) and method.",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=_PROCESS,
)
TASKS = Counter(
    "campus_celery_tasks",
    "Celery tasks run, by task name and outcome (success, failure, retry).",
    ["task", "outcome"],
    registry=_PROCESS,
)
TASK_DURATION = Histogram(
    "campus_celery_task_duration_seconds",
    "Time a Celery task ran, by task name.",
    ["task"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300),
    registry=_PROCESS,
)
LOGINS_FAILED = Counter(
    "campus_logins_failed",
    "Sign-in attempts refused, by what failed: the password (or unknown email), the second factor.",
    ["reason"],
    registry=_PROCESS,
)


def registry_for_scrape() -> CollectorRegistry:
    """Return the registry one scrape reads: this process's figures or all children's."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())
    return registry


class _ThisProcess(Collector):
    """This process's counters and histograms (one process: no files to add up)."""

    def collect(self) -> Iterator[Metric]:
        yield from _PROCESS.collect()


def exposition(app: Flask) -> tuple[bytes, str]:
    """Render every figure in Prometheus' text format: process counters, then stored state."""
    registry = registry_for_scrape()
    registry.register(StoredStateCollector(app))
    return generate_latest(registry), CONTENT_TYPE_LATEST


class StoredStateCollector(Collector):
    """Figures read at scrape time from the database and the broker, the same on every host."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from sqlalchemy.exc import SQLAlchemyError

        from campus.extensions import db

        try:
            stored = list(self._stored())
        except SQLAlchemyError as error:
            # The scrape still answers with every process figure: during an outage the 503s
            # it counts are what an operator needs to see.
            db.session.rollback()
            log.warning("/metrics: stored figures left out, the database did not answer: %s", error)
            stored = []
        yield from stored
        depth = GaugeMetricFamily(
            "campus_queue_depth", "Messages waiting in the Celery queue.", labels=["queue"]
        )
        queue = current_app.extensions["celery"].conf.task_default_queue
        waiting = _queue_depth(queue)
        if waiting is not None:
            depth.add_metric([queue], waiting)
        yield depth

    def _stored(self) -> Iterator[GaugeMetricFamily]:
        """The figures read from the database."""
        from campus.billing.models import WebhookEvent
        from campus.certificates.models import Certificate
        from campus.extensions import db
        from campus.mail.models import EmailMessage

        session = db.session
        for name, doc, model in (
            ("campus_webhook_events", "Stripe events stored, by status.", WebhookEvent),
            ("campus_certificates", "Certificates, by status.", Certificate),
            ("campus_emails", "Emails, by delivery status.", EmailMessage),
        ):
            family = GaugeMetricFamily(name, doc, labels=["status"])
            rows = session.execute(select(model.status, func.count()).group_by(model.status))
            for status, count in rows:
                family.add_metric([status], count)
            yield family

        oldest = session.scalar(
            select(func.min(WebhookEvent.created_at)).where(
                WebhookEvent.status.in_(("received", "processing", "failed"))
            )
        )
        age = GaugeMetricFamily(
            "campus_webhook_oldest_unprocessed_age_seconds",
            "Age of the oldest Stripe event not yet processed (0 when none waits).",
        )
        age.add_metric([], _age_seconds(oldest))
        yield age


def _age_seconds(moment: datetime | None) -> float:
    if moment is None:
        return 0.0
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # SQLite hands back naive UTC
    return max(0.0, (datetime.now(UTC) - moment).total_seconds())


def _queue_depth(queue: str) -> int | None:
    """Count the messages waiting in a queue, or None when the broker cannot be asked."""
    celery_app = current_app.extensions["celery"]
    if celery_app.conf.task_always_eager:
        return 0  # tasks run inline: nothing ever waits
    try:
        with celery_app.connection_for_read() as connection:
            connection.ensure_connection(max_retries=1)
            try:
                declared = connection.default_channel.queue_declare(queue=queue, passive=True)
            except connection.channel_errors as error:
                if str(getattr(error, "reply_code", "")) == "404":
                    # The broker answers and holds no such queue, so nothing waits in it: Redis
                    # deletes a queue's list with its last message, so a drained queue is this.
                    return 0
                raise
            return int(declared.message_count)
    except Exception:
        # The broker down or refusing: the healthcheck reports that; leave the series out
        # rather than report a false zero.
        return None


# The methods a label may name. A client may send any word as its method: each kept as it came
# would be one more series in every scrape, without bound, so the rest are counted as "other".
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def observe_request(route: str, method: str, status: int, started: float) -> None:
    """Count one answered request and its latency."""
    method = method if method in _METHODS else "other"
    HTTP_REQUESTS.labels(route, method, str(status)).inc()
    HTTP_LATENCY.labels(route, method).observe(time.perf_counter() - started)

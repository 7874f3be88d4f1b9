"""The worker's side: Campus' log format kept, and task figures served on a port of its own."""

from __future__ import annotations

import logging
import os
import tempfile
from typing import Any

from celery import Celery, signals

log = logging.getLogger(__name__)


def prepare_metrics_dir() -> None:
    """Give a worker that serves metrics a multiprocess folder, before prometheus is imported.

    Tasks run in the pool's child processes; their figures reach the parent (which serves
    them) only through prometheus_client's multiprocess files.
    """
    if os.environ.get("METRICS_WORKER_PORT") and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="campus-metrics-")


def install(celery_app: Celery, config: dict[str, Any]) -> None:
    """Keep the app's logging setup in the worker and serve metrics when configured."""

    @signals.setup_logging.connect(weak=False)
    def _keep_campus_logging(**_: Any) -> None:
        # Connected, so Celery leaves the root logger as create_app configured it (text or
        # JSON with request ids) instead of installing its own format.
        return None

    port = int(config.get("METRICS_WORKER_PORT") or 0)
    if not (config.get("METRICS_ENABLED") and port):
        return

    @signals.worker_init.connect(weak=False)
    def _serve_metrics(**_: Any) -> None:
        from prometheus_client import start_http_server

        from campus.observability.metrics import registry_for_scrape

        address = config.get("METRICS_WORKER_ADDRESS") or "127.0.0.1"
        start_http_server(port, addr=address, registry=registry_for_scrape())
        log.info("worker metrics on http://%s:%s/metrics", address, port)

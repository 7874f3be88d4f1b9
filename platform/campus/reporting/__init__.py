"""Reporting to the boards' tracking systems (CE Broker): queued per completion, sent once."""

from __future__ import annotations

from flask import Flask

from campus.features import Feature


def _register(app: Flask) -> None:
    from campus.reporting import models, receivers, tasks  # noqa: F401  (tables, signals, tasks)
    from campus.reporting.views import install_template_helpers

    install_template_helpers(app)


def _beat_schedule() -> dict[str, dict]:
    from campus.reporting.tasks import BEAT_SCHEDULE

    return BEAT_SCHEDULE


feature = Feature("reporting", _register, beat_schedule=_beat_schedule)

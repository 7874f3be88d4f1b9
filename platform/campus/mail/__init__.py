"""Outgoing email: stored rows, delivered by a Celery task to SMTP or the outbox folder."""

from __future__ import annotations

from flask import Flask

from campus.features import Feature


def _register(app: Flask) -> None:
    from campus.mail import models, tasks, views  # noqa: F401  (tables; tasks; unsubscribe)

    app.register_blueprint(views.bp)


def _beat_schedule() -> dict[str, dict]:
    from campus.mail.tasks import BEAT_SCHEDULE

    return BEAT_SCHEDULE


feature = Feature("mail", _register, beat_schedule=_beat_schedule)

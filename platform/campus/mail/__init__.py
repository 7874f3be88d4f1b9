"""Outgoing email: stored rows, delivered by a Celery task to SMTP or the outbox folder."""

from __future__ import annotations

from flask import Flask

from campus.features import Feature


def _register(app: Flask) -> None:
    from campus.mail import models, tasks  # noqa: F401  (tables; the delivery task)


feature = Feature("mail", _register)

"""The features that make up Campus, each naming what it adds to the app.

A feature package's `__init__` builds one `Feature`: the function that imports its models,
views, API, tasks and commands and registers them, plus its beat schedule and demo seeder.
Nothing is found by probing for modules, so a misspelt name is an ImportError at start-up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Flask


def _no_schedule() -> dict[str, dict]:
    return {}


@dataclass(frozen=True)
class Feature:
    """One feature package and the parts it contributes."""

    name: str
    # Imports the feature's models, views, tasks, receivers and commands; registers blueprints.
    register: Callable[[Flask], None]
    # Periodic tasks for celery beat, by entry name.
    beat_schedule: Callable[[], dict[str, dict]] = field(default=_no_schedule)
    # Adds the feature's demo content (idempotent); returns what it created.
    seed: Callable[[], list[str]] | None = None


def all_features() -> tuple[Feature, ...]:
    """Every feature, in registration order (models before the features that use them)."""
    from campus import (
        accounts,
        admin,
        billing,
        certificates,
        content,
        directory,
        learning,
        licenses,
        mail,
        main,
        observability,
        programs,
        records,
        reporting,
    )

    return (
        main.feature,
        observability.feature,
        mail.feature,
        accounts.feature,
        billing.feature,
        content.feature,
        learning.feature,
        certificates.feature,
        licenses.feature,
        reporting.feature,
        programs.feature,
        directory.feature,
        records.feature,
        admin.feature,
    )

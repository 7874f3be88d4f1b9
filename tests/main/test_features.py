"""Features are registered explicitly: every part is named, and a misspelt one stops start-up."""

from __future__ import annotations

import pytest

from campus import create_app, features
from campus.features import Feature


def test_every_feature_is_registered_in_order(app):
    assert app.extensions["campus_features"] == (
        "main",
        "observability",
        "mail",
        "accounts",
        "billing",
        "content",
        "learning",
        "certificates",
        "licenses",
        "reporting",
        "programs",
        "directory",
        "records",
        "admin",
    )
    # What each feature registered is there: pages, API, commands.
    assert {"main", "accounts", "billing", "content", "learning", "certificates", "records"} <= set(
        app.blueprints
    )
    paths = {rule.rule for rule in app.url_map.iter_rules()}
    assert {
        "/api/v1/me",
        "/api/v1/courses",
        "/api/v1/articles",
        "/api/v1/me/licenses",
        "/api/v1/directory",
    } <= paths
    assert {"billing", "content", "certificates", "licenses", "directory"} <= set(app.cli.commands)


def test_beat_schedule_comes_from_the_features():
    from workers.schedule import beat_schedule

    schedule = beat_schedule()
    assert schedule["certificates-sweep"]["task"] == "campus.certificates.sweep_certificates"
    assert schedule["billing-reconcile"]["task"] == "campus.billing.reconcile"
    task = schedule["licenses-renewal-reminders"]["task"]
    assert task == "campus.licenses.send_renewal_reminders"


def test_a_misspelt_feature_module_stops_start_up(monkeypatch, _database):
    def register(app):
        from campus.learning import modles  # noqa: F401

    broken = Feature("broken", register)
    real = features.all_features
    monkeypatch.setattr(features, "all_features", lambda: (*real(), broken))
    with pytest.raises(ImportError):
        create_app("testing")

"""The shared test app is put back before each test, and xdist workers keep to their own data."""

import os

import pytest

from tests import support


def test_a_shared_app_is_put_back_as_it_was_built(app):
    site_name = app.config["SITE_NAME"]
    app.config["SITE_NAME"] = "Changed by a test"
    app.extensions["content_cache"] = {("stale",): "a page of rows that are gone"}
    app.extensions["storage"] = object()
    again = support.shared_app()
    assert again is app
    assert again.config["SITE_NAME"] == site_name
    assert "content_cache" not in again.extensions
    assert "storage" not in again.extensions


def test_rate_limits_do_not_carry_over_to_the_next_test(app, client):
    app.config["LOGIN_ADDRESS_RATE_LIMIT"] = "1 per minute"
    form = {"email": "nobody@example.com", "password": "not the password"}
    assert support.post_form(client, "/login", form).status_code == 422
    assert support.post_form(client, "/login", form).status_code == 429
    support.shared_app()
    app.config["LOGIN_ADDRESS_RATE_LIMIT"] = "1 per minute"
    assert support.post_form(client, "/login", form).status_code == 422


def test_tasks_run_in_the_context_of_the_app_that_sends_them(app, fresh_app):
    from celery import current_app as current_celery

    assert current_celery._get_current_object() is fresh_app.extensions["celery"]
    support.shared_app()
    assert current_celery._get_current_object() is app.extensions["celery"]


@pytest.mark.parametrize(
    ("database", "broker", "expected"),
    [
        (
            "postgresql://postgres@127.0.0.1:5432/campus_ci",
            "redis://127.0.0.1:6379/8",
            ("postgresql://postgres@127.0.0.1:5432/campus_ci_gw2", "redis://127.0.0.1:6379/10"),
        ),
        (
            "sqlite:////tmp/given.sqlite",
            "redis://127.0.0.1:6379",
            ("sqlite:////tmp/given.sqlite.gw2", "redis://127.0.0.1:6379/2"),
        ),
    ],
)
def test_each_xdist_worker_gets_its_own_database_and_broker(
    monkeypatch, database, broker, expected
):
    monkeypatch.setenv("DATABASE_URL", database)
    monkeypatch.setenv("CELERY_BROKER_URL", broker)
    support.isolate_xdist_worker("gw2", chosen=[])

    assert (os.environ["DATABASE_URL"], os.environ["CELERY_BROKER_URL"]) == expected


def test_an_xdist_worker_keeps_the_database_the_suite_chose_for_it(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "sqlite:////tmp/campus-tests-gw1-x/campus-test.sqlite")
    monkeypatch.setenv("CELERY_BROKER_URL", "sqla+sqlite:////tmp/campus-tests-gw1-x/broker.sqlite")
    support.isolate_xdist_worker("gw1", chosen=["DATABASE_URL", "CELERY_BROKER_URL"])

    assert os.environ["DATABASE_URL"].endswith("gw1-x/campus-test.sqlite")
    assert os.environ["CELERY_BROKER_URL"].endswith("gw1-x/broker.sqlite")


def test_a_redis_database_beyond_15_is_refused(monkeypatch):
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:6379/15")
    with pytest.raises(RuntimeError, match="database 16"):
        support.isolate_xdist_worker("gw1", chosen=["DATABASE_URL"])

"""Tasks through a real `celery worker` process (Redis in CI, the SQLite broker elsewhere)."""

import pytest

from tests.support import body_of, create_user, link_in, outbox, post_form, wait_for

pytestmark = pytest.mark.worker


def test_reset_email_is_delivered_by_the_real_worker(live_app):
    with live_app.app_context():
        create_user(email="worker@example.com")
    client = live_app.test_client()
    r = post_form(client, "/password/reset", {"email": "worker@example.com"})
    assert r.status_code == 200
    (message,) = wait_for(lambda: outbox(live_app), timeout=30, message="the reset email")
    assert message["To"] == "worker@example.com"
    assert "/password/reset/" in body_of(message)
    assert link_in(message).startswith("/password/reset/")


def test_emails_are_enqueued_only_after_commit(live_app):
    from campus.extensions import db
    from campus.mail.services import queue_email

    with live_app.app_context():
        queue_email("rolled@example.com", "Never sent", "verify_email", user=None, link="x")
        db.session.rollback()
        queue_email("kept@example.com", "Sent", "verify_email", user=None, link="x")
        db.session.commit()
    (message,) = wait_for(lambda: outbox(live_app), message="the committed email")
    assert message["To"] == "kept@example.com"

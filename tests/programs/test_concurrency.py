"""Admins issuing one failed credential again at once queue and log it once (PostgreSQL)."""

from __future__ import annotations

import threading

import pytest

from tests import support
from tests.admin import helpers as admin
from tests.programs.helpers import make_credential, make_program

pytestmark = pytest.mark.skipif(
    not support.is_postgres(),
    reason="needs PostgreSQL: SQLite serializes every writer, so it cannot show the race",
)


def test_issue_again_clicked_by_several_admins_at_once_is_queued_and_logged_once(app, monkeypatch):
    from campus import jobs
    from campus.programs.actions import ISSUE_TASK

    with app.app_context():
        program = make_program(slug="race-again")
        credential_id = make_credential(
            support.create_user().id, program, status="failed", attempts=7, last_error="disk full"
        ).id
    queued: list = []
    real_send = jobs.send_task

    def send(celery_app, name, args=(), kwargs=None):
        if name == ISSUE_TASK:
            queued.append(args)  # kept queued: no worker takes it while the race runs
            return
        real_send(celery_app, name, args, kwargs)

    monkeypatch.setattr(jobs, "send_task", send)

    clients = [app.test_client() for _ in range(4)]
    tokens = []
    for client in clients:
        admin.sign_in_admin(app, client)
        tokens.append(support.csrf_token(client))
    barrier = threading.Barrier(len(clients))
    statuses: list[int] = []

    def click(client, token) -> None:
        barrier.wait(timeout=10)
        path = f"/admin/credentials/{credential_id}/issue-again"
        statuses.append(client.post(path, data={"csrf_token": token}).status_code)

    threads = [
        threading.Thread(target=click, args=pair) for pair in zip(clients, tokens, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert statuses == [302] * 4  # all go back to the page, three told it is queued already
    assert len(queued) == 1
    assert len(admin.audit_entries(app, action="program_credential_issue_again")) == 1

"""Program tasks through a real `celery worker` process (Redis and PostgreSQL in CI)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests import support
from tests.admin import helpers
from tests.programs.test_requirement_changes import edit_form, pass_exam

pytestmark = pytest.mark.worker


def _counts(app, program_id: int) -> tuple[list[str], int, int]:
    """The program's credentials' statuses, their "issued" events, and credential emails."""
    from campus.extensions import db
    from campus.programs.models import Credential, CredentialEvent

    with app.app_context():
        statuses = list(
            db.session.scalars(select(Credential.status).where(Credential.program_id == program_id))
        )
        events = db.session.scalar(
            select(func.count(CredentialEvent.id))
            .join(Credential, Credential.id == CredentialEvent.credential_id)
            .where(Credential.program_id == program_id, CredentialEvent.kind == "issued")
        )
        db.session.remove()
    mails = [m for m in support.outbox(app) if "Your credential:" in m["Subject"]]
    return statuses, events, len(mails)


def test_an_admin_lowering_a_requirement_has_the_worker_issue_the_credential_once(
    live_app, worker, monkeypatch
):
    from celery import group

    from campus import jobs
    from campus.extensions import db
    from campus.programs.models import Program
    from tests.programs.helpers import candidate, ready_program

    with live_app.app_context(), monkeypatch.context() as patched:
        # The issuing the pass queues would find the practical missing: it is not sent, so no
        # run of it still queued can issue the credential after the save below.
        patched.setattr(jobs, "send_task", lambda *args, **kwargs: None)
        program, courses = ready_program(
            practical_required=True, practical_techniques="Pin", rubric="Safe"
        )
        user = candidate(courses)
        pass_exam(user, program)
        user_id, program_id = user.id, program.id
        form = edit_form(db.session.get(Program, program_id), practical_required=None)
        db.session.remove()

    client = live_app.test_client()
    helpers.sign_in_admin(live_app, client)
    response = helpers.post(client, f"/admin/programs/edit/?id={program_id}", form)
    assert response.status_code == 302, helpers.flashes(response)
    # The save alone: its check runs on the worker and queues the issuing there.
    support.wait_for(
        lambda: _counts(live_app, program_id) == (["issued"], 1, 1),
        timeout=60,
        message="the credential issued and mailed after the save",
    )

    # The check and the issuing again, several at once on the worker's threads: nothing more.
    celery_app = live_app.extensions["celery"]
    with live_app.app_context():
        duplicates = group(
            [celery_app.signature("campus.programs.check_program", args=(program_id,))] * 3
            + [celery_app.signature("campus.programs.issue_credential", args=(user_id, program_id))]
            * 4
        ).apply_async()
    task_ids = [result.id for result in duplicates.results]
    log = Path(worker.log_path)
    support.wait_for(
        lambda: all(f"[{task_id}] succeeded" in log.read_text() for task_id in task_ids),
        timeout=90,
        message="the duplicate checks and issuing runs to finish",
    )
    assert _counts(live_app, program_id) == (["issued"], 1, 1)

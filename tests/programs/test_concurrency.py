"""Clicks landing at once on one credential or practical change it and log it once (PostgreSQL)."""

from __future__ import annotations

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
    statuses: list[int] = []
    path = f"/admin/credentials/{credential_id}/issue-again"
    support.run_together(
        [
            lambda client=client, token=token: statuses.append(
                client.post(path, data={"csrf_token": token}).status_code
            )
            for client, token in zip(clients, tokens, strict=True)
        ]
    )
    assert statuses == [302] * 4  # all go back to the page, three told it is queued already
    assert len(queued) == 1
    assert len(admin.audit_entries(app, action="program_credential_issue_again")) == 1


def test_two_assessors_deciding_one_practical_at_once_record_one_verdict(app, monkeypatch):
    import io

    from sqlalchemy import select

    from campus.extensions import db
    from campus.programs import actions
    from campus.programs.models import PracticalSubmission
    from tests.programs.helpers import ready_program

    with app.app_context():
        program, _courses = ready_program(
            slug="race-practical", practical_required=True, rubric="Finds the point"
        )
        candidate_id = support.create_user().id
        slug = program.slug
    candidate = app.test_client()
    with app.app_context():
        support.sign_in_directly(candidate, candidate_id)
    video = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00" + b"\x00" * 2048
    support.post_form(
        candidate,
        f"/programs/{slug}/practical",
        {"video": (io.BytesIO(video), "me.mp4")},
        content_type="multipart/form-data",
    )
    with app.app_context():
        submission_id = db.session.scalar(select(PracticalSubmission.id))

    assessors = []
    for _ in range(2):
        client = app.test_client()
        with app.app_context():
            assessor_id = support.create_user(role="assessor").id
            support.enable_totp(assessor_id)
            support.sign_in_directly(client, assessor_id, second_factor=True)
        assessors.append((client, support.csrf_token(client, "/admin/assessments/")))

    # Both decisions are held just before they are logged: a review that read the practical
    # as waiting without the lock gets there too, and both would be recorded.
    support.hold_in_pairs(monkeypatch, actions, "record")
    decisions = [
        {"decision": "pass", "criterion-0": "met"},
        {"decision": "return", "comments": "Film closer to the muscle."},
    ]
    path = f"/admin/assessments/{submission_id}/"
    support.run_together(
        [
            lambda client=client, token=token, form=form: client.post(
                path, data={"csrf_token": token, **form}
            )
            for (client, token), form in zip(assessors, decisions, strict=True)
        ]
    )

    assert len(admin.audit_entries(app, action="program_practical_review")) == 1
    with app.app_context():
        status = db.session.get(PracticalSubmission, submission_id).status
    mail = support.outbox(app)
    assert len(mail) == 1
    assert status in mail[0]["Subject"]  # the candidate hears the verdict that was kept


def test_a_credential_renewed_by_two_runs_at_once_is_renewed_and_logged_once(app, monkeypatch):
    from datetime import timedelta

    from sqlalchemy import select

    from campus.extensions import db
    from campus.models.base import utcnow
    from campus.programs import actions, issuing
    from campus.programs.models import Credential, CredentialEvent
    from tests.programs.helpers import complete, make_course

    today = utcnow().date()
    with app.app_context():
        program = make_program(slug="race-renew", validity_months=24, renewal_hours=4)
        user_id = support.create_user().id
        credential = make_credential(
            user_id,
            program,
            valid_from=today - timedelta(days=30),
            valid_until=today + timedelta(days=700),
        )
        # The fields its documents print, as issuing froze them.
        credential.data = issuing._frozen_data(
            credential.user, program, credential.code, credential.earned_at, credential.valid_until
        )
        db.session.commit()
        credential_id = credential.id
        complete(user_id, make_course("race-renew-hours", hours="4"))

    # Each run is held just before it logs: a run that read the credential unlocked, while the
    # other had not renewed it yet, gets there too and both would renew it.
    support.hold_in_pairs(monkeypatch, actions, "record")
    renewed: list[bool] = []

    def run() -> None:
        with app.app_context():
            renewed.append(actions.renew_credential(credential_id, today))
            db.session.commit()

    support.run_together([run, run])

    assert sorted(renewed) == [False, True]
    assert len(admin.audit_entries(app, action="program_credential_renew")) == 1
    with app.app_context():
        kinds = db.session.scalars(
            select(CredentialEvent.kind).where(CredentialEvent.credential_id == credential_id)
        ).all()
        assert kinds == ["renewed"]
        assert db.session.get(Credential, credential_id).valid_until > today + timedelta(days=700)


def test_two_uploads_of_one_practical_at_once_leave_one_waiting_for_review(app):
    import io

    from sqlalchemy import func, select

    from campus.accounts.models import User
    from campus.extensions import db
    from campus.programs import actions, practicals
    from campus.programs.models import PracticalSubmission, Program
    from tests.learning.test_concurrency import _race
    from tests.programs.helpers import ready_program

    with app.app_context():
        program, _courses = ready_program(
            slug="race-upload", practical_required=True, rubric="Finds the point"
        )
        program_id = program.id
        candidate_id = support.create_user().id
    video = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00" + b"\x00" * 2048

    def upload() -> int:
        user = db.session.get_one(User, candidate_id)
        program = db.session.get_one(Program, program_id)
        return actions.submit_practical(user, program, io.BytesIO(video), "me.mp4").id

    results, errors = _race(app, 3, upload)
    assert len(results) == 1
    assert len(errors) == 2 and all(isinstance(e, practicals.PracticalError) for e in errors)
    assert len(admin.audit_entries(app, action="program_practical_submit")) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PracticalSubmission)) == 1

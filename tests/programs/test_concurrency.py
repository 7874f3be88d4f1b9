"""Clicks landing at once on one credential or practical change it and log it once."""

from __future__ import annotations

from tests import support
from tests.admin import helpers as admin
from tests.programs.helpers import make_credential, make_program


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


def test_an_autosave_landing_as_the_exam_is_submitted_leaves_the_answers_it_was_scored_on(
    app, monkeypatch
):
    import threading

    from sqlalchemy import select

    from campus.extensions import db
    from campus.programs import exam
    from campus.programs.models import ExamSitting
    from tests.programs.helpers import candidate, ready_program, right_answers

    with app.app_context():
        program, courses = ready_program(slug="race-submit")
        user_id, slug = candidate(courses).id, program.slug
    tabs = [app.test_client() for _ in range(2)]
    with app.app_context():
        for tab in tabs:
            support.sign_in_directly(tab, user_id)
    started = support.post_form(tabs[0], f"/programs/{slug}/exam", {})
    sitting_url = started.headers["Location"]
    with app.app_context():
        sitting = db.session.scalar(select(ExamSitting))
        key, sitting_id = right_answers(sitting), sitting.id
        wrong = {
            item["id"]: next(c["id"] for c in item["choices"] if not c["correct"])
            for item in sitting.layout
        }
    tokens = [support.csrf_token(tab, sitting_url) for tab in tabs]

    # The autosave of a last change has read the open sitting when the submission (of the
    # page as it was) closes it; the autosave's write then lands after the score.
    autosave_read, submitted = threading.Event(), threading.Event()
    real_save = exam.save_answers

    def save(sitting, answers, now=None):
        if len(answers) == 1:
            autosave_read.set()
            submitted.wait(timeout=5)
        else:
            autosave_read.wait(timeout=5)
        return real_save(sitting, answers, now)

    monkeypatch.setattr(exam, "save_answers", save)
    first = next(iter(key))

    def autosave() -> None:
        tabs[1].post(
            f"{sitting_url}/answers",
            data={"csrf_token": tokens[1], f"q-{first}": str(wrong[first])},
        )

    def submit() -> None:
        answers = {f"q-{q}": str(c) for q, c in key.items()}
        tabs[0].post(f"{sitting_url}/submit", data={"csrf_token": tokens[0], **answers})
        submitted.set()

    support.run_together([autosave, submit])
    with app.app_context():
        closed = db.session.get_one(ExamSitting, sitting_id)
        assert closed.closed_reason == "submitted" and closed.passed is True
        # What the sitting keeps is what it was scored on: an auditor scores it the same.
        right, total = exam.score(closed)
        assert closed.score_percent == 100 * right // total


def test_an_answer_saved_as_the_sweep_closes_the_sitting_is_counted_or_refused(app, monkeypatch):
    import threading
    from datetime import timedelta

    from campus.accounts.models import User
    from campus.extensions import db
    from campus.programs import actions, exam
    from campus.programs.models import ExamSitting
    from tests.programs.helpers import candidate, ready_program, right_answers

    with app.app_context():
        program, courses = ready_program(slug="race-expire")
        user = candidate(courses)
        sitting = actions.start_exam(user, program)
        key = right_answers(sitting)
        *early, last = key.items()
        actions.save_answers(user, sitting, dict(early))
        db.session.commit()
        user_id, sitting_id, deadline = user.id, sitting.id, sitting.deadline_at

    # The sweep has read the sitting when the last answer, sent a moment before the deadline,
    # is saved; it then scores what it read.
    swept_read, saved = threading.Event(), threading.Event()
    real_score = exam.score

    def score(sitting):
        swept_read.set()
        saved.wait(timeout=5)
        return real_score(sitting)

    monkeypatch.setattr(exam, "score", score)

    def sweep() -> None:
        with app.app_context():
            actions.close_expired_sitting(sitting_id)
            db.session.commit()

    def autosave() -> None:
        swept_read.wait(timeout=5)
        with app.app_context():
            try:
                sitting = db.session.get_one(ExamSitting, sitting_id)
                user = db.session.get_one(User, user_id)
                actions.save_answers(user, sitting, dict([last]), deadline - timedelta(seconds=1))
                db.session.commit()
            except exam.ExamError:  # found it closed: the answer was not taken
                db.session.rollback()
            finally:
                saved.set()

    support.run_together([sweep, autosave])
    with app.app_context():
        closed = db.session.get_one(ExamSitting, sitting_id)
        assert closed.closed_reason == "expired"
        # Whatever the sitting holds is what it was scored on.
        right, total = real_score(closed)
        assert closed.score_percent == 100 * right // total

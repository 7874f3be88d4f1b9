"""A credential whose issuing was lost, or gave up, is issued by the sweep, once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from campus.accounts.models import User
from campus.extensions import db
from campus.models.base import utcnow
from campus.programs import actions, issuing, recovery
from campus.programs.models import Credential, PracticalSubmission, Program, ProgramCourse
from campus.programs.tasks import sweep_credentials
from campus.storage import LocalStorage
from tests import support
from tests.programs.helpers import (
    candidate,
    complete,
    make_course,
    make_credential,
    ready_program,
    right_answers,
)


class _Broker:
    """Which task names the broker refuses when a process publishes them."""

    def __init__(self) -> None:
        self.refused: set[str] = set()


@pytest.fixture
def broker(monkeypatch):
    from kombu.exceptions import OperationalError

    from campus import jobs

    state = _Broker()
    real_send = jobs.send_task

    def send(celery_app, name, args=(), kwargs=None):
        if name in state.refused:
            raise OperationalError("Error 111 connecting to localhost:6379. Connection refused.")
        real_send(celery_app, name, args, kwargs)

    monkeypatch.setattr(jobs, "send_task", send)
    return state


class _FullDisk(LocalStorage):
    """Local storage that refuses every write while `full` is set."""

    full = True

    def save(self, key, data, content_type=None):
        if self.full:
            raise OSError(28, "No space left on device")
        super().save(key, data, content_type)


def _later(minutes: float):
    return time_machine.travel(utcnow() + timedelta(minutes=minutes), tick=False)


def _pass_exam(app, **fields):
    """A candidate who completed the courses and passed the exam; returns (user id, program id)."""
    with app.app_context():
        program, courses = ready_program(**fields)
        user = candidate(courses)
        sitting = actions.start_exam(user, program)
        actions.submit_exam(user, sitting, right_answers(sitting))
        db.session.commit()
        return user.id, program.id


def _credentials(app) -> list[Credential]:
    with app.app_context():
        return list(db.session.scalars(select(Credential)))


def _credential_mail(app) -> list:
    return [m for m in support.outbox(app) if "Your credential" in m["Subject"]]


def test_a_passed_exam_whose_issuing_was_never_sent_gets_its_credential_from_the_sweep(app, broker):
    broker.refused.add(actions.ISSUE_TASK)
    _pass_exam(app)  # the submit is stored; the broker refused the issuing task
    assert _credentials(app) == []
    broker.refused.clear()

    # Just passed: the task may still be queued, so the sweep leaves it a while.
    assert sweep_credentials.delay().get() == 0
    assert _credentials(app) == []
    with _later(15):
        assert sweep_credentials.delay().get() == 1
        assert sweep_credentials.delay().get() == 0
    [credential] = _credentials(app)
    assert credential.status == "issued" and credential.attempts == 1
    assert len(_credential_mail(app)) == 1


def test_a_course_finishing_the_program_whose_check_was_lost_gets_its_credential(app):
    with app.app_context():
        elective = make_course(f"elective-{id(app)}", hours="2")
        program, courses = ready_program(elective_hours=2)
        program.courses.append(ProgramCourse(course=elective, kind="elective", position=9))
        db.session.commit()
        user = candidate(courses)
        sitting = actions.start_exam(user, program)
        actions.submit_exam(user, sitting, right_answers(sitting))
        db.session.commit()  # passed, but the elective hours are missing: nothing is due
        user_id, elective_id = user.id, elective.id
    with _later(15):
        assert sweep_credentials.delay().get() == 0
    assert _credentials(app) == []
    with app.app_context():
        # The elective is completed later, and no check_enrollment runs (its message was lost).
        from campus.learning.models import Course

        complete(user_id, db.session.get(Course, elective_id))
    assert _credentials(app) == []
    with _later(15):
        assert sweep_credentials.delay().get() == 1
        assert sweep_credentials.delay().get() == 0
    assert [c.status for c in _credentials(app)] == ["issued"]
    assert len(_credential_mail(app)) == 1


def test_a_credential_left_pending_by_a_killed_worker_is_issued_by_the_sweep(app, broker):
    broker.refused.add(actions.ISSUE_TASK)
    user_id, program_id = _pass_exam(app)
    with app.app_context():
        # The worker made the pending row and died before writing the documents.
        issuing.ensure_pending(user_id, program_id)
        db.session.commit()
    broker.refused.clear()
    assert [c.status for c in _credentials(app)] == ["pending"]
    with _later(15):
        assert sweep_credentials.delay().get() == 1
        assert sweep_credentials.delay().get() == 0
    [credential] = _credentials(app)
    assert credential.status == "issued"
    with app.app_context():
        assert [e.kind for e in db.session.get(Credential, credential.id).events] == ["issued"]
    assert len(_credential_mail(app)) == 1


def test_a_credential_that_gave_up_after_its_retries_is_issued_by_the_sweep(app):
    disk = _FullDisk(app.config["INSTANCE_PATH"])
    app.extensions["storage"] = disk
    _pass_exam(app)
    [credential] = _credentials(app)
    # The first try and its six retries, each counted.
    assert credential.status == "failed" and credential.attempts == 7
    assert "No space left on device" in credential.last_error
    assert _credential_mail(app) == []

    disk.full = False
    with _later(15):
        assert sweep_credentials.delay().get() == 1
        assert sweep_credentials.delay().get() == 0
    [credential] = _credentials(app)
    assert credential.status == "issued" and credential.last_error is None
    assert len(_credential_mail(app)) == 1


def test_the_sweep_stops_retrying_a_credential_after_its_last_attempt(app):
    disk = _FullDisk(app.config["INSTANCE_PATH"])
    app.extensions["storage"] = disk
    _pass_exam(app)
    most = app.config["CREDENTIAL_SWEEP_MAX_ATTEMPTS"]
    minutes = 15
    while _credentials(app)[0].attempts < most:
        with _later(minutes):
            assert sweep_credentials.delay().get() == 1
        minutes += 15
    [credential] = _credentials(app)
    assert credential.status == "failed" and credential.attempts >= most
    disk.full = False
    with _later(minutes):
        assert sweep_credentials.delay().get() == 0
    assert _credentials(app)[0].status == "failed"

    # Its cause fixed, an admin issues it again from the credential's page.
    from tests.admin import helpers as admin

    client = app.test_client()
    admin.sign_in_admin(app, client)
    details = client.get(f"/admin/credentials/details/?id={credential.id}").text
    assert "Issuing failed" in details and "Issue again" in details
    assert '<span class="badge badge-danger">failed</span>' in details  # not "pending"
    admin.post(client, f"/admin/credentials/{credential.id}/issue-again", {})
    [credential] = _credentials(app)
    assert credential.status == "issued" and len(_credential_mail(app)) == 1
    [entry] = admin.audit_entries(app, action="program_credential_issue_again")
    assert "No space left on device" in entry.summary
    # Only a failed one: an issued credential is not issued again.
    again = admin.post(
        client, f"/admin/credentials/{credential.id}/issue-again", {}, follow_redirects=True
    )
    assert any("Nothing changed" in m for m in admin.flashes(again))


def test_the_sweep_issues_nothing_to_a_member_short_of_a_requirement(app):
    user_id, program_id = _pass_exam(app, practical_required=True, rubric="Safe")
    with app.app_context():
        # A practical waiting for review is not a pass.
        db.session.add(
            PracticalSubmission(
                program_id=program_id,
                user_id=user_id,
                storage_key="programs/practicals/x.mp4",
                filename="x.mp4",
                content_type="video/mp4",
                size_bytes=10,
            )
        )
        db.session.commit()
    with _later(15):
        assert sweep_credentials.delay().get() == 0
    assert _credentials(app) == []


def test_the_sweep_leaves_issued_revoked_and_long_past_steps_alone(app):
    with app.app_context():
        program, _courses = ready_program()
        for status in ("issued", "revoked"):
            make_credential(support.create_user().id, program, status=status)
    with _later(15):
        assert sweep_credentials.delay().get() == 0
    user_id, _program_id = _pass_exam(app)
    with app.app_context():
        for credential in db.session.scalars(
            select(Credential).where(Credential.user_id == user_id)
        ):
            db.session.delete(credential)  # as if issuing had never happened
        db.session.commit()
    # Steps older than the lookback are no longer looked at; within it, they are.
    lookback = app.config["CREDENTIAL_SWEEP_LOOKBACK"] / 60
    with _later(lookback + 15):
        assert sweep_credentials.delay().get() == 0
    assert user_id not in {c.user_id for c in _credentials(app)}
    with _later(15):
        assert sweep_credentials.delay().get() == 1
    assert user_id in {c.user_id for c in _credentials(app)}


def test_the_credential_sweep_is_on_the_beat_schedule():
    from workers.schedule import beat_schedule

    entry = beat_schedule()["programs-sweep-credentials"]
    assert entry["task"] == "campus.programs.sweep_credentials"
    assert entry["schedule"] <= 600


def test_a_lapsed_credential_earned_anew_whose_issuing_was_lost_is_issued_by_the_sweep(app, broker):
    start = datetime(2026, 3, 5, 10, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        user_id, program_id = _pass_exam(app)
    [first] = _credentials(app)
    assert first.status == "issued" and first.valid_until < date(2028, 3, 6)
    broker.refused.add(actions.ISSUE_TASK)
    lapsed = datetime(2028, 3, 6, 10, 0, tzinfo=UTC)
    with time_machine.travel(lapsed, tick=False), app.app_context():
        user, program = db.session.get(User, user_id), db.session.get(Program, program_id)
        sitting = actions.start_exam(user, program)
        actions.submit_exam(user, sitting, right_answers(sitting))
        db.session.commit()  # passed again; the broker refused the issuing task
    broker.refused.clear()
    assert len(_credentials(app)) == 1
    with time_machine.travel(lapsed + timedelta(minutes=15), tick=False):
        assert sweep_credentials.delay().get() == 1
        assert sweep_credentials.delay().get() == 0
    _first, second = sorted(_credentials(app), key=lambda c: c.period)
    assert (second.period, second.status) == (2, "issued")
    assert second.valid_from == date(2028, 3, 6)


def test_members_short_of_a_requirement_do_not_hide_one_who_is_due(app, broker):
    broker.refused.add(actions.ISSUE_TASK)
    due_user, due_program = _pass_exam(app)  # due, but its issuing was never sent
    for _ in range(3):
        _pass_exam(app, elective_hours=2)  # passed later, short of elective hours: not due
    broker.refused.clear()
    with app.app_context():
        found = recovery.due_without_credential(utcnow() + timedelta(minutes=15), limit=2)
    assert found == [(due_user, due_program)]


def test_issuing_again_twice_queues_and_logs_it_once(app, broker):
    disk = _FullDisk(app.config["INSTANCE_PATH"])
    app.extensions["storage"] = disk
    _pass_exam(app)
    [credential] = _credentials(app)
    assert credential.status == "failed"
    disk.full = False
    broker.refused.add(actions.ISSUE_TASK)  # queued, not yet taken by a worker

    from tests.admin import helpers as admin

    client = app.test_client()
    admin.sign_in_admin(app, client)
    path = f"/admin/credentials/{credential.id}/issue-again"
    admin.post(client, path, {})
    again = admin.post(client, path, {}, follow_redirects=True)  # a second click
    assert any("queued for issuing already" in m for m in admin.flashes(again))
    assert len(admin.audit_entries(app, action="program_credential_issue_again")) == 1
    # Until a worker takes it, its page says it is queued and offers no second click.
    details = client.get(f"/admin/credentials/details/?id={credential.id}").text
    assert '<span class="badge badge-muted">queued</span>' in details
    assert "Queued for issuing again" in details and "Issue again</button>" not in details


def test_a_credential_issued_late_by_the_sweep_is_dated_the_day_it_was_earned(app, broker):
    from campus import dates
    from campus.programs.models import ExamSitting

    broker.refused.add(actions.ISSUE_TASK)
    user_id, program_id = _pass_exam(app)  # the issuing task was lost with the broker
    broker.refused.clear()
    with app.app_context():
        passed_at = db.session.scalar(
            select(ExamSitting.closed_at).where(ExamSitting.user_id == user_id)
        )
        validity = db.session.get_one(Program, program_id).validity_months
        earned_on = dates.local_date(passed_at)  # on the app's calendar
    with _later(3 * 24 * 60):  # the worker was away for three days
        assert sweep_credentials.delay().get() == 1
    [credential] = _credentials(app)
    # The candidate earned it when they passed, not when a worker got to it: the date it
    # prints and the period it is valid for run from that day.
    assert credential.earned_at.replace(tzinfo=UTC) == passed_at.replace(tzinfo=UTC)
    assert credential.valid_from == earned_on
    assert credential.valid_until == issuing.period_end(earned_on, validity)
    assert credential.data["earned_date_text"] == (
        f"{earned_on:%B} {earned_on.day}, {earned_on.year}"
    )
    assert credential.status == "issued"


def _practical_passed_after_the_license_ran_out(app) -> tuple[int, int]:
    """A candidate whose license ran out while their video waited, then passed: (user, license)."""
    from tests.licenses.helpers import add_license

    with app.app_context():
        program, courses = ready_program(
            license_required=True,
            practical_required=True,
            rubric="Safe",
            practical_techniques="Pin",
        )
        user = candidate(courses)
        license = add_license(user.id, expires_on=utcnow().date() + timedelta(days=5))
        sitting = actions.start_exam(user, program)
        actions.submit_exam(user, sitting, right_answers(sitting))
        submission = PracticalSubmission(
            program_id=program.id,
            user_id=user.id,
            storage_key="programs/practicals/x.mp4",
            filename="x.mp4",
            content_type="video/mp4",
            size_bytes=10,
        )
        db.session.add(submission)
        db.session.commit()
        # The license on file runs out while the video waits in the assessors' queue.
        license.expires_on = utcnow().date() - timedelta(days=1)
        assessor = support.create_user(role="assessor")
        actions.review_practical(submission, assessor, {"Safe": True}, "pass", "")
        db.session.commit()
        return user.id, license.id


def test_a_member_whose_license_was_updated_after_the_lookback_gets_the_credential(app):
    from campus.licenses.models import License

    user_id, license_id = _practical_passed_after_the_license_ran_out(app)
    assert _credentials(app) == []  # not eligible on the day its last step was met
    days = app.config["CREDENTIAL_SWEEP_LOOKBACK"] // 86400
    with _later(60 * 24 * (days + 10)), app.app_context():
        # The member enters the renewed license's new expiry: every requirement is met again.
        renewed = db.session.get(License, license_id)
        renewed.expires_on = utcnow().date() + timedelta(days=700)
        db.session.commit()
    with _later(60 * 24 * (days + 10) + 15):
        assert sweep_credentials.delay().get() == 1
    assert [c.user_id for c in _credentials(app)] == [user_id]


def test_a_credential_issued_late_is_valid_in_its_badge_from_when_it_was_earned(
    app, client, broker
):
    import jwt

    from campus.programs.documents import _iso

    broker.refused.add(actions.ISSUE_TASK)
    _pass_exam(app)  # the issuing task was lost with the broker
    broker.refused.clear()
    with _later(3 * 24 * 60):  # the worker was away for three days
        assert sweep_credentials.delay().get() == 1
    [credential] = _credentials(app)
    earned = credential.earned_at.replace(tzinfo=UTC)
    with _later(3 * 24 * 60 + 5):
        body = client.get(f"/programs/verify/{credential.code}.json").json
    # The page says it was earned three days before it was issued, and its period runs from
    # then: the badge a verifier checks must not say it was not yet valid on those days.
    assert body["credential"]["validFrom"] == _iso(earned)
    claims = jwt.decode(body["jwt"], options={"verify_signature": False})
    assert claims["nbf"] == int(earned.timestamp())


def test_a_credential_waiting_on_a_renewed_license_is_earned_when_the_license_is_current(app):
    from campus import dates
    from campus.licenses.models import License

    _user_id, license_id = _practical_passed_after_the_license_ran_out(app)
    assert _credentials(app) == []
    with _later(60 * 24 * 20), app.app_context():
        renewed = db.session.get(License, license_id)
        renewed.expires_on = utcnow().date() + timedelta(days=700)
        db.session.commit()
        renewed_at = utcnow()
    with _later(60 * 24 * 20 + 15):
        assert sweep_credentials.delay().get() == 1
    [credential] = _credentials(app)
    # The program asks for an active license: on the days between the review and the renewal
    # the holder had none, so the credential was not earned then, and its period runs from the
    # renewal, not from twenty days before it.
    assert credential.earned_at.replace(tzinfo=UTC) >= renewed_at
    with app.app_context():
        assert credential.valid_from == dates.local_date(renewed_at)


def test_a_program_edit_whose_check_was_lost_is_made_up_for_by_the_sweep(app, client, broker):
    from tests.admin import helpers as admin
    from tests.programs.test_requirement_changes import edit_form

    with app.app_context():
        program, courses = ready_program(
            practical_required=True, practical_techniques="Pin", rubric="Safe"
        )
        user = candidate(courses)
        sitting = actions.start_exam(user, program)
        actions.submit_exam(user, sitting, right_answers(sitting))
        db.session.commit()
        form = edit_form(program, practical_required=None)
        program_id = program.id
    days = app.config["CREDENTIAL_SWEEP_LOOKBACK"] // 86400
    # The exam was passed long before the practical was dropped: past the sweep's lookback.
    with _later(60 * 24 * (days + 10)):
        broker.refused.add(actions.CHECK_TASK)
        admin.sign_in_admin(app, client)
        response = admin.post(client, f"/admin/programs/edit/?id={program_id}", form)
        assert response.status_code == 302, admin.flashes(response)
        assert _credentials(app) == []  # the check queued after the save never reached a worker
        broker.refused.clear()
    with _later(60 * 24 * (days + 10) + 15):
        assert sweep_credentials.delay().get() == 1
    [credential] = _credentials(app)
    assert credential.status == "issued" and credential.program_id == program_id
    assert len(_credential_mail(app)) == 1


class _WorkerKilled(BaseException):
    """What a task sees of its worker dying mid-run: nothing after it runs, nothing commits."""


def test_a_credential_whose_every_try_killed_its_worker_is_left_failed(app, broker, monkeypatch):
    from campus.programs.tasks import issue_credential

    broker.refused.add(actions.ISSUE_TASK)
    user_id, program_id = _pass_exam(app)  # its issuing is left to the tries below
    broker.refused.clear()

    def crash(_credential):
        raise _WorkerKilled

    monkeypatch.setattr(issuing.documents, "render_pdf", crash)
    monkeypatch.setitem(app.config, "CREDENTIAL_SWEEP_MAX_ATTEMPTS", 3)
    with app.app_context():
        for _ in range(3):
            try:
                issue_credential.run(user_id, program_id)
            except _WorkerKilled:
                db.session.rollback()  # the dead worker's transaction ends with it
    [credential] = _credentials(app)
    assert (credential.status, credential.attempts) == ("pending", 3)  # each try counted
    with _later(15):
        assert sweep_credentials.delay().get() == 0  # out of tries: not sent again
    [credential] = _credentials(app)
    assert credential.status == "failed" and "cut off" in credential.last_error


def test_editing_a_current_license_after_the_last_step_does_not_move_the_earned_date(app, broker):
    from campus.licenses import actions as license_actions
    from campus.programs.models import ExamSitting
    from tests.licenses.helpers import add_license

    broker.refused.add(actions.ISSUE_TASK)  # the issuing task is lost with the broker
    with app.app_context():
        program, courses = ready_program(license_required=True)
        user = candidate(courses)
        license = add_license(user.id, expires_on=utcnow().date() + timedelta(days=400))
        user_id, license_id, program_id = user.id, license.id, program.id
    with _later(5), app.app_context():
        user = db.session.get_one(User, user_id)
        sitting = actions.start_exam(user, db.session.get_one(Program, program_id))
        actions.submit_exam(user, sitting, right_answers(sitting))
        db.session.commit()
        passed_at = db.session.scalar(
            select(ExamSitting.closed_at).where(ExamSitting.user_id == user_id)
        )
    broker.refused.clear()
    with _later(60 * 24), app.app_context():
        # A day later the member switches reminders off and corrects a typo in the number:
        # the license was current all along, so neither says anything about when it was.
        user = db.session.get_one(User, user_id)
        license_actions.set_reminders(user, license_id, False)
        license_actions.update_license(
            user,
            license_id,
            profession="massage_therapist",
            jurisdiction="FL",
            number="MA12346",
            expires_on=utcnow().date() + timedelta(days=399),
        )
        db.session.commit()
    with _later(3 * 24 * 60):
        assert sweep_credentials.delay().get() == 1
    [credential] = _credentials(app)
    assert credential.earned_at.replace(tzinfo=UTC) == passed_at.replace(tzinfo=UTC)

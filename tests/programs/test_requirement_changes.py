"""A program's requirements lowered by an admin: who now meets them all gets the credential."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from campus.extensions import db
from campus.models.base import utcnow
from campus.programs import actions, issuing, tasks
from campus.programs.models import (
    Credential,
    CredentialEvent,
    PracticalSubmission,
    Program,
    ProgramCourse,
)
from tests import support
from tests.admin import helpers
from tests.programs.helpers import (
    candidate,
    complete,
    make_course,
    make_credential,
    ready_program,
    right_answers,
)


def edit_form(program: Program, **changes) -> dict:
    """The program's admin form as it stands, with `changes` (None unticks or leaves out)."""
    form: dict = {
        "title": program.title,
        "slug": program.slug,
        "description": program.description,
        "accrediting_body": program.accrediting_body or "",
        "profession_keys": list(program.professions or []),
        "elective_hours": str(program.elective_hours or 0),
        "validity_months": str(program.validity_months),
        "renewal_hours": str(program.renewal_hours or 0),
        "weights_text": "\n".join(f"{d}: {w}" for d, w in program.exam_domain_weights.items()),
        "exam_question_count": str(program.exam_question_count),
        "exam_time_limit_minutes": str(program.exam_time_limit_minutes),
        "exam_pass_mark": str(program.exam_pass_mark),
        "exam_attempts_allowed": str(program.exam_attempts_allowed),
        "exam_retake_wait_days": str(program.exam_retake_wait_days),
        "practical_techniques": program.practical_techniques or "",
        "rubric": program.rubric or "",
    }
    for flag in ("license_required", "practical_required", "published"):
        if getattr(program, flag):
            form[flag] = "y"
    for n, link in enumerate(program.courses):
        form[f"courses-{n}-id"] = str(link.id)
        form[f"courses-{n}-course"] = str(link.course_id)
        form[f"courses-{n}-kind"] = link.kind
        form[f"courses-{n}-position"] = str(link.position)
    for key, value in changes.items():
        if value is None:
            form.pop(key, None)
        else:
            form[key] = value
    return form


def pass_exam(user, program) -> None:
    """The candidate sits and passes the program's exam (its issuing task runs and finds them
    short of a requirement)."""
    sitting = actions.start_exam(user, program)
    actions.submit_exam(user, sitting, right_answers(sitting))
    db.session.commit()


def _short_of_the_practical() -> tuple[int, dict]:
    program, courses = ready_program(
        practical_required=True, practical_techniques="Pin", rubric="Safe"
    )
    pass_exam(candidate(courses), program)
    return program.id, {"practical_required": None}


def _short_of_elective_hours() -> tuple[int, dict]:
    electives = [make_course(f"lowered-elective-{n}", hours="2") for n in range(2)]
    program, courses = ready_program(elective_hours=4)
    for position, course in enumerate(electives, start=len(program.courses)):
        program.courses.append(ProgramCourse(course=course, kind="elective", position=position))
    db.session.commit()
    user = candidate(courses + electives[:1])
    pass_exam(user, program)
    return program.id, {"elective_hours": "2"}


def _short_of_a_course_added_after_the_exam() -> tuple[int, dict]:
    program, courses = ready_program()
    user = candidate(courses)
    sitting = actions.start_exam(user, program)
    # A third required course, added while the candidate sat the exam: taken out again below.
    later = make_course("added-during-the-exam")
    program.courses.append(ProgramCourse(course=later, kind="required", position=9))
    db.session.commit()
    actions.submit_exam(user, sitting, right_answers(sitting))
    db.session.commit()
    return program.id, {"del-courses-2": "y"}


def _short_of_a_current_license() -> tuple[int, dict]:
    from tests.licenses.helpers import add_license

    program, courses = ready_program(license_required=True)
    user = candidate(courses)
    license = add_license(user.id, expires_on=utcnow().date() + timedelta(days=300))
    sitting = actions.start_exam(user, program)
    # The license on file runs out while the sitting is open: the pass finds it lapsed.
    license.expires_on = utcnow().date() - timedelta(days=1)
    db.session.commit()
    actions.submit_exam(user, sitting, right_answers(sitting))
    db.session.commit()
    return program.id, {"license_required": None}


def _short_of_an_allowed_profession() -> tuple[int, dict]:
    program, courses = ready_program(professions=["massage_therapist"])
    user = candidate(courses)
    sitting = actions.start_exam(user, program)
    program.professions = ["chiropractor"]  # narrowed during the sitting, and opened again below
    db.session.commit()
    actions.submit_exam(user, sitting, right_answers(sitting))
    db.session.commit()
    return program.id, {"profession_keys": ["chiropractor", "massage_therapist"]}


LOWERED = {
    "practical no longer required": _short_of_the_practical,
    "fewer elective hours": _short_of_elective_hours,
    "a required course taken out": _short_of_a_course_added_after_the_exam,
    "no license required": _short_of_a_current_license,
    "the member's profession admitted": _short_of_an_allowed_profession,
}


def _issued(app, program_id: int) -> list[Credential]:
    with app.app_context():
        return list(
            db.session.scalars(select(Credential).where(Credential.program_id == program_id))
        )


def _credential_mail(app) -> list:
    return [m for m in support.outbox(app) if "Your credential:" in m["Subject"]]


@pytest.mark.parametrize("setup", list(LOWERED.values()), ids=list(LOWERED))
def test_a_candidate_who_meets_lowered_requirements_gets_the_credential_after_the_save(
    app, client, setup
):
    with app.app_context():
        program_id, changes = setup()
        form = edit_form(db.session.get(Program, program_id), **changes)
    assert _issued(app, program_id) == []  # short of one requirement when the exam was passed

    helpers.sign_in_admin(app, client)
    response = helpers.post(client, f"/admin/programs/edit/?id={program_id}", form)
    assert response.status_code == 302, helpers.flashes(response)

    [credential] = _issued(app, program_id)
    assert credential.status == "issued"
    assert len(_credential_mail(app)) == 1
    [entry] = helpers.audit_entries(app, action="update", object_type="Program")
    assert entry.object_id == str(program_id)


def test_a_program_edit_that_leaves_a_candidate_short_issues_nothing(app, client):
    with app.app_context():
        program_id, _changes = _short_of_the_practical()
        form = edit_form(db.session.get(Program, program_id), title="Renamed program")
    helpers.sign_in_admin(app, client)
    response = helpers.post(client, f"/admin/programs/edit/?id={program_id}", form)
    assert response.status_code == 302, helpers.flashes(response)
    assert _issued(app, program_id) == []
    with app.app_context():
        assert db.session.get(Program, program_id).title == "Renamed program"


def test_a_holder_who_earned_lowered_renewal_hours_is_renewed_after_the_save(app, client):
    today = utcnow().date()
    with app.app_context():
        program, _courses = ready_program(renewal_hours=12)
        user = support.create_user()
        credential = make_credential(
            user.id,
            program,
            valid_from=today - timedelta(days=60),
            valid_until=today + timedelta(days=300),
        )
        # The fields its documents print, as issuing froze them.
        credential.data = issuing._frozen_data(
            user, program, credential.code, credential.earned_at, credential.valid_until
        )
        db.session.commit()
        credential_id, was_until = credential.id, credential.valid_until
        complete(user.id, make_course("renewal-hours", hours="6"))
        form = edit_form(program, renewal_hours="6")
        program_id = program.id

    helpers.sign_in_admin(app, client)
    response = helpers.post(client, f"/admin/programs/edit/?id={program_id}", form)
    assert response.status_code == 302, helpers.flashes(response)

    with app.app_context():
        renewed = db.session.get(Credential, credential_id)
        assert renewed.valid_until > was_until
        kinds = db.session.scalars(
            select(CredentialEvent.kind).where(CredentialEvent.credential_id == credential_id)
        ).all()
        assert kinds == ["renewed"]
    assert len([m for m in support.outbox(app) if "renewed" in m["Subject"]]) == 1


def test_an_import_lowering_the_requirements_issues_to_who_now_meets_them(app):
    from campus.programs.importer import import_program

    with app.app_context():
        program_id, _changes = _short_of_the_practical()
        program = db.session.get(Program, program_id)
        import_program({"slug": program.slug, "title": program.title, "practical": None})
        db.session.commit()
    [credential] = _issued(app, program_id)
    assert credential.status == "issued"
    assert len(_credential_mail(app)) == 1


def test_the_program_check_run_twice_at_once_issues_one_credential_and_one_email(app, monkeypatch):
    from campus import jobs
    from campus.programs.tasks import issue_credential

    with app.app_context():
        program_id, _changes = _short_of_the_practical()
        program = db.session.get(Program, program_id)
        program.practical_required = False  # lowered without the admin: the checks run here
        db.session.commit()
    queued: list = []
    real_send = jobs.send_task

    def send(celery_app, name, args=(), kwargs=None):
        if name == actions.ISSUE_TASK:
            queued.append(args)  # run below, at once, as two workers would
            return
        real_send(celery_app, name, args, kwargs)

    monkeypatch.setattr(jobs, "send_task", send)

    def check() -> None:
        with app.app_context():
            tasks.check_program.run(program_id)

    support.run_together([check, check])
    assert len(queued) == 2  # each check finds the candidate due and queues the issuing

    outcomes: list = []

    def issue(args) -> None:
        with app.app_context():
            outcomes.append(issue_credential.run(*args))

    support.run_together([lambda args=args: issue(args) for args in queued])
    assert outcomes.count("issued") == 1, outcomes
    [credential] = _issued(app, program_id)
    assert credential.status == "issued"
    with app.app_context():
        events = db.session.scalar(
            select(func.count(CredentialEvent.id)).where(
                CredentialEvent.credential_id == credential.id, CredentialEvent.kind == "issued"
            )
        )
        assert events == 1
    assert len(_credential_mail(app)) == 1


def test_the_program_check_leaves_a_revoked_holder_and_a_waiting_practical_alone(app):
    with app.app_context():
        program, courses = ready_program(
            practical_required=True, practical_techniques="Pin", rubric="Safe"
        )
        revoked = candidate(courses)
        pass_exam(revoked, program)
        make_credential(revoked.id, program, status="revoked")
        waiting = candidate(courses)
        pass_exam(waiting, program)
        db.session.add(
            PracticalSubmission(
                program_id=program.id,
                user_id=waiting.id,
                storage_key="programs/practicals/w.mp4",
                filename="w.mp4",
                content_type="video/mp4",
                size_bytes=10,
            )
        )
        db.session.commit()
        program_id = program.id
        tasks.check_program.delay(program_id).get()
    assert [c.status for c in _issued(app, program_id)] == ["revoked"]


def test_a_credential_earned_by_a_dropped_requirement_runs_from_the_change(app, client):
    import time_machine

    from campus import dates

    with time_machine.travel(utcnow() - timedelta(days=540), tick=False), app.app_context():
        program_id, changes = _short_of_the_practical()  # passed the exam 18 months ago
    with app.app_context():
        program = db.session.get(Program, program_id)
        form = edit_form(program, **changes)
        validity = program.validity_months
    helpers.sign_in_admin(app, client)
    response = helpers.post(client, f"/admin/programs/edit/?id={program_id}", form)
    assert response.status_code == 302, helpers.flashes(response)

    [credential] = _issued(app, program_id)
    # Every requirement was met only when the practical was dropped: a credential dated from
    # the exam would print a day the program still asked for a practical, and run out in six
    # months of its twenty-four.
    today = dates.today()
    assert credential.valid_from == today
    assert credential.valid_until == issuing.period_end(today, validity)


@pytest.mark.parametrize("edit", ["title", "raised"])
def test_an_edit_lowering_no_requirement_leaves_a_late_credential_dated_when_earned(
    app, client, monkeypatch, edit
):
    import time_machine

    from campus import dates, jobs
    from campus.accounts.models import User
    from campus.programs.models import ExamSitting

    real_send = jobs.send_task

    def send(celery_app, name, args=(), kwargs=None):
        if name != actions.ISSUE_TASK:  # the issuing the pass queued is lost
            real_send(celery_app, name, args, kwargs)

    with time_machine.travel(utcnow() - timedelta(days=3), tick=False), app.app_context():
        monkeypatch.setattr(jobs, "send_task", send)
        program, courses = ready_program()
        user = candidate(courses)
        pass_exam(user, program)
        monkeypatch.setattr(jobs, "send_task", real_send)
        program_id, profession = program.id, db.session.get(User, user.id).profession
        passed_on = dates.local_date(
            db.session.scalar(select(ExamSitting.closed_at).where(ExamSitting.user_id == user.id))
        )
    with app.app_context():
        program = db.session.get(Program, program_id)
        assert len(program.professions) > 1
        # A new title changes no requirement; open to one profession now, the candidate's, the
        # program asks more, which completes no one.
        changes = (
            {"title": "A better title"} if edit == "title" else {"profession_keys": [profession]}
        )
        form = edit_form(program, **changes)
    helpers.sign_in_admin(app, client)
    response = helpers.post(client, f"/admin/programs/edit/?id={program_id}", form)
    assert response.status_code == 302, helpers.flashes(response)

    [credential] = _issued(app, program_id)  # the check after the save issues it
    assert credential.valid_from == passed_on


def test_a_lapsed_holder_is_issued_again_after_the_change_only_on_a_pass_since_the_lapse(app):
    import time_machine

    long_ago = utcnow() - timedelta(days=1000)
    holders = []
    with app.app_context():
        program, courses = ready_program(
            practical_required=True, practical_techniques="Pin", rubric="Safe"
        )
        program_id = program.id
        for _ in range(2):
            with time_machine.travel(long_ago, tick=False):
                user = candidate(courses)
                pass_exam(user, db.session.get(Program, program_id))
            # Earned on that pass with a practical passed then; it ran out a year ago.
            make_credential(
                user.id,
                db.session.get(Program, program_id),
                earned_at=long_ago + timedelta(hours=1),
                valid_from=(long_ago + timedelta(hours=1)).date(),
                valid_until=utcnow().date() - timedelta(days=365),
            )
            holders.append(user.id)
        # The second sat the exam again since the lapse; neither sent a new video.
        again = db.session.get(type(user), holders[1])
        pass_exam(again, db.session.get(Program, program_id))
        program = db.session.get(Program, program_id)
        program.practical_required = False
        db.session.commit()
        tasks.check_program.delay(program_id).get()
        issued = db.session.scalars(
            select(Credential.user_id).where(
                Credential.program_id == program_id, Credential.period == 2
            )
        ).all()
    assert issued == [holders[1]]


def test_a_course_taken_out_is_gone_from_the_logged_program_and_dates_the_credential(app, client):
    from campus import dates

    with app.app_context():
        program_id, changes = _short_of_a_course_added_after_the_exam()
        program = db.session.get(Program, program_id)
        form = edit_form(program, **changes)
        kept = sorted(link.course_id for link in program.courses if link.position != 9)
    helpers.sign_in_admin(app, client)
    response = helpers.post(client, f"/admin/programs/edit/?id={program_id}", form)
    assert response.status_code == 302, helpers.flashes(response)

    [entry] = helpers.audit_entries(app, action="update", object_type="Program")
    # The log shows the program as saved: the course taken out is no longer in it.
    assert sorted(row["course_id"] for row in entry.after["courses"]) == kept
    assert len(entry.before["courses"]) == 3
    [credential] = _issued(app, program_id)
    with app.app_context():
        changed = db.session.get(Program, program_id).requirements_changed_at
    assert changed is not None
    assert credential.earned_at.replace(tzinfo=changed.tzinfo) == changed
    assert credential.valid_from == dates.today()

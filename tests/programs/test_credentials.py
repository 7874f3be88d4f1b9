"""Credentials: issued once when every requirement is met, expiring, renewed, revoked."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from campus.audit import AuditEntry
from campus.extensions import db
from campus.programs import actions, exam, issuing
from campus.programs.models import Credential, PracticalSubmission, Program
from campus.programs.public import badges_for
from campus.programs.tasks import issue_credential, renew_credentials
from campus.storage import get_storage
from tests import support
from tests.programs.helpers import candidate, complete, make_course, ready_program, right_answers

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _certified(app, **fields):
    """A candidate who passed the exam of a two-year program; returns (user id, program id)."""
    with app.app_context():
        program, courses = ready_program(validity_months=24, renewal_hours=4, **fields)
        user = candidate(courses, when=START - timedelta(days=10))
        with time_machine.travel(START, tick=False):
            sitting = actions.start_exam(user, program)
            actions.submit_exam(user, sitting, right_answers(sitting))
            db.session.commit()
        return user.id, program.id


def _credentials() -> list[Credential]:
    return list(db.session.scalars(select(Credential)))


def test_passing_the_last_requirement_issues_the_credential_once(app):
    with time_machine.travel(START, tick=False):
        user_id, program_id = _certified(app)
    with app.app_context():
        [credential] = _credentials()
        assert credential.status == "issued"
        assert credential.valid_from == date(2026, 3, 1)
        assert credential.valid_until == date(2028, 2, 29)
        storage = get_storage()
        assert storage.read(credential.storage_key).startswith(b"%PDF")
        assert storage.exists(credential.badge_key)
        # The task again, any number of times: nothing new.
        assert issue_credential.delay(user_id, program_id).get() is None
        assert len(_credentials()) == 1
        assert [e.kind for e in credential.events] == ["issued"]
    mail = support.outbox(app)
    assert len(mail) == 1 and "Your credential" in mail[0]["Subject"]


def test_concurrent_issuing_makes_one_credential_and_one_email(app):
    with app.app_context():
        program, courses = ready_program()
        user = candidate(courses)
        sitting = actions.start_exam(user, program)
        from campus.programs import exam

        exam.submit(sitting, right_answers(sitting))  # no task queued: the threads issue it
        db.session.commit()
        user_id, program_id = user.id, program.id

    def run(_n: int) -> None:
        with app.app_context():
            try:
                issue_credential.run(user_id, program_id)
            except Exception as exc:  # SQLite's lock is a lost race, retried by the worker
                db.session.rollback()
                if "locked" not in str(exc):
                    raise

    assert support.hammer_in_threads(run, threads=4) == []
    with app.app_context():
        issue_credential.run(user_id, program_id)  # whatever a lost race left is finished here
        credentials = _credentials()
        assert len(credentials) == 1 and credentials[0].status == "issued"
        assert [e.kind for e in credentials[0].events] == ["issued"]
    assert len(support.outbox(app)) == 1


def test_a_required_practical_holds_the_credential_until_it_passes(app):
    with time_machine.travel(START, tick=False):
        user_id, program_id = _certified(app, practical_required=True, rubric="Safe")
    with app.app_context():
        assert _credentials() == []
        submission = PracticalSubmission(
            program_id=program_id,
            user_id=user_id,
            storage_key="programs/practicals/x.mp4",
            filename="x.mp4",
            content_type="video/mp4",
            size_bytes=10,
        )
        db.session.add(submission)
        assessor = support.create_user(role="assessor")
        actions.review_practical(submission, assessor, {"Safe": True}, "pass", "")
        db.session.commit()
        assert [c.status for c in _credentials()] == ["issued"]


def test_a_credential_expires_on_its_date(app, client):
    with time_machine.travel(START, tick=False):
        user_id, _program_id = _certified(app)
    with app.app_context():
        code = _credentials()[0].code
    last_day = datetime(2028, 2, 29, 23, 0, tzinfo=UTC)
    with time_machine.travel(last_day, tick=False), app.app_context():
        assert [b.code for b in badges_for(user_id)] == [code]
    with time_machine.travel(last_day + timedelta(hours=1, minutes=30), tick=False):
        with app.app_context():
            assert badges_for(user_id) == []
        assert "expired on" in client.get(f"/programs/verify/{code}").text


def test_a_credential_whose_renewal_fails_holds_up_no_other(app, monkeypatch):
    from campus.programs import tasks

    with time_machine.travel(START, tick=False):
        user_id, _program_id = _certified(app)
    with app.app_context(), time_machine.travel(START + timedelta(days=300), tick=False):
        complete(user_id, make_course("renewal-c", hours="4"))
        [credential] = _credentials()
        real_ids, real_renew = tasks.issuing.renewable_ids, tasks.actions.renew_credential

        def renew(credential_id: int, day) -> bool:
            if credential_id == -1:
                raise OSError("storage away for a moment")
            return real_renew(credential_id, day)

        # A credential that cannot be renewed this night comes first, every night.
        monkeypatch.setattr(tasks.issuing, "renewable_ids", lambda day: [-1, *real_ids(day)])
        monkeypatch.setattr(tasks.actions, "renew_credential", renew)
        assert renew_credentials.delay().get() == 1
        db.session.expire_all()
        assert db.session.get(type(credential), credential.id).valid_until == date(2030, 2, 28)


def test_renewal_hours_earned_in_the_period_extend_it(app):
    with time_machine.travel(START, tick=False):
        user_id, _program_id = _certified(app)
    with app.app_context():
        with time_machine.travel(START + timedelta(days=300), tick=False):
            complete(user_id, make_course("renewal-a", hours="3"))
            assert renew_credentials.delay().get() == 0  # 3 of 4 hours
            complete(user_id, make_course("renewal-b", hours="1"))
            assert renew_credentials.delay().get() == 1
            assert renew_credentials.delay().get() == 0  # the new period starts empty
        db.session.expire_all()
        [credential] = _credentials()
        assert credential.valid_from == date(2028, 3, 1)
        assert credential.valid_until == date(2030, 2, 28)
        assert [e.kind for e in credential.events] == ["issued", "renewed"]
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action == "program_credential_renew")
            )
            == 1
        )


def test_the_holder_is_emailed_once_when_their_credential_renews(app):
    with time_machine.travel(START, tick=False):
        user_id, _program_id = _certified(app)
    with app.app_context(), time_machine.travel(START + timedelta(days=300), tick=False):
        complete(user_id, make_course("renewal-mail", hours="4"))
        assert renew_credentials.delay().get() == 1
        assert renew_credentials.delay().get() == 0
        [credential] = _credentials()
        code = credential.code
    # The PDF they downloaded says the old date: they are told the new one, and where to get it.
    renewed = [m for m in support.outbox(app) if "renewed" in m["Subject"]]
    assert len(renewed) == 1
    body = support.body_of(renewed[0])
    assert code in body and "February 28, 2030" in body


def test_completing_a_course_renews_at_once(app):
    with time_machine.travel(START, tick=False):
        user_id, _program_id = _certified(app)
    with app.app_context(), time_machine.travel(START + timedelta(days=30), tick=False):
        from campus.programs.tasks import check_enrollment

        complete(user_id, make_course("renewal-c", hours="4"))
        from campus.learning.models import Enrollment

        enrollment_id = db.session.scalar(select(func.max(Enrollment.id)))
        assert check_enrollment.delay(enrollment_id).get() == 1


def test_hours_after_expiry_do_not_renew(app):
    with time_machine.travel(START, tick=False):
        user_id, _program_id = _certified(app)
    with app.app_context(), time_machine.travel(datetime(2028, 6, 1, tzinfo=UTC), tick=False):
        complete(user_id, make_course("late", hours="8"))
        assert renew_credentials.delay().get() == 0
        assert badges_for(user_id) == []


def test_an_expired_credential_is_earned_again_by_passing_the_exam_again(app, client):
    with time_machine.travel(START, tick=False):
        user_id, program_id = _certified(app)
    lapsed = datetime(2028, 3, 6, 10, 0, tzinfo=UTC)
    with time_machine.travel(lapsed, tick=False), app.app_context():
        [old] = _credentials()
        # The pass of two years ago does not earn it again.
        assert issue_credential.delay(user_id, program_id).get() is None
        assert len(_credentials()) == 1
        support.sign_in_directly(client, user_id)
        page = client.get(f"/programs/{old.program.slug}").text
        assert "Your credential expired on" in page and "Start the exam" in page
        assert "Renews automatically" not in page  # its period is over: renewal is past
        user, program = old.user, old.program
        sitting = actions.start_exam(user, program)
        assert sitting.number == 2
        actions.submit_exam(user, sitting, right_answers(sitting))
        db.session.commit()
        new = db.session.scalar(select(Credential).where(Credential.period == 2))
        assert new is not None and new.status == "issued" and new.code != old.code
        assert (new.valid_from, new.valid_until) == (date(2028, 3, 6), date(2030, 3, 5))
        assert [b.code for b in badges_for(user_id)] == [new.code]
        # Once it is valid again, the exam is passed: no third sitting.
        try:
            actions.start_exam(user, program)
        except Exception as exc:
            assert "passed this exam already" in str(exc)
        else:
            raise AssertionError("a sitting was started on a valid credential")
        assert "expired on" in client.get(f"/programs/verify/{old.code}").text
    assert len([m for m in support.outbox(app) if "Your credential" in m["Subject"]]) == 2


def test_a_revoked_credential_is_not_earned_again_by_retaking_the_exam(app):
    with time_machine.travel(START, tick=False):
        user_id, program_id = _certified(app)
    with app.app_context():
        actions.revoke_credential(_credentials()[0], "Exam misconduct", actor=None)
        db.session.commit()
    with time_machine.travel(datetime(2028, 6, 1, tzinfo=UTC), tick=False), app.app_context():
        [credential] = _credentials()
        try:
            actions.start_exam(credential.user, credential.program)
        except Exception as exc:
            assert "passed this exam already" in str(exc)
        else:
            raise AssertionError("a revoked holder started a new sitting")
        assert issue_credential.delay(user_id, program_id).get() is None
        assert len(_credentials()) == 1


def test_revocation_hides_the_badge_and_shows_on_the_verify_page(app, client):
    with time_machine.travel(START, tick=False):
        user_id, _program_id = _certified(app)
    with app.app_context():
        [credential] = _credentials()
        code = credential.code
        assert len(badges_for(user_id)) == 1
        admin = support.create_user(role="admin")
        actions.revoke_credential(credential, "Exam misconduct", actor=admin)
        db.session.commit()
        assert badges_for(user_id) == []
        assert [b.status for b in badges_for(user_id, include_invalid=True)] == ["revoked"]
        entry = db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "program_credential_revoke")
        )
        assert entry is not None and entry.actor_email == admin.email
    page = client.get(f"/programs/verify/{code}").text
    assert "Revoked" in page and "Exam misconduct" not in page  # the reason is not public
    with client.get(f"/programs/verify/{code}.json") as response:
        assert response.json["status"] == "revoked" and "jwt" not in response.json


def test_a_revoked_credential_cannot_be_revoked_twice(app):
    with time_machine.travel(START, tick=False):
        _certified(app)
    with app.app_context():
        [credential] = _credentials()
        actions.revoke_credential(credential, "Once", actor=None)
        try:
            actions.revoke_credential(credential, "Twice", actor=None)
        except issuing.CredentialError as exc:
            assert "already" in exc.message
        else:
            raise AssertionError("revoked twice")


def test_the_signed_badge_carries_its_expiry_and_its_keys_public_address(app, client):
    with time_machine.travel(START, tick=False):
        _certified(app)
    with app.app_context():
        code = _credentials()[0].code
    with (
        time_machine.travel(START + timedelta(days=1), tick=False),
        client.get(f"/programs/verify/{code}.json") as response,
    ):
        body = response.json
    assert body["status"] == "valid"
    assert body["credential"]["validUntil"] == "2028-02-29T23:59:59Z"
    assert "OpenBadgeCredential" in body["credential"]["type"]
    assert body["jwt"].count(".") == 2
    # A verifier keeps the JSON and checks it later, away from the page it came from: the keys'
    # address must stand alone, as the CE certificate's does.
    assert body["jwks_url"] == app.config["PUBLIC_BASE_URL"] + "/.well-known/jwks.json"


def test_a_verifier_on_another_site_may_read_the_badge_json_as_it_may_read_the_keys(app, client):
    with time_machine.travel(START, tick=False):
        _certified(app)
    with app.app_context():
        code = _credentials()[0].code
    origin = {"Origin": "https://verifier.example"}
    with time_machine.travel(START + timedelta(days=1), tick=False):
        for path in (f"/programs/verify/{code}.json", "/programs/verify/PC-ZZZZ-ZZZZ.json"):
            response = client.get(path, headers=origin)
            assert response.headers.get("Access-Control-Allow-Origin") == "*", path


def test_pages_say_it_is_not_an_accredited_certification_unless_an_admin_says_so(app, client):
    with app.app_context():
        plain, _ = ready_program(slug="plain")
        accredited, _ = ready_program(slug="accredited", accrediting_body="The Board of Points")
        assert plain and accredited
    assert "not an accredited certification" in client.get("/programs/plain").text
    page = client.get("/programs/accredited").text
    assert "accredited by The Board of Points" in page
    assert "not an accredited certification" in client.get("/programs/").text


def test_only_the_holder_downloads_the_pdf(app, client):
    with time_machine.travel(START, tick=False):
        user_id, program_id = _certified(app)
    with app.app_context():
        from campus.programs.models import Program

        slug = db.session.get(Program, program_id).slug
        support.sign_in_directly(client, user_id)
        other = app.test_client()
        support.sign_in_directly(other, support.create_user().id)
    with client.get(f"/programs/{slug}/credential.pdf") as response:
        assert response.status_code == 200 and response.data.startswith(b"%PDF")
        assert "no-store" in response.headers["Cache-Control"]
    assert other.get(f"/programs/{slug}/credential.pdf").status_code == 404
    assert app.test_client().get(f"/programs/{slug}/credential.pdf").status_code == 302


def test_a_holder_keeps_their_credential_when_the_program_is_retired(app, client):
    with time_machine.travel(START, tick=False):
        user_id, program_id = _certified(app)
    with app.app_context():
        from campus.programs.models import Program

        program = db.session.get(Program, program_id)
        # What the admin is told to do with a program that has credentials: unpublish it.
        program.published = False
        db.session.commit()
        slug, [credential] = program.slug, _credentials()
        code = credential.code
        support.sign_in_directly(client, user_id)
        other = app.test_client()
        support.sign_in_directly(other, support.create_user().id)
    # Still valid: the holder reads it on the page their email links to, and downloads it.
    page = client.get(f"/programs/{slug}")
    assert page.status_code == 200 and code in page.text
    with client.get(f"/programs/{slug}/credential.pdf") as response:
        assert response.status_code == 200 and response.data.startswith(b"%PDF")
    # Nobody else sees the retired program, and nobody starts its exam.
    assert other.get(f"/programs/{slug}").status_code == 404
    assert other.get(f"/programs/{slug}/credential.pdf").status_code == 404
    assert app.test_client().get(f"/programs/{slug}").status_code == 404
    assert support.post_form(client, f"/programs/{slug}/exam").status_code == 404


def test_a_lapsed_holder_of_a_retired_program_is_not_told_to_pass_its_exam_again(app, client):
    with time_machine.travel(START, tick=False):
        user_id, program_id = _certified(app)
    with app.app_context():
        from campus.programs.models import Program

        program = db.session.get(Program, program_id)
        program.published = False
        db.session.commit()
        slug = program.slug
    with time_machine.travel(datetime(2028, 3, 6, 10, 0, tzinfo=UTC), tick=False):
        with app.app_context():
            support.sign_in_directly(client, user_id)
        page = client.get(f"/programs/{slug}").text
    # Its exam is offered to nobody now: the page says it expired, and promises no new period.
    assert "Your credential expired on" in page
    assert "Pass the exam again" not in page
    assert "This program is no longer offered." in page


def _all_right_and_left_open(minutes: int = 30):
    """A candidate's sitting started at START with every answer right and saved, still open.

    Inside an app context; returns (program, user, sitting).
    """
    program, courses = ready_program(exam_time_limit_minutes=minutes)
    user = candidate(courses, when=START - timedelta(days=1))
    with time_machine.travel(START, tick=False):
        sitting = actions.start_exam(user, program)
        actions.save_answers(user, sitting, right_answers(sitting))
        db.session.commit()
    return program, user, sitting


def test_a_sitting_that_expires_with_a_passing_score_still_earns_the_credential(app, client):
    with app.app_context():
        program, user, _sitting = _all_right_and_left_open()
        slug, user_id = program.slug, user.id
    with time_machine.travel(START + timedelta(minutes=45), tick=False):
        with app.app_context():
            support.sign_in_directly(client, user_id)
        page = client.get(f"/programs/{slug}")  # the page notices the deadline has passed
        assert "to see your progress" not in page.text  # signed in
    with app.app_context():
        assert [c.status for c in _credentials()] == ["issued"]
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action == "program_exam_expire")
            )
            == 1
        )


def test_a_sitting_closed_at_its_deadline_is_logged_as_the_system_not_the_candidate(app, client):
    with app.app_context():
        program, user, _sitting = _all_right_and_left_open()
        slug, user_id = program.slug, user.id
    with time_machine.travel(START + timedelta(minutes=45), tick=False):
        with app.app_context():
            support.sign_in_directly(client, user_id)
        client.get(f"/programs/{slug}")  # the page notices the deadline has passed
    with app.app_context():
        entry = db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "program_exam_expire")
        )
        # The deadline closed it, as the sweep would have: the candidate did nothing.
        assert entry is not None and (entry.actor_id, entry.actor_email) == (None, "system")


def test_an_answer_sent_after_the_deadline_closes_the_sitting_as_the_sweep_would(app):
    with app.app_context():
        _program, user, sitting = _all_right_and_left_open()
        key = right_answers(sitting)
        with time_machine.travel(START + timedelta(minutes=31), tick=False):
            # The page's autosave, late: refused, and the sitting is closed on what it held.
            with pytest.raises(exam.ExamError, match="Time is up"):
                actions.save_answers(user, sitting, key)
            db.session.commit()
        assert sitting.closed_reason == "expired" and sitting.passed is True
        audited = db.session.scalars(
            select(AuditEntry.action).where(AuditEntry.action.like("program_exam_%"))
        ).all()
        assert sorted(audited) == ["program_exam_expire", "program_exam_start"]
        support.wait_for(lambda: len(_credentials()) == 1, message="the credential")
        assert [c.status for c in _credentials()] == ["issued"]


def test_the_credential_criteria_read_in_the_singular_for_one_course_and_one_hour(app):
    from decimal import Decimal

    from campus.programs.issuing import _criteria
    from tests.programs.helpers import make_program

    with app.app_context():
        one = make_program(
            courses=[make_course("criteria-one")],
            slug="criteria-one",
            elective_hours=Decimal("1.00"),
        )
        assert _criteria(one).startswith("Complete 1 required course, earn 1 elective CE hour, ")
        two = make_program(
            courses=[make_course("criteria-a"), make_course("criteria-b")],
            slug="criteria-two",
            elective_hours=Decimal("1.50"),
        )
        assert _criteria(two).startswith("Complete 2 required courses, earn 1.5 elective CE hours")


def test_the_page_says_from_when_hours_count_for_the_next_renewal(app, client):
    # After an early renewal the next period starts when the current one ends: hours earned
    # before then renewed nothing, though the page promised any hours "before" the new end.
    import re

    with time_machine.travel(START, tick=False):
        user_id, program_id = _certified(app)
    with app.app_context():
        from campus.programs.models import Program

        slug = db.session.get(Program, program_id).slug

    def promise() -> str:
        with app.app_context():
            support.sign_in_directly(client, user_id)  # a session of that day
        page = client.get(f"/programs/{slug}").text
        return " ".join(re.search(r'<p class="muted small">([^<]*)</p>', page).group(1).split())

    # On the day it is earned the hours count from tomorrow: it was not "renewed".
    for day in (START, START + timedelta(days=1)):
        with time_machine.travel(day, tick=False):
            assert promise() == (
                "Renews automatically when you earn 4 CE hours from March 2, 2026 "
                "to February 29, 2028."
            )
    with time_machine.travel(START + timedelta(days=300), tick=False), app.app_context():
        complete(user_id, make_course("early", hours="4"))
        assert renew_credentials.delay().get() == 1
    with time_machine.travel(START + timedelta(days=400), tick=False):
        assert promise() == (
            "Renewed to February 28, 2030. The next renewal needs 4 CE hours earned from "
            "March 1, 2028 to February 28, 2030."
        )
        with app.app_context():
            complete(user_id, make_course("too-soon", hours="4"))
            assert renew_credentials.delay().get() == 0
    with time_machine.travel(datetime(2028, 3, 2, 15, 0, tzinfo=UTC), tick=False):
        assert promise().startswith("Renews automatically when you earn 4 CE hours from March 1")
        with app.app_context():
            complete(user_id, make_course("in-time", hours="4"))
            assert renew_credentials.delay().get() == 1
            db.session.expire_all()
            assert _credentials()[0].valid_until == date(2032, 2, 29)


@pytest.mark.parametrize(("checked", "renewed"), [(timedelta(days=1), 1), (timedelta(days=8), 0)])
def test_hours_earned_on_the_last_day_renew_when_checked_after_it(app, checked, renewed):
    # A course finished late on the last valid day is checked after midnight (or a queue
    # delay, a missed nightly run): the holder met the rule in time, for a week after.
    with time_machine.travel(START, tick=False):
        user_id, _program_id = _certified(app)
    last_evening = datetime(2028, 2, 29, 23, 50, tzinfo=UTC)
    with app.app_context():
        complete(user_id, make_course("last-evening", hours="4"), when=last_evening)
        db.session.commit()
        with time_machine.travel(last_evening + checked, tick=False):
            assert renew_credentials.delay().get() == renewed
        db.session.expire_all()
        expected = date(2030, 2, 28) if renewed else date(2028, 2, 29)
        assert _credentials()[0].valid_until == expected


@pytest.mark.parametrize(
    ("start", "months", "last"),
    [
        (date(2026, 3, 1), 24, date(2028, 2, 29)),
        (date(2026, 8, 28), 6, date(2027, 2, 27)),
        (date(2026, 8, 29), 6, date(2027, 2, 28)),
        (date(2026, 8, 31), 6, date(2027, 2, 28)),
        (date(2027, 8, 31), 6, date(2028, 2, 29)),
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2026, 12, 15), 12, date(2027, 12, 14)),
    ],
)
def test_a_period_ends_the_day_before_the_same_day_or_at_a_short_months_end(start, months, last):
    assert issuing.period_end(start, months) == last


def test_hours_earned_on_the_first_day_of_a_renewed_period_count_toward_the_next_renewal(app):
    # Renewed early to run from March 1, 2028: a course finished that day is in the new period
    # and renewed nothing before it, so it counts for the next renewal.
    with time_machine.travel(START, tick=False):
        user_id, _program_id = _certified(app)
    with time_machine.travel(START + timedelta(days=300), tick=False), app.app_context():
        complete(user_id, make_course("early", hours="4"))
        assert renew_credentials.delay().get() == 1
    first_day = datetime(2028, 3, 1, 15, 0, tzinfo=UTC)
    with time_machine.travel(first_day, tick=False), app.app_context():
        complete(user_id, make_course("first-day", hours="4"))
        assert renew_credentials.delay().get() == 1
        db.session.expire_all()
        assert _credentials()[0].valid_until == date(2032, 2, 29)


def test_the_credential_states_the_pass_mark_its_holder_sat_not_one_set_since(app):
    with app.app_context():
        program, courses = ready_program(exam_pass_mark=70)
        user = candidate(courses)
        sitting = actions.start_exam(user, program)
        db.session.commit()
        # The admin raises the pass mark while the paper is answered: this one was frozen at 70.
        program.exam_pass_mark = 90
        db.session.commit()
        answers = right_answers(sitting)
        first = sitting.layout[0]
        answers[first["id"]] = next(c["id"] for c in first["choices"] if not c["correct"])
        actions.submit_exam(user, sitting, answers)
        db.session.commit()
        assert (sitting.score_percent, sitting.passed) == (75, True)
        [credential] = _credentials()
        # It must not tell a board the holder scored 90% or better.
        assert "pass the certification exam (70% or better)" in credential.data["criteria"]


def test_a_renewal_that_never_commits_leaves_the_holders_pdf_as_it_was(app, client):
    with time_machine.travel(START, tick=False):
        user_id, program_id = _certified(app)
    with app.app_context():
        from campus.programs.models import Program

        slug = db.session.get(Program, program_id).slug
        support.sign_in_directly(client, user_id)
    with client.get(f"/programs/{slug}/credential.pdf") as response:  # streamed: closed after
        issued = response.data
    day = START + timedelta(days=300)
    with app.app_context(), time_machine.travel(day, tick=False):
        complete(user_id, make_course("renewal-lost", hours="4"))
        [credential] = _credentials()
        # The worker dies, or the database refuses the commit, once the renewal is drawn.
        assert actions.renew_credential(credential.id, day.date())
        db.session.rollback()
        db.session.expire_all()
        assert db.session.get(Credential, credential.id).valid_until == date(2028, 2, 29)
    # Still the PDF of the period the database holds, not one of a renewal that never was.
    with client.get(f"/programs/{slug}/credential.pdf") as response:
        assert response.data == issued


def test_a_credential_whose_pdf_is_missing_from_storage_is_a_404_not_an_error(app, client):
    """A file the store lost (or a host that never saw it) is told as missing, never a 500."""
    from campus.programs.models import Program
    from campus.storage import get_storage

    with time_machine.travel(START, tick=False):
        user_id, program_id = _certified(app)
    with app.app_context():
        slug = db.session.get(Program, program_id).slug
        key = db.session.scalar(select(Credential.storage_key).where(Credential.user_id == user_id))
        get_storage().delete(key)
        support.sign_in_directly(client, user_id)
    response = client.get(f"/programs/{slug}/credential.pdf")
    assert response.status_code == 404
    assert "no PDF" in response.text


def test_the_program_list_shows_a_revoked_credential_as_bad_news(app, client):
    # The program's own page colours a revoked or expired status as danger; the list did not.
    import re

    with time_machine.travel(START, tick=False):
        user_id, _program_id = _certified(app)
    with app.app_context():
        actions.revoke_credential(_credentials()[0], "Exam misconduct", actor=None)
        db.session.commit()
        support.sign_in_directly(client, user_id)
    page = client.get("/programs/").text
    badge = re.search(
        r'<span class="badge ([^"]+)"><span class="sr-label">[^<]*</span>revoked', page
    )
    assert badge is not None and badge.group(1) == "badge-danger"


def test_the_status_box_writes_elective_hours_as_the_rest_of_the_page_does(app, client):
    from decimal import Decimal

    from tests.programs.helpers import make_program

    with app.app_context():
        electives = [make_course("elective-a", "1.5"), make_course("elective-b", "1")]
        program = make_program(electives=electives, elective_hours=Decimal("4"))
        user_id = candidate(electives).id
        slug = program.slug
        support.sign_in_directly(client, user_id)
    page = client.get(f"/programs/{slug}").text
    assert "you have <strong>2.5 hours</strong>" in page
    # Not "2.50 of 4.00": hours are written one way on every page.
    assert "Elective hours: 2.5 of 4 hours" in page


def test_a_revoked_holder_is_told_whom_to_ask_about_it(app, client):
    # Retaking the exam does not earn it again (the admin's call): the page gave the reason
    # and stopped there, with the exam shown as passed and nothing else to do.
    import re

    with time_machine.travel(START, tick=False):
        user_id, program_id = _certified(app)
    with app.app_context():
        actions.revoke_credential(_credentials()[0], "Exam misconduct", actor=None)
        db.session.commit()
        slug = db.session.get(Program, program_id).slug
        support.sign_in_directly(client, user_id)
    email = app.config["PROVIDER_EMAIL"]
    page = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", client.get(f"/programs/{slug}").text))
    assert "was revoked" in page
    assert f"To ask about it, write to {email}" in page


def test_a_revoked_newest_period_serves_no_older_pdf(app, client):
    """With the newest period revoked the holder holds nothing: no older PDF stands in for it."""
    from tests.programs.helpers import make_credential

    with app.app_context():
        program, _courses = ready_program()
        user = support.create_user()
        today = date.today()
        get_storage().save("programs/credentials/old.pdf", b"%PDF-1.4 old period", None)
        make_credential(
            user.id,
            program,
            period=1,
            valid_from=today - timedelta(days=800),
            valid_until=today - timedelta(days=70),
            storage_key="programs/credentials/old.pdf",
        )
        make_credential(
            user.id,
            program,
            period=2,
            status="revoked",
            revoked_at=datetime.now(UTC),
            revoked_reason="Exam misconduct",
            storage_key="programs/credentials/old.pdf",
        )
        slug = program.slug
        support.sign_in_directly(client, user.id)
    response = client.get(f"/programs/{slug}/credential.pdf")
    assert response.status_code == 404
    assert b"%PDF" not in response.data
    assert "Your credential was revoked" in response.text
    assert "Download the PDF" not in client.get(f"/programs/{slug}").text

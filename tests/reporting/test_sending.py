"""Reporting a completion to CE Broker: queued once after issue, sent, retried, answered."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests import support
from tests.reporting.helpers import completion, configure, report_of, reports_of


def _count_reports() -> int:
    from campus.extensions import db
    from campus.reporting.models import ReportedCompletion

    return db.session.scalar(select(func.count()).select_from(ReportedCompletion))


def test_a_florida_completion_is_reported_and_accepted(app, fake_cebroker):
    configure(app, fake_cebroker)
    c = completion(app, full_name="Rosa María Delgado")
    with app.app_context():
        report = report_of(c.certificate_id)
        assert (report.system, report.jurisdiction, report.status) == ("cebroker", "FL", "accepted")
        assert report.attempts == 1 and report.reference == "7001" and report.answered_at
        from campus.certificates.models import Certificate
        from campus.extensions import db

        completed = db.session.get(Certificate, c.certificate_id).completed_at
    [message] = fake_cebroker.messages
    assert message.tag == "rosters"
    assert (message.get("id_parent_provider"), message.get("upload_key")) == ("4321", "TESTKEY01")
    assert message.findtext("roster/id_provider") == "4321"
    assert message.findtext("roster/id_course") == "123456"
    [attendee] = fake_cebroker.attendees()
    assert {child.tag: child.text for child in attendee} == {
        "licensee_profession": "MA",
        "license": "MA12345",
        "cebroker_state": "FL",
        "first_name": "Rosa",
        "last_name": "María Delgado",
        "course_date": completed.strftime("%m/%d/%Y"),
        "partial_credit": "N",
    }


def test_a_state_written_out_is_recognised(app, fake_cebroker):
    configure(app, fake_cebroker)
    c = completion(app, state="Florida")
    with app.app_context():
        assert report_of(c.certificate_id).status == "accepted"


def test_a_license_in_a_state_without_a_tracking_system_is_not_reported(app, fake_cebroker):
    configure(app, fake_cebroker)
    c = completion(app, state="Maine", license_number="MT-004512")
    with app.app_context():
        assert reports_of(c.certificate_id) == []
    assert fake_cebroker.messages == []


def test_a_rejection_is_recorded_with_cebrokers_reason(app, fake_cebroker):
    configure(app, fake_cebroker)
    c = completion(app, license_number="REJ0001")
    with app.app_context():
        report = report_of(c.certificate_id)
        assert report.status == "rejected"
        assert report.reason == "Invalid license Number (code 80)"
        assert report.attempts == 1  # a refusal is not retried


def test_a_course_without_a_cebroker_number_is_rejected_without_sending(app, fake_cebroker):
    configure(app, fake_cebroker)
    c = completion(app, number=None)
    with app.app_context():
        report = report_of(c.certificate_id)
        assert report.status == "rejected"
        assert "no CE Broker course tracking number" in report.reason
    assert fake_cebroker.messages == []


def test_a_course_number_added_as_the_rejection_asks_is_sent_on_the_resend(app, fake_cebroker):
    configure(app, fake_cebroker)
    c = completion(app, number=None)
    with app.app_context():
        from campus.certificates.models import Certificate
        from campus.extensions import db
        from campus.learning.models import BoardApproval
        from campus.reporting import actions

        report = report_of(c.certificate_id)
        assert report.status == "rejected" and "add its CE Broker approval" in report.reason
        # The provider does what the rejection says: the course's CE Broker approval is added.
        course_id = db.session.get(Certificate, c.certificate_id).course_id
        db.session.add(
            BoardApproval(course_id=course_id, board="CE Broker", approval_number="20-654321")
        )
        db.session.commit()
        actions.resend(report.id, actor=None)
        db.session.commit()
        report = report_of(c.certificate_id)
        assert report.status == "accepted", report.reason
    [message] = fake_cebroker.messages
    assert [r.findtext("id_course") for r in message.iter("roster")] == ["654321"]


def test_a_course_number_whose_approval_started_after_the_completion_is_not_sent(
    app, fake_cebroker
):
    configure(app, fake_cebroker)
    c = completion(app, number=None)
    with app.app_context():
        from campus import dates
        from campus.certificates.models import Certificate
        from campus.extensions import db
        from campus.learning.models import BoardApproval
        from campus.reporting import actions

        # CE Broker approves the course from next week: this completion came before it.
        course_id = db.session.get(Certificate, c.certificate_id).course_id
        db.session.add(
            BoardApproval(
                course_id=course_id,
                board="CE Broker",
                approval_number="20-654321",
                valid_from=dates.today() + timedelta(days=7),
            )
        )
        db.session.commit()
        actions.resend(report_of(c.certificate_id).id, actor=None)
        db.session.commit()
        report = report_of(c.certificate_id)
        assert report.status == "rejected" and report.provider_fault
    assert fake_cebroker.messages == []


def test_a_transient_failure_is_retried_until_accepted(app, fake_cebroker):
    configure(app, fake_cebroker)
    fake_cebroker.fail_next = 2
    c = completion(app)
    with app.app_context():
        report = report_of(c.certificate_id)
        assert report.status == "accepted"
        assert report.attempts == 3
        assert report.last_error is None
    assert len(fake_cebroker.messages) == 1


def test_retries_stop_at_the_limit_and_leave_the_report_pending(app, fake_cebroker):
    configure(app, fake_cebroker)
    fake_cebroker.fail_next = 100
    c = completion(app)
    with app.app_context():
        report = report_of(c.certificate_id)
        assert report.status == "pending"
        assert report.attempts == 7  # the first try and six retries
        assert "HTTP 503" in report.last_error and "7 of 14 tries made" in report.last_error
    assert fake_cebroker.messages == []


def _age(report, hours: int = 2) -> None:
    """Make a report look idle for a while (pending or sent), as the sweep would find it."""
    from campus.extensions import db
    from campus.models.base import utcnow

    report.updated_at = utcnow() - timedelta(hours=hours)
    if report.sent_at is not None:
        report.sent_at = utcnow() - timedelta(hours=hours)
    db.session.commit()


def test_an_unreachable_service_is_retried_and_left_to_the_sweep(app, fake_cebroker):
    configure(app, fake_cebroker)
    app.config["CEBROKER_ENDPOINT"] = "http://127.0.0.1:9/nothing-listens-here"
    c = completion(app)
    with app.app_context():
        from campus.reporting.tasks import sweep_reports

        report = report_of(c.certificate_id)
        # Refused before anything was sent: safe to send again, so it is, at once.
        assert (report.status, report.attempts) == ("pending", 7)
        assert "could not be reached" in report.last_error
        _age(report)
        assert sweep_reports.apply().result == 1  # a second round, refused again: the last
        report = report_of(c.certificate_id)
        assert (report.status, report.attempts) == ("failed", 14)
        assert "nothing shows that CE Broker received it" in report.reason


def test_a_slow_cebroker_records_the_completion_once_and_it_ends_accepted(app, fake_cebroker):
    configure(app, fake_cebroker)
    app.config["CEBROKER_TIMEOUT"] = 0.2
    fake_cebroker.delay = 0.5  # CE Broker stores the roster, then answers too late
    c = completion(app)
    with app.app_context():
        from campus.reporting.tasks import sweep_reports

        report = report_of(c.certificate_id)
        # The outcome is unknown: not posted again at once, and not put back as pending.
        assert (report.status, report.attempts) == ("sent", 1)
        assert "may have recorded" in report.last_error
        assert len(fake_cebroker.messages) == 1
        assert sweep_reports.apply().result == 0  # not stale yet: no second send
        fake_cebroker.delay = 0
        _age(report)
        assert sweep_reports.apply().result == 1
        report = report_of(c.certificate_id)
        assert (report.status, report.attempts, report.last_error) == ("accepted", 2, None)
        assert "Duplicate" in report.reason
        assert sweep_reports.apply().result == 0
    assert len(fake_cebroker.messages) == 2
    assert len(fake_cebroker.recorded) == 1  # the board holds the completion once


def test_a_duplicate_answer_after_a_lost_answer_counts_as_accepted(app, fake_cebroker):
    configure(app, fake_cebroker)
    c = completion(app)
    with app.app_context():
        from campus.extensions import db
        from campus.reporting.tasks import sweep_reports

        # CE Broker recorded it, then the worker died before storing the answer.
        report = report_of(c.certificate_id)
        report.status, report.reason, report.answered_at = "sent", None, None
        db.session.commit()
        _age(report)
        assert sweep_reports.apply().result == 1
        report = report_of(c.certificate_id)
        assert (report.status, report.attempts) == ("accepted", 2)
        assert report.reason.startswith("Already recorded there: Duplicate")
    assert len(fake_cebroker.messages) == 2 and len(fake_cebroker.recorded) == 1


def test_the_sweep_stops_after_the_last_attempt_and_an_admin_can_resend(
    app, fake_cebroker, monkeypatch
):
    configure(app, fake_cebroker)
    fake_cebroker.fail_next = 1000
    c = completion(app)
    with app.app_context():
        from campus.extensions import db
        from campus.reporting import actions
        from campus.reporting.tasks import sweep_reports

        _age(report_of(c.certificate_id))
        assert sweep_reports.apply().result == 1  # a second round: 14 tries in all
        report = report_of(c.certificate_id)
        assert (report.status, report.attempts) == ("failed", 14)
        assert "after 14 tries" in report.reason and "HTTP 503" in report.reason
        for _ in range(3):
            _age(report_of(c.certificate_id))
            assert sweep_reports.apply().result == 0
        assert report_of(c.certificate_id).attempts == 14
        # A resend whose message is lost is still the sweep's: it has a round of tries again.
        from campus import jobs

        with monkeypatch.context() as lost:
            lost.setattr(jobs, "send_task", lambda *args, **kwargs: None)
            actions.resend(report.id, actor=None)
            db.session.commit()
        report = report_of(c.certificate_id)
        assert (report.status, report.attempts) == ("pending", 7)
        fake_cebroker.fail_next = 0
        _age(report)
        assert sweep_reports.apply().result == 1
        report = report_of(c.certificate_id)
        assert (report.status, report.attempts) == ("accepted", 8)
    assert len(fake_cebroker.recorded) == 1


def test_a_send_left_without_an_answer_on_its_last_attempt_fails_may_be_held(app, fake_cebroker):
    configure(app, fake_cebroker)
    c = completion(app)
    with app.app_context():
        from campus.extensions import db
        from campus.models.base import utcnow
        from campus.reporting.tasks import sweep_reports

        report = report_of(c.certificate_id)
        report.status, report.attempts, report.sent_at = "sent", 14, utcnow()
        db.session.commit()
        _age(report)  # the worker died on the fourteenth send
        assert sweep_reports.apply().result == 0
        report = report_of(c.certificate_id)
        assert report.status == "failed" and "may hold it" in report.reason
        assert report.unanswered_at is not None
    assert len(fake_cebroker.messages) == 1  # only the first, accepted send


def test_a_send_once_unanswered_is_remembered_when_later_tries_fail(app, fake_cebroker):
    from campus.reporting.adapters import TransientFailure, Unanswered

    configure(app, fake_cebroker)
    c = completion(app)
    with app.app_context():
        from campus.extensions import db
        from campus.reporting import sending

        report = report_of(c.certificate_id)
        report.status, report.attempts = "pending", 12
        db.session.commit()
        assert sending.claim(report.id)
        sending.record_outcome(report.id, Unanswered("read timed out"))
        db.session.commit()
        _age(report_of(c.certificate_id))
        assert sending.claim(report.id)
        # The next try never reached CE Broker: back to pending, but the first may be held.
        sending.record_outcome(report.id, TransientFailure("connection refused"))
        sending.record_gave_up(report.id)
        db.session.commit()
        report = report_of(c.certificate_id)
        assert (report.status, report.attempts) == ("failed", 14)
        assert "may hold it" in report.reason and "connection refused" in report.reason


def test_without_settings_the_report_says_not_configured_and_nothing_is_sent(app, fake_cebroker):
    c = completion(app)  # CEBROKER_* unset in testing
    with app.app_context():
        report = report_of(c.certificate_id)
        assert report.status == "not_configured"
        assert "not configured" in report.reason
        assert report.attempts == 0
    assert fake_cebroker.messages == []


def test_running_the_issuing_task_again_queues_nothing_more(app, fake_cebroker):
    configure(app, fake_cebroker)
    c = completion(app)
    with app.app_context():
        from campus.certificates.models import Certificate
        from campus.certificates.tasks import issue_certificate
        from campus.extensions import db

        enrollment_id = db.session.get(Certificate, c.certificate_id).enrollment_id
        for _ in range(3):
            issue_certificate.apply(args=(enrollment_id,))
        assert _count_reports() == 1
        assert report_of(c.certificate_id).status == "accepted"
    assert len(fake_cebroker.messages) == 1


def test_concurrent_queueing_makes_one_report(app, fake_cebroker):
    c = completion(app)  # not configured: the report exists and is settled
    with app.app_context():
        _delete_reports()

    def queue(_seed: int) -> None:
        from campus.extensions import db
        from campus.reporting import services

        with app.app_context():
            services.queue_for_certificate(c.certificate_id)
            db.session.commit()

    assert support.hammer_in_threads(queue, threads=6) == []
    with app.app_context():
        assert _count_reports() == 1


def _delete_reports() -> None:
    from sqlalchemy import delete

    from campus.extensions import db
    from campus.reporting.models import ReportedCompletion

    db.session.execute(delete(ReportedCompletion))
    db.session.commit()


def test_concurrent_sends_of_one_report_reach_cebroker_once(app, fake_cebroker):
    c = completion(app)  # settled as not configured; now configure and put it back in line
    configure(app, fake_cebroker)
    with app.app_context():
        from campus.extensions import db

        report = report_of(c.certificate_id)
        report.status = "pending"
        db.session.commit()
        report_id = report.id

    def send(_seed: int) -> None:
        from campus.reporting.tasks import send_report

        with app.app_context():
            send_report.apply(args=(report_id,))

    assert support.hammer_in_threads(send, threads=6) == []
    assert len(fake_cebroker.messages) == 1
    with app.app_context():
        report = report_of(c.certificate_id)
        assert (report.status, report.attempts) == ("accepted", 1)


def test_a_certificate_revoked_before_sending_is_not_reported(app, fake_cebroker):
    c = completion(app)
    configure(app, fake_cebroker)
    with app.app_context():
        from campus.certificates import actions
        from campus.extensions import db
        from campus.reporting.tasks import send_report

        report = report_of(c.certificate_id)
        report.status, report_id = "pending", report.id
        actions.revoke(c.code, "Attendance could not be confirmed", actor=None)
        db.session.commit()
        assert send_report.apply(args=(report_id,)).result == "cancelled"
        report = report_of(c.certificate_id)
        assert report.status == "cancelled"
        assert "revoked" in report.reason and "Attendance could not be confirmed" in report.reason
    assert fake_cebroker.messages == []


def test_the_sweep_resends_reports_left_pending(app, fake_cebroker):
    c = completion(app)
    configure(app, fake_cebroker)
    with app.app_context():
        from campus.extensions import db
        from campus.models.base import utcnow
        from campus.reporting.tasks import sweep_reports

        report = report_of(c.certificate_id)
        report.status = "pending"
        db.session.commit()
        assert sweep_reports.apply().result == 0  # too recent: its own task may still come
        report.updated_at = utcnow() - timedelta(hours=2)
        db.session.commit()
        assert sweep_reports.apply().result == 1
        assert report_of(c.certificate_id).status == "accepted"
    assert len(fake_cebroker.messages) == 1


def test_a_stalled_send_is_redone_only_once_stale(app, fake_cebroker):
    c = completion(app)
    configure(app, fake_cebroker)
    with app.app_context():
        from campus.extensions import db
        from campus.models.base import utcnow
        from campus.reporting.tasks import send_report

        report = report_of(c.certificate_id)
        report.status, report.sent_at = "sent", utcnow()
        db.session.commit()
        assert send_report.apply(args=(report.id,)).result is None  # another worker has it
        assert fake_cebroker.messages == []
        report.sent_at = utcnow() - timedelta(hours=1)  # that worker died mid-request
        db.session.commit()
        assert send_report.apply(args=(report.id,)).result == "accepted"
    assert len(fake_cebroker.messages) == 1


def _two_licenses(app, slug: str, first: tuple[str, str], second: tuple[str, str]):
    """A member with two licenses completes a course; the certificate names the first one."""
    from tests.certificates.helpers import certificate_of, complete_course, student
    from tests.licenses.helpers import add_license
    from tests.reporting.helpers import course_with_number

    with app.app_context():
        course = course_with_number(slug)
        user = student(license_state=first[0], license_number=first[1])
        add_license(user.id, second[0], second[1])
        complete_course(user.id, course)
        certificate = certificate_of(user.id)
        return certificate.id, certificate.license_id


def test_the_report_carries_the_license_the_certificate_names(app, fake_cebroker):
    configure(app, fake_cebroker)
    certificate_id, _license_id = _two_licenses(app, "two-a", ("FL", "MA24680"), ("ME", "MT-1"))
    with app.app_context():
        assert report_of(certificate_id).status == "accepted"
    assert [a.findtext("license") for a in fake_cebroker.attendees()] == ["MA24680"]


def test_a_certificate_for_another_license_is_not_reported(app, fake_cebroker):
    configure(app, fake_cebroker)
    certificate_id, license_id = _two_licenses(app, "two-b", ("ME", "MT-1"), ("FL", "MA24680"))
    with app.app_context():
        from campus.extensions import db
        from campus.licenses.models import License

        assert db.session.get(License, license_id).jurisdiction == "ME"
        assert reports_of(certificate_id) == []
    assert fake_cebroker.messages == []


def test_a_cebroker_approval_lapsed_before_the_completion_is_not_reported(app, fake_cebroker):
    configure(app, fake_cebroker)
    with app.app_context():
        from campus.extensions import db
        from campus.learning.models import Course
        from campus.models.base import utcnow
        from tests.certificates.helpers import certificate_of, complete_course, student
        from tests.reporting.helpers import course_with_number

        # The course's CE Broker approval ended a month before the learner finished it; its
        # NCBTMB approval still stands, so the course is still offered.
        course = course_with_number("fl-lapsed")
        row = db.session.get(Course, course.id)
        for approval in row.approvals:
            if approval.board.startswith("CE Broker"):
                approval.valid_until = utcnow().date() - timedelta(days=30)
        db.session.commit()
        user = student(license_number="MA12345", license_state="FL")
        complete_course(user.id, course)
        certificate = certificate_of(user.id)
        assert [a["board"] for a in certificate.data["approvals"]] == ["NCBTMB"]
        report = report_of(certificate.id)
        assert report.status == "rejected" and report.provider_fault
        assert "in force on the completion date" in report.reason
    assert fake_cebroker.messages == []


def test_a_course_not_for_the_licenses_profession_is_not_reported(app, fake_cebroker):
    # A Florida physical therapist finishes a massage therapists' course: their board does not
    # count it (the renewal tracker says so), and CE Broker is not told it was completed.
    configure(app, fake_cebroker)
    with app.app_context():
        from tests.certificates.helpers import certificate_of, complete_course, student
        from tests.reporting.helpers import course_with_number

        course = course_with_number("fl-massage-only", professions=("massage_therapist",))
        user = student(
            license_number="PT12345", license_state="FL", profession="physical_therapist"
        )
        complete_course(user.id, course)
        certificate = certificate_of(user.id)
        assert certificate.data["license_number"] == "PT12345"
        assert reports_of(certificate.id) == []
    assert fake_cebroker.messages == []


def test_a_course_two_boards_approved_is_reported_under_the_licenses_boards_number(
    app, fake_cebroker
):
    # Each Florida board approves a course under its own CE Broker number: a physical
    # therapist's completion went under the massage board's number, listed first.
    configure(app, fake_cebroker)
    with app.app_context():
        from campus.extensions import db
        from campus.learning.models import BoardApproval, Course
        from tests.certificates.helpers import certificate_of, complete_course, student
        from tests.licenses.helpers import import_shipped_rules
        from tests.reporting.helpers import course_with_number

        import_shipped_rules()
        course = course_with_number(
            "fl-two-boards", professions=("massage_therapist", "physical_therapist")
        )
        row = db.session.get(Course, course.id)
        row.approvals.append(
            BoardApproval(
                board="CE Broker (Florida Board of Physical Therapy Practice)",
                approval_number="20-654321",
            )
        )
        db.session.commit()
        user = student(
            license_number="PT12345", license_state="FL", profession="physical_therapist"
        )
        complete_course(user.id, course)
        report = report_of(certificate_of(user.id).id)
        assert report.status == "accepted" and report.sent["course_number"] == "20-654321"
    assert fake_cebroker.messages[0].findtext("roster/id_course") == "654321"


@pytest.mark.parametrize("receipt", ["R" * 120, ""])
def test_an_accepted_report_keeps_its_receipt_and_that_the_board_holds_it(
    app, fake_cebroker, receipt
):
    """A long receipt id is kept whole; none at all (a duplicate) still says the board took it."""
    from campus.reporting.adapters import Accepted

    configure(app, fake_cebroker)
    c = completion(app)
    with app.app_context():
        from campus.extensions import db
        from campus.reporting import sending

        report = report_of(c.certificate_id)
        report.status = "pending"
        db.session.commit()
        assert sending.claim(report.id)
        sending.record_outcome(report.id, Accepted(receipt, already_held="Duplicate"))
        db.session.commit()
        report = report_of(c.certificate_id)
        assert (report.status, report.reference) == ("accepted", receipt)
        assert sending.claim(report.id) is False  # settled: not posted again
        # A resend after a correction that then fails does not forget the board holds it: a
        # revocation still calls for its withdrawal.
        report.status = "failed"
        db.session.commit()
        assert report_of(c.certificate_id).may_be_held

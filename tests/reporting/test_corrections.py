"""A correction a reissue sends after the board accepted a completion, and what follows it."""

from __future__ import annotations

from campus.extensions import db
from tests.reporting.helpers import completion, configure, report_of


def _reissue_with_number(app, c, number: str) -> None:
    with app.app_context():
        _reissue(c, number)


def _reissue(c, number: str) -> None:
    """Correct the member's license number and reissue the certificate (in an app context)."""
    from campus.certificates import actions
    from campus.licenses.models import License
    from tests.certificates.helpers import certificate_of

    certificate = certificate_of(c.user_id)
    db.session.get(License, certificate.license_id).number = number
    db.session.commit()
    actions.reissue(certificate.code, "License number mistyped", actor=None)
    db.session.commit()


def _listed_as_due(report_id: int) -> bool:
    from sqlalchemy import select

    from campus.reporting.models import ReportedCompletion, withdrawal_pending_clause

    found = db.session.scalars(select(ReportedCompletion.id).where(withdrawal_pending_clause()))
    return report_id in found.all()


def test_a_revoked_completion_whose_correction_was_refused_is_still_due_for_withdrawal(
    app, fake_cebroker
):
    # The board accepted the hours under the first number; the correction a reissue sent was
    # refused, so the board still holds that first report. Revoked, it must be withdrawn.
    from campus.certificates import actions
    from tests.certificates.helpers import certificate_of

    configure(app, fake_cebroker)
    c = completion(app, "fl-refused", license_number="MA1234")
    _reissue_with_number(app, c, "REJ1234")
    with app.app_context():
        report = report_of(c.certificate_id)
        assert report.status == "rejected" and report.reference is not None
        actions.revoke(certificate_of(c.user_id).code, "Quiz answers shared", actor=None)
        db.session.commit()
        report = report_of(c.certificate_id)
        assert report.withdrawal_pending
        assert _listed_as_due(report.id)


def test_a_correction_left_unsent_for_want_of_settings_still_needs_the_withdrawal(
    app, fake_cebroker
):
    # The board accepted the hours; by the time a reissue queued the correction the CE Broker
    # settings were gone, so nothing more was sent and the board holds the first report.
    from campus.certificates import actions
    from tests.certificates.helpers import certificate_of

    configure(app, fake_cebroker)
    c = completion(app, "fl-unset", license_number="MA1234")
    app.config["CEBROKER_UPLOAD_KEY"] = None
    _reissue_with_number(app, c, "MA12345")
    with app.app_context():
        assert report_of(c.certificate_id).status == "not_configured"
        actions.revoke(certificate_of(c.user_id).code, "Quiz answers shared", actor=None)
        db.session.commit()
        report = report_of(c.certificate_id)
        assert report.withdrawal_pending and _listed_as_due(report.id)


def test_a_reissue_for_a_license_of_a_profession_the_course_is_not_for_sends_no_correction(
    app, fake_cebroker
):
    # A massage course, accepted under the member's massage license; the member then made that
    # license a physical therapist's and the certificate was reissued. The physical therapy
    # board does not count the course: it must not be told of it, as it was not at issue.
    from campus.licenses.models import License
    from tests.certificates.helpers import certificate_of

    configure(app, fake_cebroker)
    c = completion(app, "fl-massage", license_number="MA1234")
    with app.app_context():
        license = db.session.get(License, certificate_of(c.user_id).license_id)
        license.profession = "physical_therapist"
        db.session.commit()
    _reissue_with_number(app, c, "PT1234")
    with app.app_context():
        report = report_of(c.certificate_id)
        assert report.sent["license_number"] == "MA1234"
        assert report.sent["profession_code"] == "MA"
    assert [a.findtext("license") for a in fake_cebroker.attendees()] == ["MA1234"]


def test_a_redelivered_issuing_task_sends_no_correction_for_an_older_certificate(
    app, fake_cebroker
):
    # A certificate frozen before the license's profession was: the member then set their
    # license to another profession the course is also for, and the issuing task ran again (a
    # redelivered message). No reissue printed anything new: the board keeps what it accepted.
    from campus.certificates.models import Certificate
    from campus.certificates.tasks import issue_certificate
    from campus.licenses.models import License
    from tests.certificates.helpers import certificate_of, complete_course, student
    from tests.reporting.helpers import course_with_number

    configure(app, fake_cebroker)
    with app.app_context():
        course = course_with_number(
            "fl-both", professions=("massage_therapist", "physical_therapist")
        )
        user = student(license_number="MA1234", license_state="FL")
        complete_course(user.id, course)
        certificate = db.session.get(Certificate, certificate_of(user.id).id)
        certificate.data = {k: v for k, v in certificate.data.items() if k != "license_profession"}
        db.session.get(License, certificate.license_id).profession = "physical_therapist"
        db.session.commit()
        issue_certificate.apply(args=(certificate.enrollment_id,))
        report = report_of(certificate.id)
        assert report.status == "accepted" and report.sent["profession_code"] == "MA"
    assert len(fake_cebroker.attendees()) == 1


def test_a_reissue_while_the_report_is_on_its_way_still_corrects_the_board(
    app, fake_cebroker, monkeypatch
):
    # The worker had sent the first number when the reissue with the right one committed;
    # CE Broker's acceptance came after. The board holds the hours under the mistyped number,
    # so the correction must follow that answer.
    from campus.reporting import sending
    from campus.reporting.cebroker import CEBrokerAdapter
    from campus.reporting.tasks import send_report

    app.config["CEBROKER_PROVIDER_ID"] = None
    c = completion(app, "fl-inflight", license_number="MA1234")
    configure(app, fake_cebroker)
    submit = CEBrokerAdapter.submit

    def reissued_meanwhile(adapter, completion_sent):
        if completion_sent.license_number == "MA1234":
            _reissue(c, "MA12345")  # committed while the request is out, as by another process
        return submit(adapter, completion_sent)

    monkeypatch.setattr(CEBrokerAdapter, "submit", reissued_meanwhile)
    with app.app_context():
        report = report_of(c.certificate_id)
        assert report.status == "not_configured"
        report.status = "pending"
        db.session.commit()
        report_id = report.id
    with app.app_context():
        send_report.apply(args=(report_id,))
    with app.app_context():
        report = report_of(c.certificate_id)
        assert report.status == "accepted"
        assert report.sent["license_number"] == "MA12345"
        assert sending.adapter("cebroker").configured()
    assert [a.findtext("license") for a in fake_cebroker.attendees()] == ["MA1234", "MA12345"]


def test_a_resend_under_a_license_of_a_profession_the_course_is_not_for_is_not_sent(
    app, fake_cebroker
):
    # Refused under a mistyped number, the member "corrected" the license by making it a
    # physical therapist's; the massage course is not approved for that board, so a resend
    # must not tell it of the course, as queueing would not have at issue.
    from campus.licenses.models import License
    from campus.reporting import actions
    from tests.certificates.helpers import certificate_of

    configure(app, fake_cebroker)
    c = completion(app, "fl-resend", license_number="REJ1234")
    with app.app_context():
        assert report_of(c.certificate_id).status == "rejected"
        license = db.session.get(License, certificate_of(c.user_id).license_id)
        license.profession, license.number = "physical_therapist", "PT1234"
        db.session.commit()
        actions.resend(report_of(c.certificate_id).id, actor=None)
        db.session.commit()
    with app.app_context():
        report = report_of(c.certificate_id)
        assert report.status == "rejected" and "not approved" in report.reason
    assert [a.findtext("license") for a in fake_cebroker.attendees()] == ["REJ1234"]

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


def test_a_corrected_license_number_makes_the_record_under_the_old_one_due_for_withdrawal(
    app, fake_cebroker
):
    # Accepted under a mistyped number, then corrected: CE Broker now holds the hours twice,
    # once on the member's license and once on the mistyped one (someone else's, or no one's).
    # The one under the old number is due to be withdrawn, listed and logged as revoked ones are.
    from sqlalchemy import select

    from campus.audit import AuditEntry
    from campus.reporting import actions, reading
    from campus.reporting.models import ReportedCompletion, withdrawal_due_clause

    configure(app, fake_cebroker)
    c = completion(app, "fl-corrected", license_number="MA1234")
    _reissue_with_number(app, c, "MA12345")
    assert [a.findtext("license") for a in fake_cebroker.attendees()] == ["MA1234", "MA12345"]
    with app.app_context():
        report = report_of(c.certificate_id)
        assert report.status == "accepted" and report.sent["license_number"] == "MA12345"
        assert report.withdrawal_due and not report.withdrawal_pending
        assert [held["sent"]["license_number"] for held in report.superseded] == ["MA1234"]
        due = db.session.scalars(select(ReportedCompletion.id).where(withdrawal_due_clause()))
        assert report.id in due.all()
        corrected = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "correct"))
        assert "MA1234" in corrected.summary and "withdrawal" in corrected.summary
        assert corrected.after["superseded_due_at"] and not corrected.before["superseded_due_at"]

        actions.mark_withdrawn(report.id, actor=None)
        db.session.commit()
        report = report_of(c.certificate_id)
        assert not report.withdrawal_due and report.withdrawn_at is None
        assert report.superseded[0]["withdrawn_at"]
        due = db.session.scalars(select(ReportedCompletion.id).where(withdrawal_due_clause()))
        assert report.id not in due.all()
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "withdrawn"))
        assert "MA1234" in entry.summary
        assert entry.before["superseded_due_at"] and not entry.after["superseded_due_at"]
        # The record under the right number stands: the member reads it as accepted.
        assert reading.member_status(report) == "Reported to CE Broker — accepted"


def test_a_correction_back_to_the_number_first_accepted_needs_no_withdrawal(app, fake_cebroker):
    # Corrected to a wrong number (not sent: the settings were gone), then back: the resend
    # gets "duplicate" for the first record, which is right, so nothing is to be withdrawn.
    from campus.reporting import actions

    configure(app, fake_cebroker)
    c = completion(app, "fl-back", license_number="MA1234")
    app.config["CEBROKER_UPLOAD_KEY"] = None
    _reissue_with_number(app, c, "MA9999")
    with app.app_context():
        report = report_of(c.certificate_id)
        assert report.status == "not_configured" and report.withdrawal_due
    configure(app, fake_cebroker)
    _reissue_with_number(app, c, "MA1234")
    with app.app_context():
        actions.resend(report_of(c.certificate_id).id, actor=None)
        db.session.commit()
    with app.app_context():
        report = report_of(c.certificate_id)
        assert report.status == "accepted" and report.sent["license_number"] == "MA1234"
        assert not report.withdrawal_due
    assert [a.findtext("license") for a in fake_cebroker.attendees()] == ["MA1234", "MA1234"]


def test_the_admin_lists_a_record_under_a_corrected_number_as_due_and_marks_it(
    app, client, fake_cebroker
):
    from tests.admin import helpers as admin
    from tests.admin.test_billing import _filter_arg

    configure(app, fake_cebroker)
    c = completion(app, "fl-admin", license_number="MA1234")
    _reissue_with_number(app, c, "MA12345")
    with app.app_context():
        report = report_of(c.certificate_id)
        report_id, code = report.id, report.certificate.code
    admin.sign_in_admin(app, client)
    arg = _filter_arg(app, "admin_reports", "Withdrawal")
    html = client.get(f"/admin/reports/?{arg}=due").get_data(as_text=True)
    assert code in html and "withdrawal due under MA1234" in html
    details = client.get(f"/admin/reports/details/?id={report_id}")
    assert details.status_code == 200 and "MA1234" in details.get_data(as_text=True)
    response = admin.post(
        client,
        "/admin/reports/action/",
        {"action": "withdrawn", "rowid": [str(report_id)]},
        follow_redirects=True,
    )
    assert any("1 completion marked withdrawn" in m for m in admin.flashes(response))
    html = client.get(f"/admin/reports/?{arg}=due").get_data(as_text=True)
    assert code not in html

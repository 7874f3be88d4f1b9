"""A reissue whose license moved to another state: the old board withdraws, the new one is told."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from campus.extensions import db
from tests import support
from tests.reporting.helpers import completion, configure, report_of, reports_of


@pytest.fixture
def georgia_on_cebroker(monkeypatch):
    """Georgia's boards take completions through CE Broker too, for one test."""
    from campus.reporting import systems

    real = systems.all_systems()["cebroker"]
    georgia = systems.Jurisdiction(
        code="GA",
        name="Georgia",
        source="test",
        professions=dict(real.jurisdictions["FL"].professions),
    )
    both = systems.TrackingSystem(
        key="cebroker", name=real.name, jurisdictions={**real.jurisdictions, "GA": georgia}
    )
    monkeypatch.setattr(systems, "all_systems", lambda: {"cebroker": both})


def _move_and_reissue(app, c, state: str, number: str | None = None) -> None:
    """The member's license moves to `state`; an admin reissues the certificate for it."""
    from campus.certificates import actions
    from campus.licenses.models import License
    from tests.certificates.helpers import certificate_of

    with app.app_context():
        certificate = certificate_of(c.user_id)
        license = db.session.get(License, certificate.license_id)
        license.jurisdiction = state
        if number:
            license.number = number
        db.session.commit()
        actions.reissue(certificate.code, f"License moved to {state}", actor=None)
        db.session.commit()


def _audit_entries():
    from campus.audit import AuditEntry

    return db.session.scalars(
        select(AuditEntry).where(AuditEntry.object_type == "ReportedCompletion")
    ).all()


def test_a_license_moved_out_of_a_reporting_state_is_due_for_withdrawal_there(
    app, client, fake_cebroker
):
    # Florida's board accepted the hours; the certificate now names a Georgia license: Florida
    # holds a completion that is no longer its licensee's, and nothing is sent to it again.
    from campus.reporting import actions, reading, services
    from campus.reporting.services import ReportingError

    configure(app, fake_cebroker)
    c = completion(app, "fl-moving")
    _move_and_reissue(app, c, "GA", "GA-778")
    with app.app_context():
        report = report_of(c.certificate_id)
        assert report.jurisdiction == "FL" and report.status == "accepted"
        assert report.withdrawal_pending and report.withdrawn_at is None
        [entry] = _audit_entries()
        assert "FL" in entry.summary and "GA" in entry.summary
        with pytest.raises(ReportingError):
            actions.resend(report.id, actor=None)
        db.session.rollback()
        today = date.today()
        _roster, count = reading.roster("cebroker", date(today.year - 1, 1, 1), today)
        assert count == 0  # Florida's roster no longer lists it
        services.mark_withdrawn(report_of(c.certificate_id))
        db.session.commit()
    assert len(fake_cebroker.messages) == 1  # the Georgia license never went to Florida
    support.login(client, c.email)
    html = client.get("/certificates/").get_data(as_text=True)
    assert "another state" in html


def test_a_pending_report_of_a_moved_license_is_not_sent_to_the_old_board(app, fake_cebroker):
    c = completion(app, "fl-moving-unsent")  # not configured: nothing reached Florida
    configure(app, fake_cebroker)
    _move_and_reissue(app, c, "GA")
    with app.app_context():
        report = report_of(c.certificate_id)
        assert report.status in ("not_configured", "cancelled")
        assert not report.withdrawal_pending
        from campus.reporting import actions
        from campus.reporting.services import ReportingError

        with pytest.raises(ReportingError):
            actions.resend(report.id, actor=None)
    assert fake_cebroker.messages == []


def test_a_license_moved_between_reporting_states_reaches_the_new_board(
    app, fake_cebroker, georgia_on_cebroker
):
    configure(app, fake_cebroker)
    c = completion(app, "fl-to-ga")
    _move_and_reissue(app, c, "GA", "GA-778")
    with app.app_context():
        reports = {r.jurisdiction: r for r in reports_of(c.certificate_id)}
        assert set(reports) == {"FL", "GA"}
        assert reports["FL"].withdrawal_pending and reports["FL"].sent["jurisdiction"] == "FL"
        assert reports["GA"].status == "accepted" and not reports["GA"].withdrawal_pending
        assert reports["GA"].sent["jurisdiction"] == "GA"
        assert reports["GA"].sent["license_number"] == "GA-778"
        [entry] = _audit_entries()  # one change, both boards
        assert "FL" in entry.summary and "GA" in entry.summary
    assert len(fake_cebroker.messages) == 2


def test_a_license_moved_back_stands_again_with_its_first_board(
    app, fake_cebroker, georgia_on_cebroker
):
    configure(app, fake_cebroker)
    c = completion(app, "fl-and-back")
    _move_and_reissue(app, c, "GA", "GA-778")
    _move_and_reissue(app, c, "FL", "MA12345")
    with app.app_context():
        reports = {r.jurisdiction: r for r in reports_of(c.certificate_id)}
        assert reports["FL"].status == "accepted" and not reports["FL"].withdrawal_pending
        assert reports["GA"].withdrawal_pending
    assert len(fake_cebroker.messages) == 2  # Florida still held it: nothing sent again


def test_the_admin_sees_the_moved_report_due_for_withdrawal(app, client, fake_cebroker):
    from tests.admin import helpers as admin

    configure(app, fake_cebroker)
    c = completion(app, "fl-moving-admin")
    _move_and_reissue(app, c, "GA")
    with app.app_context():
        report_id = report_of(c.certificate_id).id
    admin.sign_in_admin(app, client)
    html = client.get(f"/admin/reports/details/?id={report_id}").get_data(as_text=True)
    assert "license moved" in html and "withdrawal due" in html


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_migration_keeps_one_report_per_board_and_back(tmp_path, backend):
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    from tests.reporting.helpers import insert_old_reports
    from tests.scratch import migrating

    with migrating(backend, tmp_path):
        upgrade(revision="0027_practical_video_removed")
        with db.engine.begin() as conn:
            insert_old_reports(conn, [{"id": 1}])
        upgrade(revision="0028_reports_moved")
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE reported_completions SET moved_at = created_at"))
            conn.execute(
                text(
                    "INSERT INTO reported_completions (certificate_id, system, jurisdiction, "
                    "status, attempts, created_at, updated_at) VALUES (1, 'cebroker', 'GA', "
                    "'pending', 0, '2026-11-02 10:00:00', '2026-11-02 10:00:00')"
                )
            )
        downgrade(revision="0027_practical_video_removed")
        with db.engine.connect() as conn:
            left = conn.execute(text("SELECT jurisdiction FROM reported_completions")).all()
        assert [row[0] for row in left] == ["GA"]


def test_a_license_edited_to_another_state_before_a_reissue_sends_the_printed_license(app):
    # The member changes their license to Georgia; no reissue yet, so the certificate still
    # names the Florida license. Florida's board must get that one, never the Georgia number.
    from campus.licenses.models import License
    from campus.reporting import services
    from tests.certificates.helpers import certificate_of

    c = completion(app, "fl-edited", license_number="MA12345")
    with app.app_context():
        license = db.session.get(License, certificate_of(c.user_id).license_id)
        license.jurisdiction, license.number = "GA", "GA-778"
        db.session.commit()
        sent = services.completion_of(report_of(c.certificate_id))
        assert (sent.jurisdiction, sent.license_number) == ("FL", "MA12345")


def test_a_license_edited_to_another_state_stays_with_the_printed_board_until_a_reissue(
    app, fake_cebroker
):
    # The member edits the license's state, and the issuing task runs again (a redelivered
    # message) with no reissue: each certificate still prints the license it was issued for.
    # Florida's board was told of a Maine licensee's course, and Florida's report of the other
    # was listed for withdrawal, though its certificate still names the Florida license.
    from campus.certificates.tasks import issue_certificate
    from campus.licenses.models import License
    from tests.certificates.helpers import certificate_of

    configure(app, fake_cebroker)
    to_florida = completion(app, "me-course", license_number="MT-1", state="ME")
    to_maine = completion(app, "fl-course", license_number="MA1234", state="FL")
    with app.app_context():
        for c, state, number in ((to_florida, "FL", "MA55555"), (to_maine, "ME", "MT-2")):
            certificate = certificate_of(c.user_id)
            license = db.session.get(License, certificate.license_id)
            license.jurisdiction, license.number = state, number
            db.session.commit()
            issue_certificate.apply(args=(certificate.enrollment_id,))
        assert reports_of(to_florida.certificate_id) == []
        report = report_of(to_maine.certificate_id)
        assert report.moved_at is None and report.withdrawal_due_at is None
        assert not report.withdrawal_pending and report.status == "accepted"
    assert [a.findtext("license") for a in fake_cebroker.attendees()] == ["MA1234"]


def test_a_report_resent_after_its_license_was_removed_keeps_the_licenses_profession(
    app, fake_cebroker
):
    # A massage therapist earns a course for their Florida physical therapy license; CE Broker
    # is set up only later, by which time that license was removed from the account.
    from campus.accounts.models import User
    from campus.licenses import actions as licenses
    from campus.reporting import actions as reporting
    from tests.certificates.helpers import certificate_of, complete_course, student
    from tests.reporting.helpers import course_with_number

    with app.app_context():
        course = course_with_number("fl-pt", professions=("physical_therapist",))
        user = student(license_number=None, license_state=None, profession="massage_therapist")
        licenses.add_license(
            user,
            profession="physical_therapist",
            jurisdiction="FL",
            number="PT12345",
            expires_on=None,
        )
        db.session.commit()
        complete_course(user.id, course)
        certificate = certificate_of(user.id)
        assert certificate.data["license_number"] == "PT12345"
        report = report_of(certificate.id)
        assert report.status == "not_configured"
        licenses.remove_license(db.session.get(User, user.id), certificate.license_id)
        db.session.commit()
        configure(app, fake_cebroker)
        reporting.resend(report.id, actor=None)
        db.session.commit()
        report = report_of(certificate.id)
        assert report.status == "accepted"
        assert (report.sent["license_number"], report.sent["profession_code"]) == ("PT12345", "PT")
        # A later reissue (a name corrected) keeps the removed license: no "correction" is due.
        from campus.certificates import actions as certificates

        certificates.reissue(certificate.code, "Name corrected", actor=None)
        db.session.commit()
        assert report_of(certificate.id).status == "accepted"
    [attendee] = fake_cebroker.attendees()
    assert attendee.findtext("licensee_profession") == "PT"


def test_a_stalled_send_to_the_board_a_license_left_is_not_redone(app, fake_cebroker):
    # A worker died mid-send; the license then moved to Maine and the certificate was
    # reissued for it. The send's message, redelivered, must not reach Florida's board again,
    # least of all with the Maine number.
    from datetime import timedelta

    from campus.models.base import utcnow
    from campus.reporting.tasks import send_report

    c = completion(app, "fl-stalled")
    configure(app, fake_cebroker)
    with app.app_context():
        report = report_of(c.certificate_id)
        report.status, report.sent_at = "sent", utcnow() - timedelta(hours=1)
        db.session.commit()
        report_id = report.id
    _move_and_reissue(app, c, "ME", "MT-004512")
    with app.app_context():
        send_report.apply(args=(report_id,))
        report = report_of(c.certificate_id)
        assert report.status == "sent" and report.moved_at and report.withdrawal_pending
    assert fake_cebroker.messages == []

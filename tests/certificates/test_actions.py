"""Revoking and reissuing from the CLI are audited by the certificates' own actions."""

from __future__ import annotations

from sqlalchemy import select

from campus.audit import AuditEntry
from campus.extensions import db
from tests.certificates.helpers import code_of, completed_student


def _entries(app) -> list[AuditEntry]:
    """The log's entries but the student's own study steps (filed under the enrollment)."""
    with app.app_context():
        rows = db.session.scalars(
            select(AuditEntry).where(AuditEntry.object_type != "Enrollment").order_by(AuditEntry.id)
        ).all()
        db.session.expunge_all()
        return list(rows)


def test_cli_revoke_and_reissue_leave_operator_audit_entries(app):
    done = completed_student(app)
    code = code_of(app, done.user_id)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["certificates", "reissue", code, "--reason", "Name misspelled"])
    assert result.exit_code == 0, result.output
    new_code = code_of(app, done.user_id)
    result = runner.invoke(args=["certificates", "revoke", new_code, "--reason", "Fraud"])
    assert result.exit_code == 0, result.output
    reissue, revoke = _entries(app)
    assert (reissue.action, reissue.object_type) == ("reissue", "Certificate")
    assert reissue.summary == f"cli: {code}: reissue (Name misspelled)"
    assert reissue.before["code"] == code and reissue.after["code"] == new_code
    assert "data" not in reissue.after  # the frozen text stays with the certificate
    assert revoke.summary == f"cli: {new_code}: revoke (Fraud)"
    assert revoke.before["status"] == "issued" and revoke.after["status"] == "revoked"
    assert reissue.actor_id is None and revoke.actor_email == "system"


def test_a_refused_revoke_logs_nothing(app):
    done = completed_student(app)
    code = code_of(app, done.user_id)
    result = app.test_cli_runner().invoke(args=["certificates", "revoke", code, "--reason", " "])
    assert result.exit_code != 0 and "Give a reason" in result.output
    assert _entries(app) == []


def test_revoking_emails_the_member_once_with_the_reason(app):
    from tests import support

    done = completed_student(app)
    code = code_of(app, done.user_id)
    runner = app.test_cli_runner()
    reason = "Attendance could not be confirmed"
    assert runner.invoke(args=["certificates", "revoke", code, "--reason", reason]).exit_code == 0
    # Revoking again is refused and sends nothing more.
    assert runner.invoke(args=["certificates", "revoke", code, "--reason", reason]).exit_code != 0
    revoked = [
        m for m in support.outbox(app) if m["Subject"] == "Your certificate has been revoked"
    ]
    assert len(revoked) == 1 and revoked[0]["To"] == done.email
    body = support.body_of(revoked[0])
    assert f"Reason: {reason}" in body and code in body


def test_a_reissue_after_the_course_left_the_catalog_prints_the_corrected_name(app):
    # Correcting who the certificate is for is what a reissue is for, course or no course.
    from campus.accounts.models import User
    from campus.certificates import actions
    from campus.extensions import db
    from tests.certificates.helpers import certificate_of, complete_course, student
    from tests.learning.helpers import make_course

    with app.app_context():
        course = make_course("gone-course", ce_hours="2")
        user = student(full_name="Jordan Smtih")
        complete_course(user.id, course)
        certificate = certificate_of(user.id)
        title = certificate.data["course_title"]
        # As deleting the course leaves it: no course, no enrollment.
        certificate.course_id = certificate.enrollment_id = None
        db.session.get(User, user.id).full_name = "Jordan Smith"
        db.session.commit()
        actions.reissue(certificate.code, "Name misspelled", actor=None)
        db.session.commit()
        certificate = certificate_of(user.id)
        assert certificate.status == "issued"
        assert certificate.data["participant_name"] == "Jordan Smith"
        assert certificate.data["course_title"] == title  # what was earned stays as printed


def test_a_reissue_prints_the_license_added_after_a_certificate_issued_without_one(app):
    # Issued before the member had put their license on file: the board needs it printed,
    # and reporting to the state's tracking system needs it too.
    from sqlalchemy import select

    from campus.certificates import actions
    from campus.extensions import db
    from campus.reporting.models import ReportedCompletion
    from tests.certificates.helpers import certificate_of, complete_course, student
    from tests.learning.helpers import make_course
    from tests.licenses.helpers import add_license

    with app.app_context():
        course = make_course("no-license-yet", ce_hours="2")
        user = student(license_number=None, license_state=None)
        complete_course(user.id, course)
        certificate = certificate_of(user.id)
        assert certificate.license_id is None and certificate.data["license_number"] == ""
        license = add_license(user.id, "FL", "MA12345")
        actions.reissue(certificate.code, "License number missing", actor=None)
        db.session.commit()
        certificate = certificate_of(user.id)
        assert certificate.status == "issued"
        assert certificate.license_id == license.id
        assert (certificate.data["license_number"], certificate.data["license_state"]) == (
            "MA12345",
            "FL",
        )
        reports = db.session.scalars(select(ReportedCompletion)).all()
        assert [r.jurisdiction for r in reports] == ["FL"]


def test_a_reissue_picks_the_license_by_the_day_the_certificate_prints(app, pacific):
    # Completed on January 1, 2027 while the calendar was UTC: the Texas approval had lapsed
    # the day before, so of the licenses added since, only the Florida one fits the day the
    # certificate prints. Read on today's Pacific calendar the moment is December 31, when
    # both fitted, and the first license added (Texas) would have been named.
    from datetime import UTC, date, datetime

    import time_machine
    from sqlalchemy import delete

    from campus.certificates import actions
    from campus.learning.models import BoardApproval
    from tests.certificates.helpers import certificate_of, complete_course, student
    from tests.learning.helpers import make_course
    from tests.licenses.helpers import add_license, import_shipped_rules

    with app.app_context():
        import_shipped_rules()
        course = make_course("lapsed-in-texas", ce_hours="2")
        db.session.execute(delete(BoardApproval).where(BoardApproval.course_id == course.id))
        db.session.add_all(
            [
                BoardApproval(
                    course_id=course.id, board=board, approval_number="CE-1", valid_until=until
                )
                for board, until in (("TX", date(2026, 12, 31)), ("FL", date(2027, 12, 31)))
            ]
        )
        db.session.commit()
        user = student(license_number=None, license_state=None)
        app.config["TIME_ZONE"] = "UTC"
        with time_machine.travel(datetime(2027, 1, 1, 7, 30, tzinfo=UTC), tick=False):
            complete_course(user.id, course)
        app.config["TIME_ZONE"] = "America/Los_Angeles"
        certificate = certificate_of(user.id)
        assert certificate.data["completion_date"] == "2027-01-01"
        assert certificate.data["license_number"] == ""
        add_license(user.id, "TX", "MT-77")
        florida = add_license(user.id, "FL", "MA12345")
        actions.reissue(certificate.code, "License number missing", actor=None)
        db.session.commit()
        certificate = certificate_of(user.id)
        assert certificate.license_id == florida.id
        assert certificate.data["license_number"] == "MA12345"


def test_a_reissue_keeps_the_provider_and_signatory_printed_at_completion(app):
    # The board reads who vouched for the hours when they were earned; a later change of
    # provider details or signatory must not rewrite an old certificate corrected for a name.
    from campus.accounts.models import User
    from campus.certificates import actions
    from campus.extensions import db
    from tests.certificates.helpers import certificate_of, complete_course, student
    from tests.learning.helpers import make_course

    with app.app_context():
        course = make_course("signed-then", ce_hours="2")
        user = student(full_name="Jordan Smtih")
        complete_course(user.id, course)
        printed = dict(certificate_of(user.id).data)
        app.config.update(
            PROVIDER_NAME="New Provider LLC",
            PROVIDER_ADDRESS="1 New Street",
            PROVIDER_EMAIL="new@example.org",
            CERTIFICATE_SIGNATORY_NAME="Someone Else",
            CERTIFICATE_SIGNATORY_TITLE="New Director",
        )
        db.session.get(User, user.id).full_name = "Jordan Smith"
        db.session.commit()
        actions.reissue(certificate_of(user.id).code, "Name misspelled", actor=None)
        db.session.commit()
        data = certificate_of(user.id).data
        assert data["participant_name"] == "Jordan Smith"
        for key in (
            "provider_name",
            "provider_address",
            "provider_email",
            "signatory_name",
            "signatory_title",
        ):
            assert data[key] == printed[key], key


def test_a_reissue_keeps_in_the_certificates_history_what_it_printed_before(app, client):
    # The PDF under the old code is deleted and the frozen data replaced: without this, nothing
    # would say which name and license number the board was shown before the correction.
    from campus.accounts.models import User
    from campus.certificates import actions
    from campus.extensions import db
    from tests.admin import helpers
    from tests.certificates.helpers import certificate_of, completed_student

    done = completed_student(app, "renamed", full_name="Jordan Smtih")
    with app.app_context():
        code = certificate_of(done.user_id).code
        db.session.get(User, done.user_id).full_name = "Jordan Smith"
        db.session.commit()
        actions.reissue(code, "Name misspelled", actor=None)
        db.session.commit()
        certificate = certificate_of(done.user_id)
        (event,) = [e for e in certificate.events if e.kind == "reissued"]
        assert "Jordan Smtih" in event.detail and "Jordan Smith" in event.detail
        assert "MT-004512" not in event.detail  # only what changed
        certificate_id = certificate.id
    helpers.sign_in_admin(app, client)
    page = client.get(f"/admin/certificates/details/?id={certificate_id}").get_data(as_text=True)
    assert "Jordan Smtih" in page


def test_a_reissues_audit_entry_shows_what_it_printed_before_and_after(app):
    # The entry kept the columns only: an auditor reading the log could not tell which name
    # (or license) the certificate printed before the correction and which it prints now.
    from campus.accounts.models import User
    from campus.certificates import actions
    from tests.certificates.helpers import certificate_of

    done = completed_student(app, "renamed", full_name="Jordan Smtih")
    with app.app_context():
        code = certificate_of(done.user_id).code
        db.session.get(User, done.user_id).full_name = "Jordan Smith"
        db.session.commit()
        actions.reissue(code, "Name misspelled", actor=None)
        db.session.commit()
        new_code = certificate_of(done.user_id).code
    (entry,) = [e for e in _entries(app) if e.action == "reissue"]
    before, after = entry.before["printed"], entry.after["printed"]
    assert before["participant_name"] == "Jordan Smtih"
    assert after["participant_name"] == "Jordan Smith"
    assert (before["code"], after["code"]) == (code, new_code)
    # Only what changed: the course, hours and license printed the same.
    for unchanged in ("course_title", "ce_hours", "license_number", "completion_date"):
        assert unchanged not in before and unchanged not in after
    assert set(before) == set(after)

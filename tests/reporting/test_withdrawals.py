"""A certificate revoked after a board received it: the report is due to be withdrawn, and shown."""

from __future__ import annotations

import pytest

from campus.extensions import db
from tests import support
from tests.admin import helpers as admin
from tests.reporting.helpers import completion, configure, insert_old_reports, report_of
from tests.scratch import migrating


def _revoke(app, code: str) -> None:
    from campus.certificates import actions

    with app.app_context():
        actions.revoke(code, "Quiz answers shared", actor=None)
        db.session.commit()


def test_revoking_a_reported_certificate_makes_its_withdrawal_due(app, client, fake_cebroker):
    configure(app, fake_cebroker)
    c = completion(app)
    _revoke(app, c.code)
    with app.app_context():
        report = report_of(c.certificate_id)
        assert report.status == "accepted" and report.withdrawal_due_at is not None
        assert report.withdrawn_at is None
    assert len(fake_cebroker.messages) == 1  # nothing more is sent: withdrawal is by hand
    support.login(client, c.email)
    html = client.get("/certificates/").get_data(as_text=True)
    assert "revoked after CE Broker accepted it" in html and "withdraws" in html
    assert "cert-report-withdrawal" in html  # plain text, not the green of an acceptance


def test_a_report_never_accepted_needs_no_withdrawal(app, fake_cebroker):
    configure(app, fake_cebroker)
    rejected = completion(app, "fl-r", license_number="REJ5")
    unconfigured = completion(app, "fl-u")
    with app.app_context():
        report = report_of(unconfigured.certificate_id)
        # As if never sent: the fake's receipt would say the board holds it.
        report.status, report.reason, report.reference = "not_configured", "no settings", None
        db.session.commit()
    _revoke(app, rejected.code)
    _revoke(app, unconfigured.code)
    with app.app_context():
        for c in (rejected, unconfigured):
            report = report_of(c.certificate_id)
            # Flagged (a send racing the revocation would still be caught), but not due.
            assert report.withdrawal_due_at is not None and not report.withdrawal_pending


@pytest.mark.parametrize("status", ["not_configured", "failed", "rejected"])
def test_a_revoked_certificate_never_reported_says_so_to_its_member(app, client, status):
    # It read "we report it with our roster" (or "we send it again", or the board's reason to
    # put right), though a revoked completion is neither resent nor in the roster.
    c = completion(app, f"fl-{status}")
    with app.app_context():
        report = report_of(c.certificate_id)
        report.status, report.reason = status, "Unknown license number"
        db.session.commit()
    _revoke(app, c.code)
    support.login(client, c.email)
    html = client.get("/certificates/").get_data(as_text=True)
    assert "Not reported to CE Broker: the certificate was revoked." in html
    assert f"cert-report-{status}" not in html and "cert-report-cancelled" in html
    assert "roster" not in html and "again" not in html and "Unknown license" not in html


def test_the_admin_lists_due_withdrawals_and_marks_one_done_audited(app, client, fake_cebroker):
    configure(app, fake_cebroker)
    revoked = completion(app, "fl-a")
    kept = completion(app, "fl-b")
    _revoke(app, revoked.code)
    with app.app_context():
        report_id = report_of(revoked.certificate_id).id
        kept_id = report_of(kept.certificate_id).id
    admin.sign_in_admin(app, client)
    from tests.admin.test_billing import _filter_arg

    arg = _filter_arg(app, "admin_reports", "Withdrawal")
    html = client.get(f"/admin/reports/?{arg}=due").get_data(as_text=True)
    assert revoked.code in html and kept.code not in html
    assert "withdrawal due" in html
    response = admin.post(
        client,
        "/admin/reports/action/",
        {"action": "withdrawn", "rowid": [str(report_id), str(kept_id)]},
        follow_redirects=True,
    )
    messages = admin.flashes(response)
    assert any("1 completion marked withdrawn" in m for m in messages)
    assert any("was not revoked, nor moved to another state" in m for m in messages)
    with app.app_context():
        assert report_of(revoked.certificate_id).withdrawn_at is not None
        assert report_of(kept.certificate_id).withdrawn_at is None
    [entry] = admin.audit_entries(app, action="withdrawn")
    assert entry.object_type == "ReportedCompletion" and revoked.code in entry.summary
    html = client.get(f"/admin/reports/?{arg}=due").get_data(as_text=True)
    assert revoked.code not in html
    member = app.test_client()
    support.login(member, revoked.email)
    assert "withdrawn from CE Broker" in member.get("/certificates/").get_data(as_text=True)


def test_marking_withdrawn_needs_a_fresh_password(app, client, fake_cebroker):
    configure(app, fake_cebroker)
    c = completion(app)
    _revoke(app, c.code)
    with app.app_context():
        report_id = report_of(c.certificate_id).id
    admin.sign_in_admin(app, client, fresh=False)
    response = admin.post(
        client, "/admin/reports/action/", {"action": "withdrawn", "rowid": [str(report_id)]}
    )
    assert response.status_code == 302 and "/admin/confirm/" in response.headers["Location"]
    with app.app_context():
        assert report_of(c.certificate_id).withdrawn_at is None


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_migration_flags_reports_of_certificates_revoked_before_it(tmp_path, backend):
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    with migrating(backend, tmp_path):
        upgrade(revision="0020_totp_sealed")
        with db.engine.begin() as conn:
            insert_old_reports(
                conn,
                [
                    {"id": 1, "certificate_status": "revoked", "revoked_at": "2026-11-20 09:00:00"},
                    {"id": 2},
                ],
            )
        upgrade(revision="0021_report_withdrawals")
        with db.engine.connect() as conn:
            due = dict(
                conn.execute(
                    text("SELECT certificate_id, withdrawal_due_at FROM reported_completions")
                ).all()
            )
        assert due[2] is None and str(due[1]).startswith("2026-11-20 09:00:00")
        downgrade(revision="0020_totp_sealed")


def _stalled_send(app, fake_cebroker):
    """A reported completion whose send has had no answer for an hour; (completion, report id)."""
    from datetime import timedelta

    from campus.models.base import utcnow

    c = completion(app)
    configure(app, fake_cebroker)
    with app.app_context():
        report = report_of(c.certificate_id)
        # A worker died mid-request an hour ago: CE Broker may or may not have the completion.
        report.status, report.sent_at = "sent", utcnow() - timedelta(hours=1)
        db.session.commit()
        return c, report.id


def test_a_stalled_send_of_a_revoked_certificate_is_not_redone_and_is_due(app, fake_cebroker):
    from campus.reporting.tasks import send_report

    c, report_id = _stalled_send(app, fake_cebroker)
    _revoke(app, c.code)
    with app.app_context():
        send_report.apply(args=(report_id,))
        report = report_of(c.certificate_id)
        assert report.status == "sent" and report.withdrawal_pending
    assert fake_cebroker.messages == []


def test_a_reissue_after_a_withdrawal_reports_the_completion_again(app, client, fake_cebroker):
    from campus.certificates import actions

    configure(app, fake_cebroker)
    c = completion(app)
    _revoke(app, c.code)
    with app.app_context():
        from campus.reporting import services

        services.mark_withdrawn(report_of(c.certificate_id))
        db.session.commit()
        actions.reissue(c.code, "Revoked by mistake", actor=None)
        db.session.commit()
        report = report_of(c.certificate_id)
        assert (report.status, report.withdrawal_due_at, report.withdrawn_at) == (
            "accepted",
            None,
            None,
        )
    assert len(fake_cebroker.messages) == 2  # sent again: the board had lost it


def test_a_reissue_before_any_withdrawal_clears_the_flag_and_sends_nothing(app, fake_cebroker):
    from campus.certificates import actions

    configure(app, fake_cebroker)
    c = completion(app)
    _revoke(app, c.code)
    with app.app_context():
        actions.reissue(c.code, "Revoked by mistake", actor=None)
        db.session.commit()
        report = report_of(c.certificate_id)
        assert report.status == "accepted" and report.withdrawal_due_at is None
        assert not report.withdrawal_pending
    assert len(fake_cebroker.messages) == 1
    _revoke(app, report_of_code(app, c.certificate_id))
    with app.app_context():
        assert report_of(c.certificate_id).withdrawal_pending  # a second revocation counts too


def report_of_code(app, certificate_id: int) -> str:
    from campus.certificates.models import Certificate

    with app.app_context():
        return db.session.get(Certificate, certificate_id).code


def test_a_stalled_send_waiting_for_its_withdrawal_is_left_out_of_the_sweep(app, fake_cebroker):
    # It is never sent again while revoked: queued every quarter hour, it only made noise.
    from campus.reporting.sending import sweep_candidates

    c, report_id = _stalled_send(app, fake_cebroker)
    with app.app_context():
        assert sweep_candidates() == [report_id]
    _revoke(app, c.code)
    with app.app_context():
        assert sweep_candidates() == []


def test_the_issuing_task_run_again_for_a_revoked_certificate_keeps_the_withdrawal_due(
    app, fake_cebroker
):
    # A redelivery or the sweep runs it again: nothing is issued, so nothing is restored.
    configure(app, fake_cebroker)
    c = completion(app)  # issued, reported and accepted
    _revoke(app, c.code)
    with app.app_context():
        from campus.certificates.models import Certificate
        from campus.certificates.tasks import issue_certificate

        assert report_of(c.certificate_id).withdrawal_pending
        enrollment_id = db.session.get(Certificate, c.certificate_id).enrollment_id
        assert issue_certificate.apply(args=(enrollment_id,)).get() == "unchanged"
        assert report_of(c.certificate_id).withdrawal_pending


def test_a_cancelled_reports_reason_dates_the_revocation_on_the_providers_calendar(
    app, pacific, fake_cebroker
):
    from datetime import UTC, datetime

    import time_machine

    from campus.certificates import actions
    from campus.reporting.tasks import send_report

    c = completion(app)
    with app.app_context():
        report = report_of(c.certificate_id)
        report.status = "pending"  # still waiting for the worker
        db.session.commit()
        report_id = report.id
        # 9 pm on March 5 in California, already March 6 in UTC.
        with time_machine.travel(datetime(2026, 3, 6, 5, 0, tzinfo=UTC), tick=False):
            actions.revoke(c.code, "Quiz answers shared", actor=None)
            db.session.commit()
        configure(app, fake_cebroker)
        assert send_report.apply(args=(report_id,)).get() == "cancelled"
        db.session.expire_all()
        assert "revoked on 2026-03-05" in report_of(c.certificate_id).reason


def test_a_reissue_after_the_course_left_the_catalog_clears_the_withdrawal(app, fake_cebroker):
    from campus.certificates import actions
    from tests.certificates.helpers import certificate_of

    configure(app, fake_cebroker)
    c = completion(app)
    _revoke(app, c.code)
    with app.app_context():
        assert report_of(c.certificate_id).withdrawal_due_at is not None
        certificate = certificate_of(c.user_id)
        certificate.course_id = certificate.enrollment_id = None  # as a deleted course leaves it
        db.session.commit()
        actions.reissue(c.code, "Revoked by mistake", actor=None)
        db.session.commit()
        assert certificate_of(c.user_id).status == "issued"
        report = report_of(c.certificate_id)
        assert report.status == "accepted" and report.withdrawal_due_at is None


def test_a_reissue_that_corrects_the_license_number_sends_the_board_a_correction(
    app, fake_cebroker
):
    # The board accepted the hours under a mistyped license; once the certificate is reissued
    # with the right number, the board must get the completion under it too.
    from sqlalchemy import select

    from campus.audit import AuditEntry
    from campus.certificates import actions
    from campus.extensions import db
    from campus.licenses.models import License
    from tests.certificates.helpers import certificate_of
    from tests.reporting.helpers import completion, configure, reports_of

    configure(app, fake_cebroker)
    c = completion(app, "fl-typo", license_number="MA1234")
    with app.app_context():
        [report] = reports_of(c.certificate_id)
        assert report.status == "accepted" and report.sent["license_number"] == "MA1234"
        certificate = certificate_of(c.user_id)
        db.session.get(License, certificate.license_id).number = "MA12345"
        db.session.commit()
        actions.reissue(certificate.code, "License number mistyped", actor=None)
        db.session.commit()
    with app.app_context():
        [report] = reports_of(c.certificate_id)
        assert report.status == "accepted" and report.sent["license_number"] == "MA12345"
        entries = db.session.scalars(
            select(AuditEntry).where(AuditEntry.object_type == "ReportedCompletion")
        ).all()
        assert len(entries) == 1 and "MA1234" in entries[0].summary


def test_an_edited_license_is_not_sent_to_the_board_before_the_certificate_prints_it(
    app, fake_cebroker
):
    # The member edits the license after the board accepted the hours, and the issuing task
    # runs again (a redelivered message): the certificate still prints the first number, so
    # the board keeps the completion under it until a reissue prints the new one.
    from campus.certificates.tasks import issue_certificate
    from campus.licenses.models import License
    from tests.certificates.helpers import certificate_of
    from tests.reporting.helpers import reports_of

    configure(app, fake_cebroker)
    c = completion(app, "fl-edited", license_number="MA1234")
    with app.app_context():
        certificate = certificate_of(c.user_id)
        db.session.get(License, certificate.license_id).number = "MA12345"
        db.session.commit()
        issue_certificate.apply(args=(certificate.enrollment_id,))
        [report] = reports_of(c.certificate_id)
        assert certificate_of(c.user_id).data["license_number"] == "MA1234"
        assert report.status == "accepted" and report.sent["license_number"] == "MA1234"
    assert [a.findtext("license") for a in fake_cebroker.attendees()] == ["MA1234"]


@pytest.mark.parametrize("rounds", [1, 2], ids=["pending", "failed"])
def test_a_report_that_never_reached_the_board_needs_no_withdrawal(
    app, client, fake_cebroker, rounds
):
    # Every try was refused before anything was sent: CE Broker never got the completion, so
    # its revocation leaves nothing to withdraw and the member is not told it was received.
    from datetime import timedelta

    from campus.models.base import utcnow
    from campus.reporting.tasks import sweep_reports

    configure(app, fake_cebroker)
    app.config["CEBROKER_ENDPOINT"] = "http://127.0.0.1:9/nothing-listens-here"
    c = completion(app)
    with app.app_context():
        for _ in range(rounds - 1):
            report = report_of(c.certificate_id)
            report.updated_at = utcnow() - timedelta(hours=2)
            db.session.commit()
            sweep_reports.apply()
        report = report_of(c.certificate_id)
        assert report.attempts > 0 and report.status == ("pending", "failed")[rounds - 1]
    _revoke(app, c.code)
    with app.app_context():
        from campus.reporting.tasks import send_report

        send_report.apply(args=(report_of(c.certificate_id).id,))
        report = report_of(c.certificate_id)
        assert report.status in ("cancelled", "failed") and report.withdrawal_due_at is not None
        assert not report.withdrawal_pending
        assert not admin_listed_as_due(report.id)
    support.login(client, c.email)
    html = client.get("/certificates/").get_data(as_text=True)
    assert "received it" not in html and "withdraws" not in html


def test_a_correction_cancelled_by_a_revocation_still_needs_the_withdrawal(app, fake_cebroker):
    # The board accepted the completion; the correction never got through before the
    # certificate was revoked, so what the board holds must still be withdrawn.
    from campus.reporting import services

    configure(app, fake_cebroker)
    c = completion(app)
    with app.app_context():
        app.config["CEBROKER_ENDPOINT"] = "http://127.0.0.1:9/nothing-listens-here"
        services.queue_correction(report_of(c.certificate_id))
        db.session.commit()
        assert report_of(c.certificate_id).status == "pending"
    _revoke(app, c.code)
    with app.app_context():
        from campus.reporting.tasks import send_report

        send_report.apply(args=(report_of(c.certificate_id).id,))
        report = report_of(c.certificate_id)
        assert report.status == "cancelled" and report.withdrawal_pending
        assert admin_listed_as_due(report.id)


def admin_listed_as_due(report_id: int) -> bool:
    """Whether the SQL form of the rule finds the report (the admin's "withdrawal due" filter)."""
    from sqlalchemy import select

    from campus.reporting.models import ReportedCompletion, withdrawal_pending_clause

    found = db.session.scalars(
        select(ReportedCompletion.id).where(withdrawal_pending_clause())
    ).all()
    return report_id in found


def test_a_reissue_that_reports_a_withdrawn_completion_again_is_in_the_audit_log(
    app, fake_cebroker
):
    from sqlalchemy import select

    from campus.audit import AuditEntry
    from campus.certificates import actions
    from campus.reporting import actions as reporting_actions

    configure(app, fake_cebroker)
    c = completion(app)
    _revoke(app, c.code)
    with app.app_context():
        report_id = report_of(c.certificate_id).id
        reporting_actions.mark_withdrawn(report_id, actor=None)
        db.session.commit()
        actions.reissue(c.code, "Revoked by mistake", actor=None)
        db.session.commit()
        [entry] = db.session.scalars(
            select(AuditEntry).where(
                AuditEntry.object_type == "ReportedCompletion",
                AuditEntry.object_id == str(report_id),
                AuditEntry.action == "restore",
            )
        ).all()
        # What the board was told before (withdrawn) and that it is sent the completion again.
        assert entry.before["withdrawn_at"] is not None and entry.after["withdrawn_at"] is None
        assert entry.after["status"] == "pending"
        assert "to be sent to CE Broker" in entry.summary and "(withdrawn " in entry.summary


def test_a_reissue_that_clears_a_due_withdrawal_is_in_the_audit_log(app, fake_cebroker):
    from sqlalchemy import select

    from campus.audit import AuditEntry
    from campus.certificates import actions

    configure(app, fake_cebroker)
    c = completion(app)
    _revoke(app, c.code)
    with app.app_context():
        report_id = report_of(c.certificate_id).id
        actions.reissue(c.code, "Revoked by mistake", actor=None)
        db.session.commit()
        [entry] = db.session.scalars(
            select(AuditEntry).where(
                AuditEntry.object_id == str(report_id), AuditEntry.action == "restore"
            )
        ).all()
        assert entry.before["withdrawal_due_at"] is not None
        assert entry.after["withdrawal_due_at"] is None
        assert "no longer due" in entry.summary


def test_an_admins_reissue_leaves_the_boards_follow_up_to_the_system(app, client, fake_cebroker):
    # The issuing task puts the report back: with a worker its entry names no one. Run
    # inline (CELERY_TASK_ALWAYS_EAGER) inside the admin's request, it must not name them.
    from sqlalchemy import select

    from campus.audit import AuditEntry

    configure(app, fake_cebroker)
    c = completion(app)
    _revoke(app, c.code)
    with app.app_context():
        report_id = report_of(c.certificate_id).id
    admin_id = admin.sign_in_admin(app, client)
    admin.post(
        client,
        f"/admin/certificates/{c.certificate_id}/reissue",
        {"reissue-reason": "Revoked by mistake"},
    )
    with app.app_context():
        reissue = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "reissue"))
        assert reissue is not None and reissue.actor_id == admin_id
        [entry] = db.session.scalars(
            select(AuditEntry).where(
                AuditEntry.object_id == str(report_id), AuditEntry.action == "restore"
            )
        ).all()
        assert (entry.actor_id, entry.actor_email, entry.ip_address) == (None, "system", None)


def test_a_revocation_logs_each_report_it_makes_due_for_withdrawal(app, client, fake_cebroker):
    # The reissue that clears a due withdrawal is logged on the report ("restore"); the
    # revocation that made it due must be too, or the report's history starts halfway.
    from sqlalchemy import select

    from campus.audit import AuditEntry

    configure(app, fake_cebroker)
    c = completion(app)
    with app.app_context():
        report_id = report_of(c.certificate_id).id
    admin_id = admin.sign_in_admin(app, client)
    admin.post(
        client,
        f"/admin/certificates/{c.certificate_id}/revoke",
        {"revoke-reason": "Quiz answers shared"},
    )
    with app.app_context():
        assert report_of(c.certificate_id).withdrawal_pending
        [entry] = db.session.scalars(
            select(AuditEntry).where(
                AuditEntry.object_type == "ReportedCompletion",
                AuditEntry.object_id == str(report_id),
            )
        ).all()
        assert entry.action == "withdrawal_due" and entry.actor_id == admin_id
        assert entry.before["withdrawal_due_at"] is None
        assert entry.after["withdrawal_due_at"] is not None
        assert c.code in entry.summary and "withdrawal from CE Broker (FL) due" in entry.summary

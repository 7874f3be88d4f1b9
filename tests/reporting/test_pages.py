"""What people see: the member's certificate line, the admin's report list, resend and roster."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree as ET

from tests import support
from tests.admin import helpers as admin
from tests.reporting.helpers import completion, configure, report_of


def _page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_member_sees_the_report_accepted_on_the_certificate(app, client, fake_cebroker):
    configure(app, fake_cebroker)
    c = completion(app)
    support.login(client, c.email)
    html = _page(client, "/certificates/")
    assert "Reported to CE Broker — accepted" in html
    assert 'http-equiv="refresh"' not in html  # nothing is waiting any more


def test_the_member_sees_a_rejection_with_its_reason(app, client, fake_cebroker):
    configure(app, fake_cebroker)
    c = completion(app, license_number="REJ42")
    support.login(client, c.email)
    html = _page(client, "/certificates/")
    assert "Reported to CE Broker — rejected: Invalid license Number (code 80)" in html
    # What to do about it: correct the number, then ask for the report to be sent again.
    assert "correct it under Your licenses</a>" in html and 'href="/account/licenses"' in html
    assert "mailto:ce@campus.example" in html


def test_a_rejection_the_provider_must_fix_is_not_put_to_the_member(app, client, fake_cebroker):
    configure(app, fake_cebroker)
    c = completion(app, number=None)  # the course has no CE Broker approval
    support.login(client, c.email)
    html = _page(client, "/certificates/")
    assert (
        "Not reported to CE Broker yet: something on the provider&#39;s side has to be put "
        "right first, and the provider then sends it again; nothing to do on your side."
    ) in html
    assert "rejected" not in html and "add its CE Broker approval" not in html
    with app.app_context():
        report_id = report_of(c.certificate_id).id
    admin.sign_in_admin(app, client)
    # The admin reads what to put right.
    assert "add its CE Broker approval to the course" in _page(
        client, f"/admin/reports/details/?id={report_id}"
    )


def test_a_pending_report_is_shown_and_the_page_refreshes_itself(app, client):
    c = completion(app)
    with app.app_context():
        from campus.extensions import db

        report_of(c.certificate_id).status = "pending"
        db.session.commit()
    support.login(client, c.email)
    html = _page(client, "/certificates/")
    assert "Reported to CE Broker — pending" in html
    assert 'http-equiv="refresh"' in html
    # A send that got no answer waits for a retry minutes away: no reloading all that time.
    with app.app_context():
        from campus.extensions import db

        report = report_of(c.certificate_id)
        report.status, report.last_error = "sent", "No answer from CE Broker"
        db.session.commit()
    assert 'http-equiv="refresh"' not in _page(client, "/certificates/")


def test_a_report_given_up_on_tells_the_member_there_is_nothing_to_do(app, client):
    from campus.extensions import db

    c = completion(app)
    with app.app_context():
        report = report_of(c.certificate_id)
        report.status, report.attempts = "failed", 14
        report.reason = "No answer from CE Broker after 14 tries"
        db.session.commit()
    support.login(client, c.email)
    html = _page(client, "/certificates/")
    assert (
        "Not confirmed by CE Broker: it did not answer our tries. We send it again or report it "
        "with our roster; nothing to do on your side."
    ) in html
    assert "14 tries" not in html and 'http-equiv="refresh"' not in html


def test_a_report_cancelled_by_a_revocation_before_it_was_sent_says_so(app, client):
    from campus.certificates.actions import revoke
    from campus.extensions import db
    from campus.reporting.tasks import send_report

    c = completion(app)
    with app.app_context():
        report = report_of(c.certificate_id)
        report.status, report.attempts = "pending", 0  # revoked before its first send
        db.session.commit()
        revoke(c.code, "Quiz answers were shared", actor=None)
        db.session.commit()
        send_report.delay(report.id)  # its queued send finds the revocation
        db.session.expire_all()
        report = report_of(c.certificate_id)
        assert (report.status, report.withdrawal_pending) == ("cancelled", False)
    support.login(client, c.email)
    html = _page(client, "/certificates/")
    assert "Not reported to CE Broker: the certificate was revoked." in html
    assert "withdraws the report" not in html


def test_a_member_without_a_florida_license_sees_no_report_line(app, client):
    c = completion(app, state="Maine", license_number="MT-1")
    support.login(client, c.email)
    assert "CE Broker" not in _page(client, "/certificates/")


def test_admins_filter_the_report_list_by_status(app, client, fake_cebroker):
    configure(app, fake_cebroker)
    accepted = completion(app, "fl-a")
    rejected = completion(app, "fl-b", license_number="REJ7")
    admin.sign_in_admin(app, client)
    html = _page(client, "/admin/reports/")
    assert accepted.code in html and rejected.code in html
    from tests.admin.test_billing import _filter_arg

    arg = _filter_arg(app, "admin_reports", "Status")
    html = _page(client, f"/admin/reports/?{arg}=rejected")
    assert rejected.code in html and accepted.code not in html
    assert "Invalid license Number" in html


def test_resending_a_rejected_report_sends_it_again_and_is_audited(app, client, fake_cebroker):
    configure(app, fake_cebroker)
    c = completion(app, license_number="REJ9")
    with app.app_context():
        from campus.extensions import db

        report = report_of(c.certificate_id)
        report_id = report.id
        # The member corrected their license number: the resend carries the new one.
        from campus.licenses.models import License

        db.session.get(License, report.certificate.license_id).number = "MA777"
        db.session.commit()
    admin.sign_in_admin(app, client)
    response = admin.post(
        client, "/admin/reports/action/", {"action": "resend", "rowid": [str(report_id)]}
    )
    assert response.status_code == 302
    with app.app_context():
        report = report_of(c.certificate_id)
        assert (report.status, report.attempts, report.reason) == ("accepted", 2, None)
    assert [a.findtext("license") for a in fake_cebroker.attendees()] == ["REJ9", "MA777"]
    [entry] = admin.audit_entries(app, action="resend")
    assert entry.object_type == "ReportedCompletion" and "was rejected" in entry.summary


def test_resending_an_accepted_report_is_refused(app, client, fake_cebroker):
    configure(app, fake_cebroker)
    c = completion(app)
    with app.app_context():
        report_id = report_of(c.certificate_id).id
    admin.sign_in_admin(app, client)
    response = admin.post(
        client,
        "/admin/reports/action/",
        {"action": "resend", "rowid": [str(report_id)]},
        follow_redirects=True,
    )
    assert any("already accepted" in m for m in admin.flashes(response))
    assert len(fake_cebroker.messages) == 1
    assert admin.audit_entries(app, action="resend") == []


def test_resending_needs_a_fresh_password(app, client, fake_cebroker):
    c = completion(app)
    with app.app_context():
        report_id = report_of(c.certificate_id).id
    admin.sign_in_admin(app, client, fresh=False)
    response = admin.post(
        client, "/admin/reports/action/", {"action": "resend", "rowid": [str(report_id)]}
    )
    assert response.status_code == 302 and "/admin/confirm/" in response.headers["Location"]
    with app.app_context():
        assert report_of(c.certificate_id).status == "not_configured"


def _set_completed(certificate_id: int, when: datetime) -> None:
    from campus.certificates.models import Certificate
    from campus.extensions import db

    certificate = db.session.get(Certificate, certificate_id)
    certificate.completed_at = when
    # As issuing freezes it: the date printed on the certificate is the one reported.
    certificate.data = {**certificate.data, "completion_date": when.date().isoformat()}


def test_the_roster_holds_the_completions_of_the_date_range(app, client):
    inside = completion(app, "fl-in", license_number="MA100", full_name="Ana Inside")
    edge = completion(app, "fl-edge", license_number="MA200", full_name="Eve Edge")
    outside = completion(app, "fl-out", license_number="MA300", full_name="Otto Outside")
    revoked = completion(app, "fl-rev", license_number="MA400", full_name="Rex Revoked")
    no_number = completion(app, "fl-none", number=None, license_number="MA500")
    with app.app_context():
        from campus.certificates import actions
        from campus.extensions import db

        _set_completed(inside.certificate_id, datetime(2026, 3, 2, 15, tzinfo=UTC))
        _set_completed(edge.certificate_id, datetime(2026, 3, 31, 23, 59, tzinfo=UTC))
        _set_completed(outside.certificate_id, datetime(2026, 4, 1, 0, 0, tzinfo=UTC))
        _set_completed(revoked.certificate_id, datetime(2026, 3, 10, tzinfo=UTC))
        _set_completed(no_number.certificate_id, datetime(2026, 3, 11, tzinfo=UTC))
        actions.revoke(revoked.code, "Duplicate enrollment", actor=None)
        db.session.commit()
    admin.sign_in_admin(app, client)
    with client.get("/admin/reports/roster/roster.xml?from=2026-03-01&to=2026-03-31") as response:
        assert response.status_code == 200
        assert response.mimetype == "application/xml"
        assert (
            "cebroker-roster-2026-03-01-to-2026-03-31.xml"
            in response.headers["Content-Disposition"]
        )
        assert response.headers["Cache-Control"] == "no-store"
        body = response.get_data(as_text=True)
    root = ET.fromstring(body)
    assert root.get("upload_key") == ""  # the credential never goes into a downloaded file
    attendees = [
        (a.findtext("license"), a.findtext("last_name"), a.findtext("course_date"))
        for a in root.iter("attendee")
    ]
    assert attendees == [("MA100", "Inside", "03/02/2026"), ("MA200", "Edge", "03/31/2026")]
    assert f"{no_number.code}: The course has no CE Broker course tracking number" in body
    [entry] = admin.audit_entries(app, action="export")
    assert "2026-03-01 to 2026-03-31: 2 completions, 1 left out" in entry.summary


def test_the_roster_download_needs_a_fresh_password(app, client):
    admin.sign_in_admin(app, client, fresh=False)
    response = client.get("/admin/reports/roster/roster.xml?from=2026-01-01&to=2026-01-31")
    assert response.status_code == 302 and "/admin/confirm/" in response.headers["Location"]
    assert admin.audit_entries(app, action="export") == []


def test_a_bad_roster_range_is_explained(app, client):
    admin.sign_in_admin(app, client)
    response = client.get(
        "/admin/reports/roster/roster.xml?from=2026-05-01&to=2026-04-01", follow_redirects=True
    )
    assert response.status_code == 200
    assert "The start date must be on or before the end date." in admin.flashes(response)
    assert admin.audit_entries(app, action="export") == []


def test_the_roster_page_says_whether_reporting_is_configured(app, client, fake_cebroker):
    admin.sign_in_admin(app, client)
    assert "not configured" in _page(client, "/admin/reports/roster/")
    configure(app, fake_cebroker)
    today = datetime.now(UTC).date()
    html = _page(client, "/admin/reports/roster/")
    assert "Automatic reporting is <strong>on</strong>" in html
    assert f'value="{(today - timedelta(days=0)).isoformat()}"' in html


def test_a_failed_report_is_shown_to_admins_and_their_resend_sends_it(app, client, fake_cebroker):
    configure(app, fake_cebroker)
    c = completion(app)
    with app.app_context():
        from campus.extensions import db

        report = report_of(c.certificate_id)
        report.status, report.attempts, report_id = "failed", 14, report.id
        report.reason = "No answer from CE Broker after 14 tries"
        db.session.commit()
    admin.sign_in_admin(app, client)
    from tests.admin.test_billing import _filter_arg

    html = _page(client, f"/admin/reports/?{_filter_arg(app, 'admin_reports', 'Status')}=failed")
    assert c.code in html and "badge-danger" in html and "after 14 tries" in html
    response = admin.post(
        client, "/admin/reports/action/", {"action": "resend", "rowid": [str(report_id)]}
    )
    assert response.status_code == 302
    with app.app_context():
        report = report_of(c.certificate_id)
        assert (report.status, report.attempts) == (
            "accepted",
            8,
        )  # a fresh round after the 14 spent
        assert report.reason.startswith("Already recorded there:")  # the first send counted
    assert len(fake_cebroker.recorded) == 1
    [entry] = admin.audit_entries(app, action="resend")
    assert "was failed" in entry.summary


def test_a_report_keeps_what_was_sent_after_the_license_is_corrected(app, client, fake_cebroker):
    configure(app, fake_cebroker)
    sent = completion(app, "fl-kept", license_number="MA777", full_name="Ana Kept")
    with app.app_context():
        from campus.certificates.models import Certificate
        from campus.extensions import db
        from campus.licenses.models import License

        certificate = db.session.get(Certificate, sent.certificate_id)
        db.session.get(License, certificate.license_id).number = "MA778"  # corrected later
        db.session.commit()
        report = report_of(sent.certificate_id)
        assert report.status == "accepted"
        assert report.sent["license_number"] == "MA777"
        assert (report.sent["last_name"], report.sent["course_number"]) == ("Kept", "20-123456")
        report_id = report.id
        completed = certificate.completed_at
    admin.sign_in_admin(app, client)
    details = _page(client, f"/admin/reports/details/?id={report_id}")
    assert "MA777" in details and "MA778" not in details
    assert 'id="fa_filter"' not in details  # one report: no filter box above it
    day = completed.date().isoformat()
    with client.get(f"/admin/reports/roster/roster.xml?from={day}&to={day}") as response:
        root = ET.fromstring(response.get_data(as_text=True))
    # The roster of an accepted completion shows what the board holds.
    assert [a.findtext("license") for a in root.iter("attendee")] == ["MA777"]

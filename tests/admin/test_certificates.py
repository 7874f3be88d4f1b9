"""Certificates admin: search, revoke with a reason, reissue, each through the service, audited."""

from __future__ import annotations

import re

from tests.admin import helpers
from tests.certificates.helpers import certificate_of, code_of, completed_student


def _certificate(app, user_id: int):
    with app.app_context():
        cert = certificate_of(user_id)
        return cert.id, cert.code, cert.status, cert.revoked_reason


def test_certificates_are_found_by_code_or_member(app, client):
    one = completed_student(app, "search-one", email="hana@example.com", full_name="Hana Ito")
    two = completed_student(app, "search-two", email="omar@example.com", full_name="Omar Diaz")
    helpers.sign_in_admin(app, client)
    code = code_of(app, one.user_id)
    by_code = client.get(f"/admin/certificates/?search={code}").get_data(as_text=True)
    assert "hana@example.com" in by_code and "omar@example.com" not in by_code
    by_name = client.get("/admin/certificates/?search=omar").get_data(as_text=True)
    assert code_of(app, two.user_id) in by_name and code not in by_name


# A valid address may be 254 characters long; the history names the admin by it.
LONG_EMAIL = f"{'a' * 64}@{'b' * 63}.{'c' * 63}.example"


def test_an_admin_with_a_long_address_revokes_and_reissues_a_certificate(app, client):
    student = completed_student(app, "long-admin")
    cert_id, code, _status, _ = _certificate(app, student.user_id)
    helpers.sign_in_admin(app, client, email=LONG_EMAIL)
    reissued = helpers.post(
        client, f"/admin/certificates/{cert_id}/reissue", {"reissue-reason": "Name corrected"}
    )
    assert reissued.status_code == 302
    new_cert_id, new_code, _status, _ = _certificate(app, student.user_id)
    assert new_code != code
    revoked = helpers.post(
        client, f"/admin/certificates/{new_cert_id}/revoke", {"revoke-reason": "Shared answers"}
    )
    assert revoked.status_code == 302
    assert _certificate(app, student.user_id)[2] == "revoked"
    details = client.get(f"/admin/certificates/details/?id={new_cert_id}").get_data(as_text=True)
    assert f"admin {LONG_EMAIL}" in details


def test_admin_revokes_a_certificate_with_a_reason_and_it_shows_on_verification(app, client):
    student = completed_student(app, "revoke-me")
    cert_id, code, status, _ = _certificate(app, student.user_id)
    assert status == "issued"
    admin_id = helpers.sign_in_admin(app, client)
    details = client.get(f"/admin/certificates/details/?id={cert_id}").get_data(as_text=True)
    assert "Revoke certificate" in details
    response = helpers.post(
        client,
        f"/admin/certificates/{cert_id}/revoke",
        # A control or direction character pasted with the reason never reaches the public page.
        {"revoke-reason": "Quiz answers\u202e were shared\x07"},
        follow_redirects=True,
    )
    assert any("is revoked" in m for m in helpers.flashes(response))
    assert _certificate(app, student.user_id)[2:] == ("revoked", "Quiz answers were shared")
    public = app.test_client().get(f"/verify/{code}").get_data(as_text=True)
    assert "revoked" in public.lower() and "Quiz answers" not in public  # the reason is private
    (entry,) = helpers.audit_entries(app, action="revoke")
    assert entry.actor_id == admin_id and entry.object_id == str(cert_id)
    assert entry.before["status"] == "issued" and entry.after["status"] == "revoked"


def test_revoking_needs_a_reason_and_a_fresh_password(app, client):
    student = completed_student(app, "keep-me")
    cert_id, *_ = _certificate(app, student.user_id)
    helpers.sign_in_admin(app, client, fresh=False)
    stale = helpers.post(client, f"/admin/certificates/{cert_id}/revoke", {"revoke-reason": "x"})
    assert stale.status_code == 302 and "/admin/confirm/" in stale.headers["Location"]
    helpers.confirm_password(client)
    empty = helpers.post(
        client,
        f"/admin/certificates/{cert_id}/revoke",
        {"revoke-reason": " "},
        follow_redirects=True,
    )
    assert any("Give a reason for the revocation." in m for m in helpers.flashes(empty))
    # Said under the Reason box too, which takes the focus: on a phone it is a screen below.
    page = empty.get_data(as_text=True)
    assert empty.status_code == 422
    box = re.search(r'<textarea[^>]*id="revoke-reason"[^>]*>', page).group(0)
    assert 'aria-invalid="true"' in box and "autofocus" in box
    under = re.search(r'<div id="revoke-reason-msg">(.*?)</div>', page, re.S).group(1)
    assert "Give a reason for the revocation." in under
    assert _certificate(app, student.user_id)[2] == "issued"
    # Only the password confirmation is logged: the refused revocation wrote nothing (the
    # student's own study steps before it are theirs, filed under the enrollment).
    logged = [e.action for e in helpers.audit_entries(app) if e.object_type != "Enrollment"]
    assert logged == ["admin_confirmed"]


def test_admin_reissues_a_certificate_under_a_new_code(app, client):
    student = completed_student(app, "reissue-me")
    cert_id, old_code, _, _ = _certificate(app, student.user_id)
    helpers.sign_in_admin(app, client)
    response = helpers.post(
        client,
        f"/admin/certificates/{cert_id}/reissue",
        {"reissue-reason": "Name corrected"},
        follow_redirects=True,
    )
    _, new_code, status, _ = _certificate(app, student.user_id)
    assert new_code != old_code and status == "issued"  # the task ran inline (eager)
    assert any(f"reissued as {new_code}" in m for m in helpers.flashes(response))
    (entry,) = helpers.audit_entries(app, action="reissue")
    assert entry.before["code"] == old_code and entry.after["code"] == new_code


def test_revoking_a_revoked_certificate_keeps_the_first_reason_and_logs_once(app, client):
    student = completed_student(app, "revoke-twice")
    cert_id, *_ = _certificate(app, student.user_id)
    helpers.sign_in_admin(app, client)
    revoke = f"/admin/certificates/{cert_id}/revoke"
    helpers.post(client, revoke, {"revoke-reason": "Quiz answers were shared"})
    again = helpers.post(client, revoke, {"revoke-reason": "Other"}, follow_redirects=True)
    assert any("is already revoked" in m for m in helpers.flashes(again))
    assert _certificate(app, student.user_id)[2:] == ("revoked", "Quiz answers were shared")
    assert len(helpers.audit_entries(app, action="revoke")) == 1


def test_changing_a_certificate_that_does_not_exist_is_a_404(app, client):
    helpers.sign_in_admin(app, client)
    for action in ("revoke", "reissue"):
        response = helpers.post(
            client, f"/admin/certificates/999999/{action}", {f"{action}-reason": "Typo"}
        )
        assert response.status_code == 404, action
    assert helpers.audit_entries(app) == []


def test_the_certificate_list_dates_completions_on_the_providers_calendar(app, client, pacific):
    # As the certificate itself prints it: an evening completion in California is that day's.
    from datetime import UTC, datetime

    from campus.extensions import db

    student = completed_student(app, "evening-list")
    with app.app_context():
        certificate = certificate_of(student.user_id)
        certificate.completed_at = datetime(2026, 3, 6, 5, 0, tzinfo=UTC)  # March 5, 9 pm PST
        certificate.issued_at = datetime(2026, 3, 6, 5, 1, tzinfo=UTC)
        # The date issuing at that moment froze: the Completed column shows what it prints.
        certificate.data = {
            **certificate.data,
            "completion_date": "2026-03-05",
            "completion_date_text": "March 5, 2026",
        }
        code = certificate.code
        db.session.commit()
    helpers.sign_in_admin(app, client)
    row = next(
        row
        for row in client.get("/admin/certificates/").get_data(as_text=True).split("<tr")
        if code in row
    )
    assert "2026-03-05" in row and "2026-03-06" not in row
    completed = re.search(r'<td class="col-completed_at">\s*([^<]*?)\s*</td>', row)
    assert completed is not None and completed.group(1) == "2026-03-05"


def test_the_certificate_list_dates_a_completion_as_the_certificate_prints_it(app, client, pacific):
    # Completed and printed on January 1, 2027 while the calendar was UTC: after the provider
    # moved to Pacific time the list still says the day on the certificate, not December 31.
    from datetime import UTC, datetime

    import time_machine

    app.config["TIME_ZONE"] = "UTC"
    with time_machine.travel(datetime(2027, 1, 1, 7, 30, tzinfo=UTC), tick=False):
        student = completed_student(app, "utc-dated-list")
    app.config["TIME_ZONE"] = "America/Los_Angeles"
    code = code_of(app, student.user_id)
    helpers.sign_in_admin(app, client)
    row = next(
        row
        for row in client.get("/admin/certificates/").get_data(as_text=True).split("<tr")
        if code in row
    )
    completed = re.search(r'<td class="col-completed_at">\s*([^<]*?)\s*</td>', row)
    assert completed is not None and completed.group(1) == "2027-01-01"


def test_the_certificate_list_filters_completions_on_the_providers_calendar(app, client, pacific):
    # "Completed in March" is March as the list and the certificates date it, not UTC's March.
    from datetime import UTC, datetime

    from campus.extensions import db
    from tests.admin.test_billing import _filter_arg

    codes = {}
    for slug, completed_at in (
        ("feb-evening", datetime(2026, 3, 1, 5, 0, tzinfo=UTC)),  # February 28, 9 pm PST
        ("mar-evening", datetime(2026, 4, 1, 4, 0, tzinfo=UTC)),  # March 31, 9 pm PDT
    ):
        student = completed_student(app, slug)
        with app.app_context():
            certificate = certificate_of(student.user_id)
            certificate.completed_at = completed_at
            codes[slug] = certificate.code
            db.session.commit()
    helpers.sign_in_admin(app, client)
    arg = _filter_arg(app, "admin_certificates", "Completed", "between")
    march = client.get(
        "/admin/certificates/", query_string={arg: "2026-03-01 00:00:00 to 2026-03-31 23:59:59"}
    ).get_data(as_text=True)
    assert codes["mar-evening"] in march and codes["feb-evening"] not in march


def test_a_filter_time_at_the_calendars_edge_is_an_empty_list_not_an_error(app, client, pacific):
    # 9999-12-31 23:59 in California is past the last moment a UTC datetime can hold (and
    # 0001-01-01 00:00 east of UTC is before the first).
    from tests.admin.test_billing import _filter_arg

    student = completed_student(app, "edge-filter")
    code = code_of(app, student.user_id)
    helpers.sign_in_admin(app, client)
    after = _filter_arg(app, "admin_certificates", "Completed", "greater than")
    late = client.get("/admin/certificates/", query_string={after: "9999-12-31 23:59:59"})
    assert late.status_code == 200 and code not in late.text
    app.config["TIME_ZONE"] = "Asia/Tokyo"
    before = _filter_arg(app, "admin_certificates", "Completed", "smaller than")
    early = client.get("/admin/certificates/", query_string={before: "0001-01-01 00:00:00"})
    assert early.status_code == 200 and code not in early.text


def _form_fields(page: str, action: str) -> dict[str, str]:
    """The hidden fields of one form on a page, as the browser sends them back."""
    form = re.search(rf'<form[^>]*action="[^"]*/{action}"[^>]*>(.*?)</form>', page, re.S)
    assert form is not None
    return dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', form.group(1)))


def test_a_reissue_sent_again_from_the_same_page_does_not_reissue_twice(app, client):
    student = completed_student(app, "reissue-twice")
    cert_id, old_code, _, _ = _certificate(app, student.user_id)
    helpers.sign_in_admin(app, client)
    page = client.get(f"/admin/certificates/details/?id={cert_id}").get_data(as_text=True)
    # The page as the admin saw it, sent twice (two tabs, two admins, a click on a stale page).
    form = {**_form_fields(page, "reissue"), "reissue-reason": "Name corrected"}
    path = f"/admin/certificates/{cert_id}/reissue"
    helpers.post(client, path, dict(form))
    _, new_code, status, _ = _certificate(app, student.user_id)
    assert new_code != old_code and status == "issued"
    again = helpers.post(client, path, dict(form), follow_redirects=True)
    assert any(f"{old_code} was replaced by {new_code}" in m for m in helpers.flashes(again))
    assert _certificate(app, student.user_id)[1] == new_code
    assert len(helpers.audit_entries(app, action="reissue")) == 1


def test_a_revocation_sent_from_a_page_shown_before_a_reissue_is_refused(app, client):
    student = completed_student(app, "revoke-stale")
    cert_id, old_code, _, _ = _certificate(app, student.user_id)
    helpers.sign_in_admin(app, client)
    page = client.get(f"/admin/certificates/details/?id={cert_id}").get_data(as_text=True)
    stale = {**_form_fields(page, "revoke"), "revoke-reason": "Quiz answers were shared"}
    helpers.post(
        client, f"/admin/certificates/{cert_id}/reissue", {"reissue-reason": "Name corrected"}
    )
    new_code = _certificate(app, student.user_id)[1]
    refused = helpers.post(
        client, f"/admin/certificates/{cert_id}/revoke", stale, follow_redirects=True
    )
    assert any(f"{old_code} was replaced by {new_code}" in m for m in helpers.flashes(refused))
    assert _certificate(app, student.user_id)[2] == "issued"


def test_the_revoke_form_tells_the_admin_who_reads_the_reason(app, client):
    # The public verification page says that and when, never why (the test above checks it):
    # an admin told otherwise would word a private reason for strangers, or hold back what the
    # member should read.
    student = completed_student(app, "who-reads")
    cert_id = _certificate(app, student.user_id)[0]
    helpers.sign_in_admin(app, client)
    details = client.get(f"/admin/certificates/details/?id={cert_id}").get_data(as_text=True)
    form = details.split("<h2>Revoke</h2>", 1)[1].split("</form>", 1)[0]
    assert "Shown on the public verification page" not in form
    assert "Emailed to the member" in form and "never to the public" in form


def test_the_details_write_the_hours_as_the_certificate_prints_them(app, client):
    student = completed_student(app, "two-hours")  # a 2-hour course, frozen as "2.00"
    cert_id = _certificate(app, student.user_id)[0]
    helpers.sign_in_admin(app, client)
    details = client.get(f"/admin/certificates/details/?id={cert_id}").get_data(as_text=True)
    hours = details.split("<dt>CE hours</dt><dd>", 1)[1].split(" · ", 1)[0]
    assert hours == "2 CE hours"  # as the PDF, verify page and transcript write it


def test_reissuing_a_revoked_certificate_says_it_reinstates_it(app, client):
    # A reissue makes a revoked certificate valid again, with its CE Broker report: an admin
    # correcting a name on one must be told before the button, not find it out after.
    student = completed_student(app, "reinstate-me")
    cert_id = _certificate(app, student.user_id)[0]
    helpers.sign_in_admin(app, client)
    page = f"/admin/certificates/details/?id={cert_id}"
    issued = client.get(page).get_data(as_text=True)
    assert "Reissue with a new code" in issued and "valid again" not in issued
    helpers.post(client, f"/admin/certificates/{cert_id}/revoke", {"revoke-reason": "Shared"})
    revoked = " ".join(client.get(page).get_data(as_text=True).split())
    form = revoked.split("<h2>Reissue and reinstate</h2>", 1)[1].split("</form>", 1)[0]
    assert "This certificate is revoked. Reissuing it makes it valid again" in form
    assert "Reinstate with a new code" in form
    assert "Reissue a revoked certificate? The new code will be valid again" in revoked


def test_a_reason_of_zero_width_characters_alone_is_no_reason(app, client):
    # The member's email and the certificate's history would give the reason as a blank.
    student = completed_student(app, "blank-reason")
    cert_id, code, *_ = _certificate(app, student.user_id)
    helpers.sign_in_admin(app, client)
    for action, reason, what in (
        ("revoke", "\u200b\u200b", "revocation"),
        ("reissue", "\u200d \u0301", "reissue"),
    ):
        response = helpers.post(
            client,
            f"/admin/certificates/{cert_id}/{action}",
            {f"{action}-reason": reason},
            follow_redirects=True,
        )
        assert any(f"Give a reason for the {what}." in m for m in helpers.flashes(response))
    assert _certificate(app, student.user_id)[1:3] == (code, "issued")
    assert not helpers.audit_entries(app, action="revoke")
    assert not helpers.audit_entries(app, action="reissue")

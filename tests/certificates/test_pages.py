"""Certificate pages, downloads, transcripts, verification, the signed credential and the API."""

from __future__ import annotations

import csv
import io
import json
import re

import jwt as pyjwt
import pytest
from pypdf import PdfReader

from tests import support
from tests.certificates.helpers import certificate_of, code_of, completed_student


def _pdf_text(body: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)


def test_student_lists_certificates_with_total_hours_and_downloads_the_pdf(app, client):
    s = completed_student(app, full_name="Casey Moreno")
    with app.app_context():
        from tests.certificates.helpers import complete_course
        from tests.learning.helpers import make_course

        second = make_course("neck-basics", ce_hours="1.5", title="Neck: Scalenes")
        complete_course(s.user_id, second)
    code = code_of(app, s.user_id)
    support.login(client, s.email)
    page = client.get("/certificates/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Neck: Scalenes" in html and "Course hip-basics" in html
    assert '<p class="cert-total-value">3.5</p>' in html
    assert f'href="/certificates/{code}.pdf"' in html
    with client.get(f"/certificates/{code}.pdf") as response:  # streamed from the store
        assert response.status_code == 200
        assert response.mimetype == "application/pdf"
        assert "Casey Moreno" in _pdf_text(response.data)


def _sign_in_admin(app, client, *, second_factor: bool = True) -> None:
    """Sign a new admin in on this client, with a session that passed a second factor or not."""
    with app.app_context():
        admin_id = support.create_user(role="admin").id
        if second_factor:
            support.enable_totp(admin_id)
        support.sign_in_directly(client, admin_id, second_factor=second_factor)


READERS = ("anonymous", "owner", "other_student", "admin")


@pytest.mark.parametrize("reader", READERS)
def test_pdf_is_for_its_owner_and_admins_only(app, client, reader):
    s = completed_student(app)
    code = code_of(app, s.user_id)
    if reader == "owner":
        support.login(client, s.email)
    elif reader == "admin":
        _sign_in_admin(app, client)
    elif reader != "anonymous":
        with app.app_context():
            email = support.create_user().email
        support.login(client, email)
    with client.get(f"/certificates/{code}.pdf") as response:
        expected = {"anonymous": 302, "owner": 200, "other_student": 404, "admin": 200}[reader]
        assert response.status_code == expected
        if expected == 404:
            assert b"%PDF" not in response.data


def test_unknown_and_malformed_codes_are_404_everywhere(app, client):
    s = completed_student(app)
    support.login(client, s.email)
    for code in ("CE-ZZZZ-ZZZZ", "nonsense", "CE-0000-0000", "%00", "x" * 300):
        assert client.get(f"/certificates/{code}.pdf").status_code == 404
        page = client.get(f"/verify/{code}")
        assert page.status_code == 404
        if code != "%00":  # a NUL in a path is refused before any view (security.refuse_nul_paths)
            assert "No certificate has that code" in page.get_data(as_text=True)
        assert client.get(f"/verify/{code}.json").status_code == 404


def test_verify_page_shows_valid_certificate_with_frozen_data_only(app, client):
    s = completed_student(app, full_name="Robin Lee", email="robin@example.com")
    code = code_of(app, s.user_id)
    html = client.get(f"/verify/{code.lower()}").get_data(as_text=True)
    assert "is valid" in html
    for expected in (
        "Robin Lee",
        "License no. ending •••••4512",
        "Maine",
        "Course hip-basics",
        "2 CE hours",
        "1234-56",
    ):
        assert expected in html
    assert "robin@example.com" not in html  # nothing private beyond the certificate's data
    assert "MT-004512" not in html and "MT-00" not in html


def test_revoked_certificate_is_shown_as_revoked_everywhere(app, client):

    s = completed_student(app)
    code = code_of(app, s.user_id)
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["certificates", "revoke", code, "--reason", "Quiz taken by someone else"]
    )
    assert result.exit_code == 0, result.output
    html = client.get(f"/verify/{code}").get_data(as_text=True)
    assert "Revoked" in html and "is valid" not in html
    assert "Quiz taken by someone else" not in html  # the reason is the holder's and admins'
    body = client.get(f"/verify/{code}.json").get_json()
    assert body["status"] == "revoked" and "vc_jwt" not in body
    support.login(client, s.email)
    listing = client.get("/certificates/").get_data(as_text=True)
    assert "Revoked on" in listing and f"/certificates/{code}.pdf" not in listing
    assert client.get(f"/certificates/{code}.pdf").status_code == 404
    api = client.get(f"/api/v1/certificates/{code}").get_json()
    assert api["status"] == "revoked" and api["pdf_url"] is None
    with app.app_context():
        events = [e.kind for e in certificate_of(s.user_id).events]
    assert events[-1] == "revoked"
    again = runner.invoke(args=["certificates", "revoke", code, "--reason", "again"])
    assert again.exit_code != 0 and "already revoked" in again.output


def test_admin_download_of_a_revoked_certificate_is_stamped_revoked(app, client):
    s = completed_student(app)
    code = code_of(app, s.user_id)
    app.test_cli_runner().invoke(args=["certificates", "revoke", code, "--reason", "error"])
    _sign_in_admin(app, client)
    response = client.get(f"/certificates/{code}.pdf")
    assert response.status_code == 200
    assert "REVOKED" in _pdf_text(response.data)


@pytest.mark.parametrize("totp", [False, True])
def test_an_admin_signed_in_without_a_second_factor_cannot_open_members_certificates(
    app, client, totp
):
    s = completed_student(app)
    code = code_of(app, s.user_id)
    with app.app_context():
        admin_id = support.create_user(role="admin").id
        if totp:
            support.enable_totp(admin_id)  # on the account, but this session did not pass it
        support.sign_in_directly(client, admin_id, second_factor=False)
    assert client.get(f"/certificates/{code}.pdf").status_code == 404


def test_reissue_gives_a_new_code_and_the_old_code_points_to_it(app, client):
    from campus.accounts.models import User
    from campus.extensions import db

    s = completed_student(app, full_name="Sam Smtih")
    old = code_of(app, s.user_id)
    with app.app_context():
        db.session.get(User, s.user_id).full_name = "Sam Smith"
        db.session.commit()
    result = app.test_cli_runner().invoke(
        args=["certificates", "reissue", old, "--reason", "Name misspelled"]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        cert = certificate_of(s.user_id)
        new = cert.code
        assert new != old and cert.status == "issued"
        assert cert.data["participant_name"] == "Sam Smith"
        assert [c.code for c in cert.codes] == [old, new]
        assert [e.kind for e in cert.events][-2:] == ["reissued", "issued"]
    old_page = client.get(f"/verify/{old}").get_data(as_text=True)
    assert "was reissued" in old_page and "Name misspelled" not in old_page  # the public view
    assert f'href="/verify/{new}"' in old_page
    assert "Sam Smith" in client.get(f"/verify/{new}").get_data(as_text=True)
    assert client.get(f"/verify/{old}.json").get_json()["status"] == "replaced"
    assert len(support.outbox(app)) == 2  # one "ready" email per code
    stale = app.test_cli_runner().invoke(args=["certificates", "revoke", old, "--reason", "x"])
    assert stale.exit_code != 0 and new in stale.output
    missing = app.test_cli_runner().invoke(
        args=["certificates", "reissue", "CE-ZZZZ-ZZZZ", "--reason", "x"]
    )
    assert missing.exit_code != 0 and "No certificate" in missing.output


def test_a_replaced_code_links_to_the_new_one_only_once_it_is_issued(app, client):
    from campus.extensions import db

    s = completed_student(app)
    old = code_of(app, s.user_id)
    result = app.test_cli_runner().invoke(args=["certificates", "reissue", old, "--reason", "x"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        cert = certificate_of(s.user_id)
        new = cert.code
        cert.status = "pending"  # the worker has not issued it yet (or was killed doing so)
        db.session.commit()
    assert client.get(f"/verify/{new}").status_code == 404
    html = client.get(f"/verify/{old}").get_data(as_text=True)
    assert "was reissued" in html and "being prepared" in html and new in html
    assert f'href="/verify/{new}"' not in html  # no link to a page that is not there yet


def test_signed_credential_verifies_with_an_independent_library_against_the_jwks(app, client):
    s = completed_student(app, full_name="Alex Kim")
    code = code_of(app, s.user_id)
    body = client.get(f"/verify/{code}.json").get_json()
    assert body["status"] == "valid"
    jwks = client.get("/.well-known/jwks.json").get_json()
    header = pyjwt.get_unverified_header(body["vc_jwt"])
    (jwk,) = [k for k in jwks["keys"] if k["kid"] == header["kid"]]
    assert jwk["kty"] == "OKP" and jwk["crv"] == "Ed25519" and "d" not in jwk
    key = pyjwt.PyJWK.from_json(json.dumps(jwk))
    claims = pyjwt.decode(body["vc_jwt"], key=key, algorithms=["EdDSA"])
    vc = claims["vc"]
    assert vc == body["credential"]
    assert "OpenBadgeCredential" in vc["type"]
    achievement = vc["credentialSubject"]["achievement"]
    assert achievement["name"] == "Course hip-basics"
    assert achievement["criteria"]["narrative"]
    assert achievement["creditsAvailable"] == 2.0
    assert vc["credentialSubject"]["creditsEarned"] == 2.0
    assert vc["credentialSubject"]["licenseNumber"] == "•••••4512"
    assert "MT-004512" not in json.dumps(body)
    assert vc["credentialSubject"]["identifier"][0]["identityHash"] == "Alex Kim"
    assert claims["jti"] == vc["id"] == body["credential"]["id"]
    # A tampered credential does not verify.
    head, _payload, sig = body["vc_jwt"].split(".")
    forged = pyjwt.api_jws.base64url_encode(
        json.dumps(dict(claims, vc=dict(vc, name="Forged"))).encode()
    ).decode()
    with pytest.raises(pyjwt.InvalidSignatureError):
        pyjwt.decode(f"{head}.{forged}.{sig}", key=key, algorithms=["EdDSA"])


def test_signing_key_is_kept_between_apps_in_development(app, fresh_app):
    with app.app_context():
        from campus.certificates.signing import jwks

        first = jwks()
    with fresh_app.app_context():
        from campus.certificates.signing import jwks as jwks2

        assert jwks2() == first


def test_configured_signing_key_is_used(app):
    from campus.certificates.signing import generate_jwk

    key = generate_jwk()
    app.config["CERTIFICATE_SIGNING_KEY"] = json.dumps(key)
    with app.app_context():
        from campus.certificates.signing import jwks

        assert jwks()["keys"][0]["x"] == key["x"]


def test_transcript_csv_and_pdf_cover_the_chosen_range(app, client):
    s = completed_student(app, full_name="Pat Quinn")
    code = code_of(app, s.user_id)
    support.login(client, s.email)
    with app.app_context():
        day = certificate_of(s.user_id).data["completion_date"]
    response = client.get(f"/certificates/transcript.csv?from={day}&to={day}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[1][0] == day and rows[1][1] == "Course hip-basics" and rows[1][5] == code
    assert rows[-1][:3] == ["total", "", "2"]
    empty = client.get("/certificates/transcript.csv?from=2001-01-01&to=2001-12-31")
    assert list(csv.reader(io.StringIO(empty.get_data(as_text=True))))[-1][:3] == ["total", "", "0"]
    pdf = client.get(f"/certificates/transcript.pdf?from={day}&to={day}")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = _pdf_text(pdf.data)
    assert "Continuing Education Transcript" in text and "Pat Quinn" in text
    assert code in text and "Total: 2 CE hours" in text


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=2026-13-01&to=2026-12-31", "Enter dates as YYYY-MM-DD"),
        ("from=yesterday", "Enter dates as YYYY-MM-DD"),
        ("from=2026-06-01&to=2026-01-01", "on or before the end date"),
        ("from=1999-01-01&to=2000-01-01", "between the year 2000"),
    ],
)
def test_bad_transcript_range_gets_a_clear_message(app, client, query, message):
    s = completed_student(app)
    support.login(client, s.email)
    for fmt in ("pdf", "csv"):
        response = client.get(f"/certificates/transcript.{fmt}?{query}")
        assert response.status_code == 400
        assert message in response.get_data(as_text=True)
    assert client.get("/certificates/transcript.txt").status_code == 404


def test_api_lists_own_certificates_and_hides_others(app, client):
    s = completed_student(app)
    code = code_of(app, s.user_id)
    assert client.get("/api/v1/certificates").status_code == 401
    support.login(client, s.email)
    body = client.get("/api/v1/certificates").get_json()
    assert body["total_ce_hours"] == 2.0
    (item,) = body["certificates"]
    assert item["code"] == code and item["status"] == "issued"
    assert item["pdf_url"].endswith(f"/certificates/{code}.pdf")
    one = client.get(f"/api/v1/certificates/{code.lower()}")
    assert one.status_code == 200 and one.get_json()["course_title"] == "Course hip-basics"
    other = app.test_client()
    with app.app_context():
        email = support.create_user(role="admin").email
    support.login(other, email)
    denied = other.get(f"/api/v1/certificates/{code}")
    assert denied.status_code == 404 and denied.get_json()["error"]["code"] == "not_found"
    assert other.get("/api/v1/certificates").get_json()["certificates"] == []
    assert client.get("/api/v1/certificates/garbage").status_code == 404
    spec = client.get("/api/v1/openapi.json").get_json()
    assert (
        "/api/v1/certificates" in spec["paths"] and "/api/v1/certificates/{code}" in spec["paths"]
    )


def test_course_completion_pages_link_to_the_certificates(app, client):
    s = completed_student(app)
    support.login(client, s.email)
    html = client.get(f"/courses/{s.course.slug}").get_data(as_text=True)
    assert 'href="/certificates/"' in html


def test_completed_course_shows_as_being_prepared_until_the_worker_creates_it(app, client):
    from campus.learning.signals import enrollment_evaluated
    from tests.certificates.helpers import complete_course, student
    from tests.learning.helpers import make_course

    with app.app_context():
        course = make_course(title="Shoulder Girdle")
        user = student()
        email = user.email
        with enrollment_evaluated.muted():
            complete_course(user.id, course)
    support.login(client, email)
    html = client.get("/certificates/").get_data(as_text=True)
    assert "Being prepared" in html and "Shoulder Girdle" in html
    assert 'http-equiv="refresh"' in html


def test_new_codes_carry_80_random_bits_and_old_short_codes_still_verify(app, client):
    from sqlalchemy import select

    from campus.certificates import codes
    from campus.certificates.models import CertificateCode
    from campus.extensions import db

    s = completed_student(app)
    code = code_of(app, s.user_id)
    assert codes.CODE_PATTERN.match(code) and len(code.replace("-", "")) == 2 + 16
    drawn = {codes.new_code() for _ in range(2000)}
    assert len(drawn) == 2000
    assert {c for code in drawn for c in code[3:].replace("-", "")} <= set(codes.ALPHABET)
    # A certificate issued with an old eight-character code keeps verifying.
    with app.app_context():
        certificate = certificate_of(s.user_id)
        row = db.session.scalar(
            select(CertificateCode).where(CertificateCode.code == certificate.code)
        )
        certificate.code = row.code = "CE-7K4M-Q2XP"
        certificate.data = {**certificate.data, "code": "CE-7K4M-Q2XP"}
        db.session.commit()
    assert client.get("/verify/ce-7k4m-q2xp").status_code == 200
    assert client.get("/verify/CE-7K4M-Q2XP.json").get_json()["status"] == "valid"


def test_verify_page_and_json_share_one_rate_limit_per_address(app, client):
    app.config["VERIFY_PAGE_RATE_LIMIT"] = "3 per minute"
    s = completed_student(app)
    code = code_of(app, s.user_id)
    codes = [
        client.get(f"/verify/{code}").status_code,
        client.get(f"/verify/{code}.json").status_code,
        client.get("/verify/CE-ZZZZ-ZZZZ").status_code,
        client.get(f"/verify/{code}").status_code,
        client.get(f"/verify/{code}.json").status_code,
    ]
    assert codes == [200, 200, 404, 429, 429]
    elsewhere = client.get(f"/verify/{code}", environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert elsewhere.status_code == 200


def test_the_signed_credential_ends_the_activity_on_the_day_the_certificate_prints(
    app, client, pacific
):
    # Finished at 11:30 p.m. on December 31 in California: midnight UTC of "2026-12-31" is
    # 4 p.m. on December 30 there, the day before the one printed.
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    import time_machine

    evening = datetime(2027, 1, 1, 7, 30, tzinfo=UTC)
    with time_machine.travel(evening, tick=False):
        s = completed_student(app, "nye-course")
    code = code_of(app, s.user_id)
    body = client.get(f"/verify/{code}.json").get_json()
    ended = datetime.fromisoformat(body["credential"]["credentialSubject"]["activityEndDate"])
    assert ended == evening
    assert ended.astimezone(ZoneInfo("America/Los_Angeles")).date().isoformat() == "2026-12-31"
    assert ended.date().isoformat() == "2026-12-31"  # as written, too


def test_a_transcript_lists_a_certificate_in_the_period_of_the_date_it_prints(app, client, pacific):
    # Finished at 11:30 p.m. on December 31 in California, issued while the provider's calendar
    # was UTC: the certificate says January 1, and so must the transcript that lists it.
    from datetime import UTC, datetime

    import time_machine

    app.config["TIME_ZONE"] = "UTC"
    with time_machine.travel(datetime(2027, 1, 1, 7, 30, tzinfo=UTC), tick=False):
        s = completed_student(app, "utc-dated")
    app.config["TIME_ZONE"] = "America/Los_Angeles"
    with app.app_context():
        assert certificate_of(s.user_id).data["completion_date"] == "2027-01-01"
    support.login(client, s.email)

    def rows(start: str, end: str) -> list[list[str]]:
        body = client.get(f"/certificates/transcript.csv?from={start}&to={end}")
        return list(csv.reader(io.StringIO(body.get_data(as_text=True))))

    year_2026 = rows("2026-01-01", "2026-12-31")
    assert len(year_2026) == 2 and year_2026[-1][:3] == ["total", "", "0"]
    year_2027 = rows("2027-01-01", "2027-12-31")
    assert [r[0] for r in year_2027[1:-1]] == ["2027-01-01"]
    assert year_2027[-1][:3] == ["total", "", "2"]


def test_a_verifier_on_another_site_may_read_the_json_as_it_may_read_the_keys(app, client):
    # A verifier page elsewhere fetches the keys (allowed) and the credential itself: both are
    # public and sent without cookies, so the browser must be let to hand over both.
    s = completed_student(app)
    code = code_of(app, s.user_id)
    origin = {"Origin": "https://verifier.example"}
    for path in (f"/verify/{code}.json", "/verify/CE-ZZZZ-ZZZZ.json", "/.well-known/jwks.json"):
        response = client.get(path, headers=origin)
        assert response.headers.get("Access-Control-Allow-Origin") == "*", path


def test_a_verifier_over_the_limit_gets_json_from_the_json_address(app, client):
    # A program reading /verify/<code>.json parses what comes back: an HTML error page there
    # breaks it exactly when it should back off.
    app.config["VERIFY_PAGE_RATE_LIMIT"] = "1 per minute"
    s = completed_student(app)
    code = code_of(app, s.user_id)
    for path in (f"/verify/{code}.json", "/programs/verify/PC-ZZZZ-ZZZZ.json"):
        client.get(path)  # the one request a minute allowed
        refused = client.get(path)
        assert refused.status_code == 429, path
        assert refused.is_json, path
        assert refused.get_json()["error"]["code"] == "rate_limited", path
        assert refused.headers["Retry-After"].isdigit(), path


def test_the_public_verify_page_says_revoked_and_when_but_not_why(app, client):
    # A revocation's reason can be private (a chargeback, a complaint): the public sees that
    # and when; the holder still reads why on their own list.
    s = completed_student(app)
    code = code_of(app, s.user_id)
    reason = "Chargeback on card ending 4242"
    result = app.test_cli_runner().invoke(args=["certificates", "revoke", code, "--reason", reason])
    assert result.exit_code == 0, result.output
    with app.app_context():
        revoked_at = certificate_of(s.user_id).revoked_at
    html = client.get(f"/verify/{code}").get_data(as_text=True)
    assert "Revoked" in html and "was revoked on" in html
    assert reason not in html and "Chargeback" not in html
    body = client.get(f"/verify/{code}.json").get_json()
    assert body["status"] == "revoked" and body["revoked_at"] == revoked_at.isoformat()
    assert reason not in json.dumps(body)
    support.login(client, s.email)
    assert reason in client.get("/certificates/").get_data(as_text=True)


def test_the_api_asked_for_a_reissued_code_says_it_was_replaced_and_names_the_new_one(app, client):
    """As the verify page and its JSON do: a script that kept the old code learns the new one."""
    s = completed_student(app)
    old = code_of(app, s.user_id)
    result = app.test_cli_runner().invoke(
        args=["certificates", "reissue", old, "--reason", "Name misspelled"]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        new = certificate_of(s.user_id).code
    support.login(client, s.email)
    response = client.get(f"/api/v1/certificates/{old}")
    assert response.status_code == 410
    error = response.get_json()["error"]
    assert error["code"] == "superseded" and error["superseded_by"] == new
    assert new in error["message"]
    assert client.get(f"/api/v1/certificates/{new}").get_json()["code"] == new
    operation = client.get("/api/v1/openapi.json").get_json()["paths"][
        "/api/v1/certificates/{code}"
    ]["get"]
    assert "410" in operation["responses"]
    # Someone else's old code stays a 404: it tells nothing about another member.
    with app.app_context():
        other = support.create_user(email="other@example.com").email
    stranger = app.test_client()
    support.login(stranger, other)
    assert stranger.get(f"/api/v1/certificates/{old}").status_code == 404


def test_the_public_verify_page_of_a_replaced_code_says_when_and_by_which_code_but_not_why(
    app, client
):
    # A reissue's reason is an admin's free text ("chargeback reversed", a name changed after a
    # divorce): the public sees that, when and the new code; the holder and admins see why.
    s = completed_student(app)
    old = code_of(app, s.user_id)
    reason = "Name changed after divorce"
    result = app.test_cli_runner().invoke(args=["certificates", "reissue", old, "--reason", reason])
    assert result.exit_code == 0, result.output
    with app.app_context():
        new = certificate_of(s.user_id).code
    html = client.get(f"/verify/{old}").get_data(as_text=True)
    assert "was reissued" in html and f'href="/verify/{new}"' in html
    assert reason not in html
    body = client.get(f"/verify/{old}.json").get_json()
    assert body["status"] == "replaced" and body["replaced_at"]
    assert body["current"].endswith(f"/verify/{new}.json")
    assert reason not in json.dumps(body)
    support.login(client, s.email)
    assert reason in client.get(f"/verify/{old}").get_data(as_text=True)
    assert reason not in client.get(f"/verify/{old}.json").get_data(as_text=True)
    admin = app.test_client()
    _sign_in_admin(app, admin)
    assert reason in admin.get(f"/verify/{old}").get_data(as_text=True)


def test_a_refused_transcript_range_opens_at_the_start_date(app, client):
    s = completed_student(app)
    support.login(client, s.email)
    page = client.get("/certificates/transcript.pdf?from=yesterday").get_data(as_text=True)
    start = re.search(r'<input type="date" id="from"[^>]*>', page)
    assert start and "autofocus" in start.group(0) and 'aria-invalid="true"' in start.group(0)
    assert page.count("autofocus") == 1
    assert "autofocus" not in client.get("/certificates/").get_data(as_text=True)

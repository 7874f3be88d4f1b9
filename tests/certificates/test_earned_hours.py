"""Earned CE hours: one rule on every surface, and a revoked certificate counts nowhere."""

from __future__ import annotations

import csv
import io

import pytest

from tests import support
from tests.certificates.helpers import certificate_of, code_of, complete_course, completed_student
from tests.learning.helpers import make_course


def _surfaces(app, client) -> dict[str, str]:
    from campus.admin import dashboard
    from campus.extensions import db

    learning = client.get("/learning/").get_data(as_text=True)
    year = learning.split("CE hours earned in", 1)[1].split('stat-value">', 1)[1].split("<", 1)[0]
    certificates = client.get("/certificates/").get_data(as_text=True)
    total = certificates.split('cert-total-value">', 1)[1].split("<", 1)[0]
    transcript = client.get("/certificates/transcript.csv")  # this year to today
    rows = list(csv.reader(io.StringIO(transcript.get_data(as_text=True))))
    with app.app_context():
        board = dashboard.build()
        db.session.rollback()
    return {
        "learning": year.strip(),
        "certificates": total.strip(),
        "certificates_api": str(client.get("/api/v1/certificates").get_json()["total_ce_hours"]),
        "enrollments_api": str(
            client.get("/api/v1/enrollments").get_json()["total_ce_hours_earned"]
        ),
        "transcript": rows[-1][2],
        "admin_dashboard": str(board.ce_hours_total),
    }


def test_a_revoked_certificates_hours_vanish_from_every_surface(app, client):
    s = completed_student(app)  # "hip-basics", 2 CE hours
    with app.app_context():
        second = make_course("neck-basics", ce_hours="1.5")
        complete_course(s.user_id, second)
    support.login(client, s.email)
    before = _surfaces(app, client)
    assert set(before.values()) <= {"3.5"}, before

    result = app.test_cli_runner().invoke(
        args=["certificates", "revoke", code_of(app, s.user_id), "--reason", "Someone else"]
    )
    assert result.exit_code == 0, result.output
    after = _surfaces(app, client)
    assert set(after.values()) <= {"1.5"}, after
    enrollments = client.get("/api/v1/enrollments").get_json()["enrollments"]
    hours = {e["course"]: e["ce_hours_earned"] for e in enrollments}
    assert hours == {"hip-basics": None, "neck-basics": 1.5}
    assert "Certificate revoked" in client.get("/learning/").get_data(as_text=True)


def test_the_admin_member_page_shows_a_revoked_course_without_its_hours(app, client):
    from tests.admin import helpers

    s = completed_student(app)
    result = app.test_cli_runner().invoke(
        args=["certificates", "revoke", code_of(app, s.user_id), "--reason", "Someone else"]
    )
    assert result.exit_code == 0, result.output
    helpers.sign_in_admin(app, client)
    html = client.get(f"/admin/members/{s.user_id}/").get_data(as_text=True)
    row = html.split("Course hip-basics", 1)[1].split("</tr>", 1)[0]
    assert "revoked" in row and "2 CE hours" not in row


def test_every_surface_counts_a_new_years_eve_course_in_its_year_on_the_providers_calendar(
    app, client, pacific
):
    from datetime import UTC, datetime

    import time_machine

    # 11:30 p.m. on December 31 in California, already 2027 in UTC; looked at 10 minutes on.
    evening = datetime(2027, 1, 1, 7, 30, tzinfo=UTC)
    with time_machine.travel(evening, tick=False):
        s = completed_student(app)  # "hip-basics", 2 CE hours
    with time_machine.travel(evening.replace(minute=40), tick=False):
        support.login(client, s.email)
        page = client.get("/learning/").get_data(as_text=True)
        assert "CE hours earned in 2026" in page
        surfaces = _surfaces(app, client)
    assert {float(value) for value in surfaces.values()} == {2.0}, surfaces


def test_the_course_and_quiz_pages_stop_claiming_the_hours_of_a_revoked_certificate(app, client):
    s = completed_student(app)  # "hip-basics", 2 CE hours, evaluated, certificate issued
    support.login(client, s.email)
    assert "and earned 2 CE hours" in client.get("/courses/hip-basics").text
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["certificates", "revoke", code_of(app, s.user_id), "--reason", "Someone else"]
    )
    assert result.exit_code == 0, result.output
    course = client.get("/courses/hip-basics").text
    assert "earned 2 CE hours" not in course
    assert "Its certificate was revoked, so its CE hours no longer count." in course
    quiz = client.get("/courses/hip-basics/quiz").text
    assert ": 2 CE hours." not in quiz and "its CE hours no longer count" in quiz


def test_a_course_renamed_after_completion_keeps_its_completed_title_in_the_members_records(
    app, client
):
    from tests.certificates.helpers import edit_course

    s = completed_student(app, title="Hip Release for LMTs")
    with app.app_context():
        edit_course(s.course.id, title="Hip Release, Second Edition")
    support.login(client, s.email)
    completed = client.get("/learning/").get_data(as_text=True).split("<thead>", 1)[1]
    # The title its certificate and transcript print, beside the hours and day they print.
    assert "Hip Release for LMTs" in completed
    assert "Second Edition" not in completed
    [enrollment] = client.get("/api/v1/enrollments").get_json()["enrollments"]
    assert enrollment["course_title"] == "Hip Release for LMTs"


def test_the_admin_member_page_names_a_renamed_course_by_its_completed_title(app, client):
    from tests.admin import helpers
    from tests.certificates.helpers import edit_course

    s = completed_student(app, title="Hip Release for LMTs")
    with app.app_context():
        edit_course(s.course.id, title="Hip Release, Second Edition")
    helpers.sign_in_admin(app, client)
    html = client.get(f"/admin/members/{s.user_id}/").get_data(as_text=True)
    # Beside the certificate that prints it, the member's courses and study-time log name it so.
    assert "Second Edition" not in html
    assert html.count("Hip Release for LMTs") >= 3


def _reissue_not_landed(app, code: str, reason: str, monkeypatch, landing: str) -> None:
    """Reissue a certificate with its issuing task not landed yet, left `landing`."""
    from campus.certificates import actions
    from campus.extensions import db

    with app.app_context():
        with monkeypatch.context() as patch:
            patch.setattr(actions, "enqueue_after_commit", lambda *args, **kwargs: None)
            certificate = actions.reissue(code, reason, actor=None)
        certificate.status = landing
        db.session.commit()


@pytest.mark.parametrize("landing", ["pending", "failed"])
def test_a_certificate_being_reissued_keeps_its_hours_on_every_surface(
    app, client, monkeypatch, landing
):
    # A reissue corrects a name; the completion stands all the while its new PDF is drawn (or
    # retried), as the CE Broker roster lists it: the transcript must not drop the course.
    s = completed_student(app)  # "hip-basics", 2 CE hours
    with app.app_context():
        complete_course(s.user_id, make_course("neck-basics", ce_hours="1.5"))
    _reissue_not_landed(app, code_of(app, s.user_id), "Name misspelled", monkeypatch, landing)
    support.login(client, s.email)
    surfaces = _surfaces(app, client)
    assert set(surfaces.values()) <= {"3.5"}, surfaces
    transcript = client.get("/certificates/transcript.csv").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(transcript)))[1:-1]
    assert len(rows) == 2  # the course being reissued is listed (the next test: by which code)


@pytest.mark.parametrize("landing", ["pending", "failed"])
def test_every_code_a_transcript_prints_during_a_reissue_verifies(
    app, client, monkeypatch, landing
):
    # A board checks the transcript's codes: one that answers "no certificate has that code"
    # reads as a forged line. While the new PDF is drawn the new code's page is not open yet;
    # the one it replaces is, and says the new certificate is being prepared and its code.
    s = completed_student(app)
    old = code_of(app, s.user_id)
    _reissue_not_landed(app, old, "Name misspelled", monkeypatch, landing)
    new = code_of(app, s.user_id)
    support.login(client, s.email)
    transcript = client.get("/certificates/transcript.csv").get_data(as_text=True)
    [row] = list(csv.reader(io.StringIO(transcript)))[1:-1]
    code, url = row[5], row[6]
    assert code == old and url.endswith(f"/verify/{old}")
    page = client.get(f"/verify/{code}")
    assert page.status_code == 200
    assert new in page.get_data(as_text=True)  # it names the code to come
    pdf = client.get("/certificates/transcript.pdf")
    assert pdf.status_code == 200


def test_a_revoked_certificate_being_reinstated_counts_nowhere_until_it_lands(
    app, client, monkeypatch
):
    # Revoked, its hours left every surface and the roster; a reissue that has not landed has
    # not restored them yet (the roster keeps it out too), so no surface may count it.
    s = completed_student(app)
    with app.app_context():
        complete_course(s.user_id, make_course("neck-basics", ce_hours="1.5"))
    result = app.test_cli_runner().invoke(
        args=["certificates", "revoke", code_of(app, s.user_id), "--reason", "Someone else"]
    )
    assert result.exit_code == 0, result.output
    _reissue_not_landed(app, code_of(app, s.user_id), "Revoked in error", monkeypatch, "pending")
    support.login(client, s.email)
    surfaces = _surfaces(app, client)
    assert set(surfaces.values()) <= {"1.5"}, surfaces


def test_a_certificate_never_issued_is_not_listed_while_it_is_reissued(app, client, monkeypatch):
    # Its first PDF never landed (failed), and an admin reissued it to correct the name: it was
    # never certified, so the transcript must not list it before the reissue lands.
    from sqlalchemy import delete

    from campus.certificates.models import Certificate, CertificateEvent
    from campus.extensions import db

    s = completed_student(app)
    with app.app_context():
        complete_course(s.user_id, make_course("neck-basics", ce_hours="1.5"))
        certificate = db.session.get(Certificate, certificate_of(s.user_id).id)
        db.session.execute(
            delete(CertificateEvent).where(
                CertificateEvent.certificate_id == certificate.id, CertificateEvent.kind == "issued"
            )
        )
        certificate.status, certificate.issued_at = "failed", None
        db.session.commit()
    _reissue_not_landed(app, code_of(app, s.user_id), "Name misspelled", monkeypatch, "pending")
    support.login(client, s.email)
    transcript = client.get("/certificates/transcript.csv").get_data(as_text=True)
    assert code_of(app, s.user_id) not in transcript
    assert _surfaces(app, client)["certificates"] == "1.5"


def test_the_total_on_the_certificates_page_names_as_many_certificates_as_it_counts(
    app, client, monkeypatch
):
    # The total counts a certificate being reissued (its completion stands), but the line under
    # it counted issued rows only: "3.5 CE hours from 1 issued certificate".
    s = completed_student(app)  # "hip-basics", 2 CE hours
    with app.app_context():
        complete_course(s.user_id, make_course("neck-basics", ce_hours="1.5"))
    _reissue_not_landed(app, code_of(app, s.user_id), "Name misspelled", monkeypatch, "pending")
    support.login(client, s.email)
    page = client.get("/certificates/").get_data(as_text=True)
    total = page.split('cert-total-value">', 1)[1].split("<", 1)[0]
    assert total.strip() == "3.5"
    assert "from 2 issued certificates" in " ".join(page.split())


def test_a_transcript_prints_the_code_last_issued_when_a_reissue_never_landed(
    app, client, monkeypatch
):
    # Reissued, that reissue given up (never issued), reissued again and still drawn: the
    # completion stands under the first code, whose signed credential is still valid (its
    # revocation list is empty), but the transcript printed the second, a code no certificate
    # was ever issued under.
    from campus.extensions import db

    s = completed_student(app)
    first = code_of(app, s.user_id)
    _reissue_not_landed(app, first, "Name misspelled", monkeypatch, "failed")
    second = code_of(app, s.user_id)
    with app.app_context():
        certificate = certificate_of(s.user_id)
        certificate.cut_off_tries = app.config["CERTIFICATE_MAX_CUT_OFF_TRIES"] + 1
        db.session.commit()
    _reissue_not_landed(app, second, "Tried again", monkeypatch, "pending")
    support.login(client, s.email)
    transcript = client.get("/certificates/transcript.csv").get_data(as_text=True)
    [row] = list(csv.reader(io.StringIO(transcript)))[1:-1]
    assert (row[5], row[6].rsplit("/", 1)[1]) == (first, first)
    assert client.get(f"/verify/{first}/revocations.json").get_json()["revokedCredentials"] == []

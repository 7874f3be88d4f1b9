"""Issuing: frozen data, one certificate per student and course, retries, storage, the sweep."""

from __future__ import annotations

import io
import shutil
import subprocess

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from campus.certificates.codes import CODE_PATTERN, normalize
from tests import support
from tests.certificates.helpers import certificate_of, complete_course, completed_student, student
from tests.learning.helpers import make_course


def _count(model, *where):
    from campus.extensions import db

    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_passing_the_quiz_issues_a_certificate_with_the_boards_fields(app):
    s = completed_student(app, full_name="Jordan Alvarez", title="Hip Pain: Trigger Points")
    with app.app_context():
        cert = certificate_of(s.user_id)
        assert cert.status == "issued"
        assert CODE_PATTERN.match(cert.code)
        data = cert.data
        assert data["participant_name"] == "Jordan Alvarez"
        assert (data["license_number"], data["license_state"]) == ("MT-004512", "Maine")
        assert data["course_title"] == "Hip Pain: Trigger Points"
        assert data["ce_hours"] == "2.00"
        assert data["delivery_type"] == "Home study"
        assert data["approvals"][0]["approval_number"] == "1234-56"
        assert data["provider_name"] == app.config["PROVIDER_NAME"]
        assert data["signatory_name"] == app.config["CERTIFICATE_SIGNATORY_NAME"]
        assert data["verification_url"] == (
            app.config["PUBLIC_BASE_URL"].rstrip("/") + f"/verify/{cert.code}"
        )
        from campus.storage import get_storage

        text = "\n".join(
            p.extract_text()
            for p in PdfReader(io.BytesIO(get_storage().read(cert.storage_key))).pages
        )
    for expected in (
        "Certificate of Completion",
        "Jordan Alvarez",
        "License no. MT-004512",
        "Maine",
        "Hip Pain: Trigger Points",
        "2 CE hours",
        "Home study",
        "Approved by NCBTMB: 1234-56",
        cert.code,
        data["verification_url"],
        app.config["CERTIFICATE_SIGNATORY_NAME"],
        app.config["PROVIDER_ADDRESS"],
        app.config["PROVIDER_EMAIL"],
    ):
        assert expected in text, expected


def test_certificate_pdf_is_landscape_with_embedded_fonts(app):
    s = completed_student(app)
    with app.app_context():
        from campus.storage import get_storage

        reader = PdfReader(io.BytesIO(get_storage().read(certificate_of(s.user_id).storage_key)))
    page = reader.pages[0]
    assert float(page.mediabox.width) > float(page.mediabox.height)
    fonts = page["/Resources"]["/Font"]
    for ref in fonts.values():
        font = ref.get_object()
        descendant = (
            font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
        )
        descriptor = descendant["/FontDescriptor"].get_object()
        assert "/FontFile2" in descriptor, font["/BaseFont"]


def test_frozen_data_survives_later_edits_to_user_and_course(app):
    s = completed_student(app, full_name="Before Name")
    from campus.accounts.models import User
    from campus.extensions import db
    from campus.learning.models import Course

    with app.app_context():
        db.session.get(User, s.user_id).full_name = "After Name"
        db.session.get(Course, s.course.id).title = "Renamed course"
        db.session.commit()
        data = certificate_of(s.user_id).data
    assert data["participant_name"] == "Before Name"
    assert data["course_title"] == "Course hip-basics"


def test_running_the_task_again_changes_nothing_and_sends_one_email(app):
    from campus.certificates.models import Certificate, CertificateEvent
    from campus.certificates.tasks import issue_certificate
    from campus.mail.models import EmailMessage

    s = completed_student(app)
    with app.app_context():
        first = certificate_of(s.user_id)
        code, issued_at = first.code, first.issued_at
    for _ in range(3):
        assert issue_certificate.apply(args=[s.enrollment_id]).get() == "unchanged"
    with app.app_context():
        assert _count(Certificate) == 1
        again = certificate_of(s.user_id)
        assert (again.code, again.issued_at) == (code, issued_at)
        assert _count(EmailMessage, EmailMessage.to == s.email) == 1
        assert _count(CertificateEvent, CertificateEvent.kind == "issued") == 1
    (message,) = support.outbox(app)
    assert message["Subject"] == "Your CE certificate is ready"
    assert f"/certificates/{code}.pdf" in support.body_of(message)


def test_database_refuses_a_second_certificate_for_the_same_course(app):
    from sqlalchemy.exc import IntegrityError

    from campus.certificates.models import Certificate
    from campus.extensions import db

    s = completed_student(app)
    with app.app_context():
        first = certificate_of(s.user_id)
        db.session.add(
            Certificate(
                code="CE-2222-3333",
                user_id=s.user_id,
                course_id=s.course.id,
                data={},
                ce_hours=first.ce_hours,
                completed_at=first.completed_at,
            )
        )
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()


def test_incomplete_enrollment_gets_no_certificate(app):
    from campus.certificates.tasks import issue_certificate
    from tests.learning.helpers import enroll_directly

    with app.app_context():
        course = make_course()
        user_id = student().id
        enrollment_id = enroll_directly(user_id, course.id)
    assert issue_certificate.apply(args=[enrollment_id]).get() is None
    assert issue_certificate.apply(args=[999999]).get() is None
    with app.app_context():
        assert certificate_of(user_id) is None


class _BrokenStorage:
    """Storage that fails its first `failures` writes, then stores into a real folder."""

    def __init__(self, inner, failures: int) -> None:
        self.inner, self.failures, self.calls = inner, failures, 0

    def save(self, key, data, content_type=None):
        self.calls += 1
        if self.calls <= self.failures:
            raise OSError(28, "No space left on device")
        self.inner.save(key, data, content_type)

    def read(self, key):
        return self.inner.read(key)

    def open(self, key):
        return self.inner.open(key)

    def exists(self, key):
        return self.inner.exists(key)

    def delete(self, key):
        self.inner.delete(key)

    def size(self, key):
        return self.inner.size(key)

    def url(self, key, **kwargs):
        return self.inner.url(key, **kwargs)


def _break_storage(app, failures: int) -> _BrokenStorage:
    from campus.storage import LocalStorage

    broken = _BrokenStorage(LocalStorage(app.config["INSTANCE_PATH"]), failures)
    app.extensions["storage"] = broken
    return broken


def test_storage_failure_marks_failed_then_a_retry_issues(app):
    from campus.certificates.models import CertificateEvent

    broken = _break_storage(app, failures=2)
    s = completed_student(app)
    with app.app_context():
        cert = certificate_of(s.user_id)
        kinds = [e.kind for e in cert.events]
        assert kinds == ["created", "failed", "failed", "issued"]
        assert cert.status == "issued" and cert.attempts == 3 and cert.last_error is None
        assert "No space left on device" in cert.events[1].detail
        assert _count(CertificateEvent, CertificateEvent.kind == "issued") == 1
    assert broken.calls == 3
    assert len(support.outbox(app)) == 1


def test_persistent_storage_failure_leaves_failed_status_for_the_student_and_the_sweep(app):
    from campus.certificates.tasks import sweep_certificates

    app.config["CERTIFICATE_SWEEP_AFTER"] = 0
    broken = _break_storage(app, failures=100)
    s = completed_student(app)
    with app.app_context():
        cert = certificate_of(s.user_id)
        assert cert.status == "failed"
        assert "No space left on device" in cert.last_error
        assert cert.storage_key is None
    client = app.test_client()
    support.login(client, s.email)
    page = client.get("/certificates/").get_data(as_text=True)
    assert "Delayed, retrying" in page and "Download PDF" not in page
    assert support.outbox(app) == []
    assert not list(
        (app.config["INSTANCE_PATH"] / "certificates").glob("*")
    )  # nothing half-written

    broken.failures = 0
    assert sweep_certificates.apply().get() == 1
    with app.app_context():
        assert certificate_of(s.user_id).status == "issued"
    assert len(support.outbox(app)) == 1
    assert sweep_certificates.apply().get() == 0


def test_sweep_issues_certificates_for_completions_that_never_got_one(app):
    from campus.certificates.tasks import sweep_certificates
    from campus.learning.signals import enrollment_evaluated

    with app.app_context():
        course = make_course()
        user_id = student().id
        # The evaluation is stored while nobody listens (a lost message, a crashed web process).
        receivers = list(enrollment_evaluated.receivers.values())
        with enrollment_evaluated.muted():
            complete_course(user_id, course)
        assert receivers
        assert certificate_of(user_id) is None
    assert sweep_certificates.apply().get() == 1
    with app.app_context():
        assert certificate_of(user_id).status == "issued"


def test_codes_are_unambiguous_and_normalized():
    from campus.certificates.codes import ALPHABET, new_code

    assert not set("0O1I") & set(ALPHABET)
    codes = {new_code() for _ in range(500)}
    assert len(codes) == 500 and all(CODE_PATTERN.match(c) for c in codes)
    assert normalize(" ce-7k4m-q2xp ") == "CE-7K4M-Q2XP"
    for bad in ("", None, "CE-0000-1111", "CE-7K4M-Q2X", "../etc/passwd", "CE-7K4M-Q2XP" * 5):
        assert normalize(bad) is None


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="needs pdftoppm (poppler-utils)")
def test_qr_code_on_the_printed_certificate_reads_back_as_the_verification_url(app, tmp_path):
    import zxingcpp
    from PIL import Image

    s = completed_student(app)
    with app.app_context():
        from campus.storage import get_storage

        cert = certificate_of(s.user_id)
        (tmp_path / "c.pdf").write_bytes(get_storage().read(cert.storage_key))
        url = cert.data["verification_url"]
    subprocess.run(
        ["pdftoppm", "-png", "-r", "110", str(tmp_path / "c.pdf"), str(tmp_path / "page")],
        check=True,
    )
    (png,) = tmp_path.glob("page*.png")
    found = zxingcpp.read_barcodes(Image.open(png))
    assert [(b.format, b.text) for b in found] == [(zxingcpp.BarcodeFormat.QRCode, url)]


@pytest.mark.parametrize(
    ("hours", "expected"),
    [("1.00", "1 CE hour"), ("1", "1 CE hour"), ("1.50", "1.5 CE hours"), ("2.00", "2 CE hours")],
)
def test_ce_hours_are_written_with_the_noun_in_agreement(hours, expected):
    from campus.templating import counted

    assert counted(hours, "CE hour") == expected


def test_a_one_hour_course_reads_one_ce_hour_on_its_certificate_badge_and_email(app):
    import re

    from campus.certificates.credentials import credential
    from campus.storage import get_storage

    with app.app_context():
        course = make_course("one-hour-cert", ce_hours="1")
        user = student(email="solo@example.com")
        complete_course(user.id, course)
        cert = certificate_of(user.id)
        pdf = PdfReader(io.BytesIO(get_storage().read(cert.storage_key)))
        text = "\n".join(page.extract_text() for page in pdf.pages)
        badge = credential(cert)["name"]
    assert re.search(r"\b1 CE hour\b(?!s)", text), text
    assert "CE hours" not in text
    assert badge.endswith(": 1 CE hour")
    (mail,) = [m for m in support.outbox(app) if m["To"] == "solo@example.com"]
    assert "(1 CE hour)" in support.body_of(mail)


def test_a_recorded_webinar_prints_as_home_study_the_course_type_boards_accept(app):
    # NCBTMB: "Recorded webinars are considered home study courses"; a certificate that
    # names another course type is sent back by the board.
    from tests.certificates.helpers import edit_course

    with app.app_context():
        course = make_course("recorded-once")
        edit_course(course.id, delivery_type="recorded_webinar")
        user = student()
        complete_course(user.id, course)
        cert = certificate_of(user.id)
        from campus.storage import get_storage

        body = get_storage().read(cert.storage_key)
    assert cert.data["delivery_type"] == "Home study (recorded webinar)"
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(body)).pages)
    assert "Home study (recorded webinar)" in " ".join(text.split())

"""An approval starts on its board's first day: a course completed earlier was not approved CE."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

from pypdf import PdfReader
from sqlalchemy import select

from campus import dates
from tests.certificates.helpers import certificate_of, complete_course, student
from tests.learning.helpers import make_course


def _start_approvals(course_id: int, days_from_today: int) -> None:
    """Give the course's approvals a first day, `days_from_today` after today."""
    from campus.extensions import db
    from campus.learning.models import BoardApproval

    for approval in db.session.scalars(
        select(BoardApproval).where(BoardApproval.course_id == course_id)
    ):
        approval.valid_from = dates.today() + timedelta(days=days_from_today)
    db.session.commit()


def _pdf_text(certificate) -> str:
    from campus.certificates import services

    body = services.render(certificate)
    return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(body)).pages).split())


def test_an_approval_is_not_in_force_before_its_first_day():
    from datetime import date

    from campus.learning.models import BoardApproval

    approval = BoardApproval(
        board="NCBTMB",
        approval_number="1",
        valid_from=date(2027, 1, 1),
        valid_until=date(2027, 12, 31),
    )
    assert not approval.is_valid_on(date(2026, 12, 31))
    assert approval.is_valid_on(date(2027, 1, 1)) and approval.is_valid_on(date(2027, 12, 31))
    assert not approval.is_valid_on(date(2028, 1, 1))
    # Recorded without a first day (as every approval was before): in force up to its end.
    assert BoardApproval(board="B", approval_number="2").is_valid_on(date(1990, 1, 1))


def test_a_course_completed_before_its_approval_started_prints_no_approval(app):
    with app.app_context():
        course = make_course("not-yet-approved", ce_hours="2")
        _start_approvals(course.id, 10)
        user = student()
        enrollment_id = complete_course(user.id, course)
        from campus.extensions import db
        from campus.learning.models import Enrollment

        assert db.session.get(Enrollment, enrollment_id).completed_course["approvals"] == []
        certificate = certificate_of(user.id)
        assert certificate.data["approvals"] == []
        text = _pdf_text(certificate)
        code, user_id = certificate.code, user.id
    assert "No board approval was in force on the completion date" in text
    assert "1234-56" not in text
    # The transcript a board audits lists none for it either.
    with app.app_context():
        from campus.accounts.models import User
        from campus.certificates.transcripts import transcript_csv

        today = dates.today()
        csv_text = transcript_csv(db.session.get(User, user_id), today, today)
    assert code in csv_text and "1234-56" not in csv_text


def test_a_course_completed_on_or_after_the_first_day_prints_it_with_its_dates(app, client):
    from tests.learning.helpers import sign_in

    with app.app_context():
        course = make_course("approved-since", ce_hours="2")
        _start_approvals(course.id, 0)
        user = student()
        complete_course(user.id, course)
        certificate = certificate_of(user.id)
        [printed] = certificate.data["approvals"]
        assert printed["approval_number"] == "1234-56"
        assert printed["valid_from"] == dates.today().isoformat()
        assert "1234-56" in _pdf_text(certificate)
        user_id, code = user.id, certificate.code
    sign_in(client, user_id)
    [approval] = client.get(f"/api/v1/certificates/{code}").get_json()["approvals"]
    assert approval["valid_from"] == dates.today().isoformat()
    document = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    assert "valid_from" in document["CertificateApproval"]["properties"]


def test_a_course_frozen_before_approvals_had_a_first_day_still_issues_as_frozen(app, client):
    from campus.extensions import db
    from campus.learning.models import Enrollment
    from tests.certificates.helpers import complete_without_evaluating
    from tests.learning.helpers import evaluate, sign_in

    with app.app_context():
        course = make_course("frozen-before", ce_hours="2")
        user = student()
        enrollment_id = complete_without_evaluating(user.id, course)
        enrollment = db.session.get(Enrollment, enrollment_id)
        frozen = dict(enrollment.completed_course)
        # As an enrollment completed before the first day was kept: no such key.
        frozen["approvals"] = [
            {k: v for k, v in a.items() if k != "valid_from"} for a in frozen["approvals"]
        ]
        enrollment.completed_course = frozen
        db.session.commit()
        evaluate(user.id, course)
        certificate = certificate_of(user.id)
        assert certificate.status == "issued"
        assert [a["approval_number"] for a in certificate.data["approvals"]] == ["1234-56"]
        user_id, code = user.id, certificate.code
    sign_in(client, user_id)
    [approval] = client.get(f"/api/v1/certificates/{code}").get_json()["approvals"]
    assert approval["approval_number"] == "1234-56" and approval["valid_from"] is None


def test_the_renewal_tracker_does_not_count_a_completion_before_the_approval_started(app):
    from campus.extensions import db
    from campus.learning.models import BoardApproval
    from campus.licenses.tracker import trackers_for
    from tests.licenses.helpers import add_license, import_shipped_rules

    with app.app_context():
        import_shipped_rules()  # Florida massage takes Florida Board approvals
        course = make_course("florida-from-next-week", ce_hours="3")
        db.session.add(
            BoardApproval(
                course_id=course.id,
                board="FL",
                approval_number="20-4444",
                valid_from=dates.today() + timedelta(days=7),
            )
        )
        db.session.commit()
        user = student(license_number=None, license_state=None)
        add_license(user.id, "FL", "MA12345", expires_on=dates.today() + timedelta(days=300))
        complete_course(user.id, course)
        [tracker] = trackers_for(user.id)
        assert tracker.counted == Decimal("0.00")
        # The certificate a Florida auditor reads names no Florida approval.
        assert [a["board"] for a in certificate_of(user.id).data["approvals"]] == ["NCBTMB"]
        [credit] = tracker.credits
        assert credit.reason.startswith("Approval not accepted")

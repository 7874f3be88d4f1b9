"""A certificate carries the hours earned at completion, whatever the course says later."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import pytest
from pypdf import PdfReader

from tests import support
from tests.certificates.helpers import (
    certificate_of,
    complete_without_evaluating,
    edit_course,
    student,
)
from tests.learning.helpers import evaluate, make_course


def _pdf_text(certificate) -> str:
    from campus.storage import get_storage

    pdf = PdfReader(io.BytesIO(get_storage().read(certificate.storage_key)))
    return "\n".join(page.extract_text() for page in pdf.pages)


def _transcript_rows(client) -> list[list[str]]:
    response = client.get("/certificates/transcript.csv")  # this year to today
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_hours_edited_after_completion_do_not_change_what_the_certificate_says(app, client):
    with app.app_context():
        course = make_course("hours-edited", ce_hours="2")
        user = student(email="earned@example.com")
        complete_without_evaluating(user.id, course)
        # The admin lowers the course's hours before the learner submits the evaluation.
        edit_course(course.id, ce_hours=Decimal("0.25"))
        evaluate(user.id, course)  # the certificate is issued now
        cert = certificate_of(user.id)
        assert cert.status == "issued"
        assert cert.ce_hours == Decimal("2.00")
        assert cert.data["ce_hours"] == "2.00"
        text = _pdf_text(cert)
        code = cert.code
    assert re.search(r"\b2 CE hours\b", text), text
    assert "0.25" not in text
    support.login(client, "earned@example.com")
    rows = _transcript_rows(client)
    assert [row[2] for row in rows[1:]] == ["2", "2"]  # the certificate's row, then the total
    listing = client.get("/api/v1/certificates").get_json()
    assert listing["certificates"][0]["ce_hours"] == 2.0 and listing["total_ce_hours"] == 2.0
    verify = client.get(f"/verify/{code}").get_data(as_text=True)
    assert "2 CE hours" in verify and "0.25" not in verify


def test_a_reissue_keeps_the_hours_and_title_first_issued_and_prints_the_corrected_name(app):
    from campus.accounts.models import User
    from campus.certificates import actions
    from campus.extensions import db
    from tests.certificates.helpers import complete_course

    with app.app_context():
        course = make_course("reissue-kept", ce_hours="2", title="Hip: Gluteus Medius")
        user = student(full_name="Jordan Smtih")
        complete_course(user.id, course)
        first = certificate_of(user.id)
        old_code = first.code
        assert (first.data["ce_hours"], first.data["course_title"]) == (
            "2.00",
            "Hip: Gluteus Medius",
        )
        edit_course(course.id, ce_hours=Decimal("0.25"), title="Hip: Gluteals (revised)")
        db.session.get(User, user.id).full_name = "Jordan Smith"
        db.session.commit()
        actions.reissue(old_code, "Name misspelled", actor=None)
        db.session.commit()  # the issuing task runs inline after the commit
        cert = certificate_of(user.id)
        assert cert.code != old_code and cert.status == "issued"
        assert cert.ce_hours == Decimal("2.00")
        assert cert.data["ce_hours"] == "2.00"
        assert cert.data["course_title"] == "Hip: Gluteus Medius"
        assert cert.data["participant_name"] == "Jordan Smith"
        text = _pdf_text(cert)
    assert "Jordan Smith" in text and "Smtih" not in text
    assert "Hip: Gluteus Medius" in text and "revised" not in text
    assert re.search(r"\b2 CE hours\b", text), text
    assert "0.25" not in text


@pytest.mark.parametrize("course", ["edited", "left_the_catalog"])
def test_a_reissue_prints_the_hours_earned_on_a_certificate_whose_copies_disagreed(app, course):
    from campus.certificates import actions
    from campus.extensions import db
    from tests.certificates.helpers import complete_course

    with app.app_context():
        made = make_course("reissue-mended", ce_hours="2")
        user = student()
        complete_course(user.id, made)
        cert = certificate_of(user.id)
        # Issued before the hours had one source: it printed the course's hours of that day.
        cert.data = dict(cert.data, ce_hours="0.25")
        if course == "edited":
            edit_course(made.id, ce_hours=Decimal("0.25"))
        else:  # as a deleted course leaves it: no course, no enrollment
            cert.course_id = cert.enrollment_id = None
        db.session.commit()
        actions.reissue(cert.code, "Hours printed wrong", actor=None)
        db.session.commit()
        cert = certificate_of(user.id)
        assert cert.status == "issued"
        assert cert.ce_hours == Decimal("2.00") and cert.data["ce_hours"] == "2.00"
        text = _pdf_text(cert)
    assert re.search(r"\b2 CE hours\b", text), text


def test_transcript_and_api_list_the_hours_earned_beside_their_total(app, client):
    from campus.extensions import db
    from tests.certificates.helpers import complete_course

    with app.app_context():
        course = make_course("listed-hours", ce_hours="2")
        user = student(email="listed@example.com")
        complete_course(user.id, course)
        cert = certificate_of(user.id)
        # Issued before the hours had one source: its printed copy says what the course did then.
        cert.data = dict(cert.data, ce_hours="0.25")
        db.session.commit()
    support.login(client, "listed@example.com")
    rows = _transcript_rows(client)
    assert [row[2] for row in rows[1:]] == ["2", "2"]
    listing = client.get("/api/v1/certificates").get_json()
    assert [c["ce_hours"] for c in listing["certificates"]] == [listing["total_ce_hours"]] == [2.0]


def test_a_reissue_prints_the_approvals_the_course_held_when_it_was_completed(app):
    from datetime import timedelta

    from campus import dates
    from campus.accounts.models import User
    from campus.certificates import actions
    from campus.extensions import db
    from campus.learning.models import BoardApproval
    from tests.certificates.helpers import complete_course

    with app.app_context():
        course = make_course("reissue-approvals", ce_hours="2")
        user = student(full_name="Jordan Smtih")
        complete_course(user.id, course)
        first = certificate_of(user.id)
        old_code, printed = first.code, first.data["approvals"]
        assert [a["approval_number"] for a in printed] == ["1234-56"]
        # The board renews the approval under a new number, from today on.
        db.session.add(
            BoardApproval(
                course_id=course.id,
                board="NCBTMB",
                approval_number="7777-01",
                valid_until=dates.today() + timedelta(days=730),
            )
        )
        db.session.get(User, user.id).full_name = "Jordan Smith"
        db.session.commit()
        actions.reissue(old_code, "Name misspelled", actor=None)
        db.session.commit()
        cert = certificate_of(user.id)
        assert cert.status == "issued" and cert.data["participant_name"] == "Jordan Smith"
        # The course was taken under the approval in force then, not one granted since.
        assert cert.data["approvals"] == printed
        text = _pdf_text(cert)
    assert "1234-56" in text and "7777-01" not in text


def test_a_reissue_keeps_the_completion_date_printed_under_an_earlier_time_zone(app, pacific):
    from datetime import UTC, datetime

    import time_machine

    from campus.accounts.models import User
    from campus.certificates import actions
    from campus.extensions import db
    from tests.certificates.helpers import complete_course

    with app.app_context():
        course = make_course("reissue-dated", ce_hours="2")
        user = student(full_name="Jordan Smtih")
        # 7:30 a.m. UTC on New Year's Day, issued while the provider's calendar was UTC.
        app.config["TIME_ZONE"] = "UTC"
        with time_machine.travel(datetime(2027, 1, 1, 7, 30, tzinfo=UTC), tick=False):
            complete_course(user.id, course)
        first = certificate_of(user.id)
        assert first.data["completion_date"] == "2027-01-01"
        app.config["TIME_ZONE"] = "America/Los_Angeles"  # the setting changes afterwards
        db.session.get(User, user.id).full_name = "Jordan Smith"
        db.session.commit()
        actions.reissue(first.code, "Name misspelled", actor=None)
        db.session.commit()
        cert = certificate_of(user.id)
        assert cert.status == "issued" and cert.data["participant_name"] == "Jordan Smith"
        # The completion was dated, reported and counted as January 1: the correction keeps it.
        assert cert.data["completion_date"] == "2027-01-01"
        assert cert.data["completion_date_text"] == "January 1, 2027"
        text = _pdf_text(cert)
    assert "January 1, 2027" in text and "December 31, 2026" not in text


def test_a_certificate_issued_after_a_late_evaluation_prints_the_course_as_completed(app):
    from datetime import timedelta

    from campus import dates
    from campus.extensions import db
    from campus.learning.models import BoardApproval

    with app.app_context():
        course = make_course("late-evaluation", ce_hours="2")
        user = student(email="late@example.com")
        complete_without_evaluating(user.id, course)
        # Before the learner gets round to the evaluation, the admin recasts the course and
        # records the board's renewal under a new number.
        edit_course(
            course.id,
            title="Renamed Course",
            delivery_type="live_webinar",
            presenters="Someone Later, PT",
        )
        db.session.add(
            BoardApproval(
                course_id=course.id,
                board="NCBTMB",
                approval_number="7777-01",
                valid_until=dates.today() + timedelta(days=730),
            )
        )
        db.session.commit()
        evaluate(user.id, course)  # the certificate is frozen and issued now
        cert = certificate_of(user.id)
        assert cert.status == "issued"
        data = cert.data
        assert data["course_title"] == "Course late-evaluation"
        assert data["delivery_key"] == "home_study" and data["delivery_type"] == "Home study"
        assert [a["approval_number"] for a in data["approvals"]] == ["1234-56"]
        assert data["instructors"] == ["Ann Presenter, LMT"]
        text = _pdf_text(cert)
    assert "Course late-evaluation" in text and "Renamed Course" not in text
    assert "1234-56" in text and "7777-01" not in text

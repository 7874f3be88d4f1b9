"""Completion dates on the provider's calendar: the certificate, the hours and CE Broker agree."""

from __future__ import annotations

from datetime import UTC, date, datetime

import time_machine
from sqlalchemy import select

from campus.extensions import db
from tests.certificates.helpers import certificate_of, complete_course, student
from tests.reporting.helpers import configure, course_with_number

# 11:30 p.m. on New Year's Eve in California is 7:30 a.m. on New Year's Day in UTC.
PACIFIC_EVENING = datetime(2027, 1, 1, 7, 30, tzinfo=UTC)


def test_a_course_finished_on_a_pacific_evening_is_dated_that_day_everywhere(
    app, pacific, fake_cebroker
):
    configure(app, fake_cebroker)
    with app.app_context():
        course = course_with_number("nye-course")
        user = student(license_number="MA12345", license_state="FL", full_name="Rosa Delgado")
        with time_machine.travel(PACIFIC_EVENING, tick=False):
            complete_course(user.id, course)
        certificate = certificate_of(user.id)
        assert certificate.data["completion_date"] == "2026-12-31"
        assert certificate.data["completion_date_text"] == "December 31, 2026"

        from campus.learning import credit
        from campus.licenses.tracker import completions

        # The hours count in the year (and a renewal cycle ending) on December 31, not after it.
        cycle = completions(user.id, date(2025, 1, 1), date(2026, 12, 31))
        assert [c.completed_on for c in cycle] == [date(2026, 12, 31)]
        assert credit.earned_hours(user.id, date(2026, 12, 31), date(2026, 12, 31)) > 0
        assert credit.earned_hours(user.id, date(2027, 1, 1), date(2027, 1, 31)) == 0
    # CE Broker is told the date the certificate prints.
    [attendee] = fake_cebroker.attendees()
    assert attendee.findtext("course_date") == "12/31/2026"


def test_a_report_keeps_the_printed_date_of_a_certificate_issued_on_utc_dates(
    app, fake_cebroker, pacific
):
    configure(app, fake_cebroker)
    with app.app_context():
        course = course_with_number("utc-course")
        user = student(license_number="MA12346", license_state="FL", full_name="Ada Older")
        with time_machine.travel(PACIFIC_EVENING, tick=False):
            app.config["TIME_ZONE"] = "UTC"  # issued while the setting was UTC
            complete_course(user.id, course)
        assert certificate_of(user.id).data["completion_date"] == "2027-01-01"
        app.config["TIME_ZONE"] = "America/Los_Angeles"
        from campus.reporting.models import ReportedCompletion
        from campus.reporting.services import completion_of

        report = db.session.scalars(select(ReportedCompletion)).one()
        assert completion_of(report).completed_on == date(2027, 1, 1)


def test_the_admin_reads_when_a_report_was_sent_on_the_providers_clock(
    app, client, pacific, fake_cebroker
):
    # Sent at 11:30 p.m. on December 31 in California: not "2027-01-01 07:30" with no zone,
    # as every other admin list dates on the provider's clock.
    from tests.admin import helpers as admin

    configure(app, fake_cebroker)
    with app.app_context():
        course = course_with_number("sent-evening")
        user = student(license_number="MA12347", license_state="FL", full_name="Eve Sender")
        with time_machine.travel(PACIFIC_EVENING, tick=False):
            complete_course(user.id, course)
        from campus.reporting.models import ReportedCompletion

        report = db.session.scalars(select(ReportedCompletion)).one()
        assert report.sent_at == PACIFIC_EVENING
        report_id = report.id
    admin.sign_in_admin(app, client)
    details = client.get(f"/admin/reports/details/?id={report_id}").text
    assert "2026-12-31 23:30 PST" in details and "2027-01-01 07:30" not in details
    listed = client.get("/admin/reports/").text
    assert "2027-01-01" not in listed

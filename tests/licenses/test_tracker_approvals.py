"""A renewal tracker weighs a completion by what its certificate printed: approvals, date."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import time_machine
from sqlalchemy import select

from campus import dates
from campus.extensions import db
from tests.certificates.helpers import certificate_of, complete_course, student
from tests.learning.helpers import make_course
from tests.licenses.helpers import add_license, import_shipped_rules


def _florida_tracker(user_id: int):
    from campus.licenses.tracker import trackers_for

    [tracker] = trackers_for(user_id)
    return tracker


def test_an_approval_granted_after_completion_does_not_make_it_count(app):
    from campus.learning.models import BoardApproval

    with app.app_context():
        import_shipped_rules()  # Florida massage takes Florida Board approvals, not NCBTMB's
        course = make_course("ncbtmb-only", ce_hours="3")
        user = student(license_number=None, license_state=None)
        add_license(user.id, "FL", "MA12345", expires_on=dates.today() + timedelta(days=300))
        complete_course(user.id, course)
        assert [a["board"] for a in certificate_of(user.id).data["approvals"]] == ["NCBTMB"]
        assert _florida_tracker(user.id).counted == Decimal("0.00")
        # Florida approves the course later; approvals have no first day to say so.
        db.session.add(BoardApproval(course_id=course.id, board="FL", approval_number="20-9999"))
        db.session.commit()
        tracker = _florida_tracker(user.id)
        # The certificate a Florida auditor reads names no Florida approval: it does not count.
        assert tracker.counted == Decimal("0.00")
        assert tracker.due == Decimal("24.00")


def test_an_approval_removed_after_completion_still_counts_the_hours(app):
    from campus.learning.models import BoardApproval

    with app.app_context():
        import_shipped_rules()
        course = make_course("florida-approved", ce_hours="3")
        db.session.add(BoardApproval(course_id=course.id, board="FL", approval_number="20-1111"))
        db.session.commit()
        user = student(license_number=None, license_state=None)
        add_license(user.id, "FL", "MA12345", expires_on=dates.today() + timedelta(days=300))
        complete_course(user.id, course)
        assert _florida_tracker(user.id).counted == Decimal("3.00")
        # The admin tidies the course's approvals: Florida's is dropped from the course.
        florida = db.session.scalars(
            select(BoardApproval).where(
                BoardApproval.course_id == course.id, BoardApproval.board == "FL"
            )
        ).one()
        db.session.delete(florida)
        db.session.commit()
        # The certificate still prints the Florida approval the course was taken under.
        assert _florida_tracker(user.id).counted == Decimal("3.00")


def test_a_completion_counts_in_the_cycle_of_the_date_its_certificate_prints(app, pacific):
    from campus.learning.models import BoardApproval
    from campus.licenses.tracker import completions

    with app.app_context():
        import_shipped_rules()
        course = make_course("printed-date", ce_hours="3")
        db.session.add(BoardApproval(course_id=course.id, board="FL", approval_number="20-2222"))
        db.session.commit()
        user = student(license_number=None, license_state=None)
        add_license(user.id, "FL", "MA12345", expires_on=date(2026, 12, 31))
        # 11:30 p.m. on December 31 in California, issued while the provider's calendar was UTC.
        app.config["TIME_ZONE"] = "UTC"
        with time_machine.travel(datetime(2027, 1, 1, 7, 30, tzinfo=UTC), tick=False):
            complete_course(user.id, course)
        assert certificate_of(user.id).data["completion_date"] == "2027-01-01"
        app.config["TIME_ZONE"] = "America/Los_Angeles"
        # The certificate an auditor reads is dated after the cycle ended: not counted in it.
        assert _florida_tracker(user.id).counted == Decimal("0.00")
        later = completions(user.id, date(2027, 1, 1), date(2028, 12, 31))
        assert [c.completed_on for c in later] == [date(2027, 1, 1)]

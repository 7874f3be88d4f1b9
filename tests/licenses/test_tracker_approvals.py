"""A renewal tracker weighs a completion by the approvals its certificate printed."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

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

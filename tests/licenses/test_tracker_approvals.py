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
        # Florida approves the course later, its approval entered without a first day.
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


def _florida_course(slug: str, **fields):
    """A Florida-approved course (in an app context) with these columns."""
    from campus.learning.models import BoardApproval
    from tests.certificates.helpers import edit_course

    course = make_course(slug, ce_hours="14")
    db.session.add(BoardApproval(course_id=course.id, board="FL", approval_number="20-3333"))
    db.session.commit()
    edit_course(course.id, **fields)
    return course


def _florida_member_who_completed(course):
    user = student(license_number=None, license_state=None)
    add_license(user.id, "FL", "MA12345", expires_on=dates.today() + timedelta(days=300))
    complete_course(user.id, course)
    return user


def _uncap_live_webinars() -> None:
    """Florida's rule caps live webinars like home study; this test's board does not."""
    from campus.licenses.models import RenewalRule

    rule = db.session.scalars(
        select(RenewalRule).where(
            RenewalRule.jurisdiction == "FL", RenewalRule.profession == "massage_therapist"
        )
    ).one()
    rule.capped_deliveries = ["home_study", "recorded_webinar"]
    db.session.commit()


def test_a_completion_keeps_the_subjects_delivery_and_audience_it_was_taken_under(app):
    from tests.certificates.helpers import edit_course

    with app.app_context():
        import_shipped_rules()
        _uncap_live_webinars()
        course = _florida_course("live-ethics", subjects=["ethics"], delivery_type="live_webinar")
        user = _florida_member_who_completed(course)
        before = _florida_tracker(user.id)
        ethics = {s.key: s.counted for s in before.subjects}["ethics"]
        assert (before.counted, ethics) == (Decimal("14.00"), Decimal("2.00"))
        # The admin recasts the course: home study, no ethics, for physical therapists only.
        edit_course(course.id, subjects=["laws_and_rules"], delivery_type="home_study")
        from campus.learning.models import Course, CourseProfession

        db.session.get(Course, course.id).audience = [
            CourseProfession(profession="physical_therapist")
        ]
        db.session.commit()
        after = _florida_tracker(user.id)
        # What the member did still counts as what it was: 14 live hours, 2 of them ethics.
        assert after.counted == Decimal("14.00") and after.home_study_counted == Decimal("0.00")
        assert {s.key: s.counted for s in after.subjects}["ethics"] == Decimal("2.00")
        assert {s.key: s.counted for s in after.subjects}["laws_and_rules"] == Decimal("0.00")


def test_a_certificate_frozen_without_them_counts_by_its_printed_delivery_and_the_course(app):
    from tests.certificates.helpers import edit_course

    with app.app_context():
        import_shipped_rules()
        _uncap_live_webinars()
        course = _florida_course("older-cert", subjects=["ethics"], delivery_type="live_webinar")
        user = _florida_member_who_completed(course)
        certificate = certificate_of(user.id)
        certificate.data = {
            k: v
            for k, v in certificate.data.items()
            if k not in ("delivery_key", "subject_keys", "course_professions")
        }
        db.session.commit()
        edit_course(course.id, subjects=[], delivery_type="home_study")
        tracker = _florida_tracker(user.id)
        # The printed "Live webinar" still says how it was delivered; subjects were not printed.
        assert tracker.home_study_counted == Decimal("0.00")
        assert {s.key: s.counted for s in tracker.subjects}["ethics"] == Decimal("0.00")


def test_a_reissue_keeps_what_the_course_was_counted_as(app):
    from campus.certificates import actions
    from tests.certificates.helpers import edit_course

    with app.app_context():
        import_shipped_rules()
        course = _florida_course("reissued-ethics", subjects=["ethics"])
        user = _florida_member_who_completed(course)
        edit_course(course.id, subjects=[])
        actions.reissue(certificate_of(user.id).code, "Name corrected", actor=None)
        db.session.commit()
        assert certificate_of(user.id).data["subject_keys"] == ["ethics"]
        ethics = {s.key: s.counted for s in _florida_tracker(user.id).subjects}["ethics"]
        assert ethics == Decimal("2.00")


def test_an_older_certificate_printed_recorded_webinar_still_counts_as_one(app):
    from tests.certificates.helpers import edit_course

    with app.app_context():
        import_shipped_rules()
        _uncap_live_webinars()
        course = _florida_course("older-recording", delivery_type="recorded_webinar")
        user = _florida_member_who_completed(course)
        certificate = certificate_of(user.id)
        # Frozen before the delivery key was, under the label recordings printed then.
        data = {k: v for k, v in certificate.data.items() if k != "delivery_key"}
        certificate.data = {**data, "delivery_type": "Recorded webinar"}
        db.session.commit()
        edit_course(course.id, delivery_type="live_webinar")
        # Recordings count under the home-study cap (12 h here), live webinars do not.
        assert _florida_tracker(user.id).home_study_counted == Decimal("12.00")


def test_a_cebroker_approval_naming_the_licenses_board_counts(app):
    # Recorded as the README says a CE Broker tracking number is ("CE Broker (board)"): CE
    # Broker took the completion for the Florida board, while the tracker said Florida does
    # not take the course's approval.
    from campus.learning.models import BoardApproval

    with app.app_context():
        import_shipped_rules()
        course = make_course("florida-cebroker", ce_hours="3")
        db.session.add(
            BoardApproval(
                course_id=course.id,
                board="CE Broker (Florida Board of Massage Therapy)",
                approval_number="20-123456",
            )
        )
        db.session.commit()
        user = student(license_number=None, license_state=None)
        add_license(user.id, "FL", "MA12345", expires_on=dates.today() + timedelta(days=300))
        complete_course(user.id, course)
        tracker = _florida_tracker(user.id)
        assert tracker.counted == Decimal("3.00") and not tracker.not_counting


def test_an_approval_granted_before_a_late_evaluation_does_not_make_it_count(app):
    from campus.learning.models import BoardApproval
    from tests.certificates.helpers import complete_without_evaluating
    from tests.learning.helpers import evaluate

    with app.app_context():
        import_shipped_rules()  # Florida massage takes Florida Board approvals, not NCBTMB's
        course = make_course("ncbtmb-then-florida", ce_hours="3")
        user = student(license_number=None, license_state=None)
        add_license(user.id, "FL", "MA12345", expires_on=dates.today() + timedelta(days=300))
        complete_without_evaluating(user.id, course)
        # Florida approves the course after the member completed it, before the evaluation.
        db.session.add(BoardApproval(course_id=course.id, board="FL", approval_number="20-9999"))
        db.session.commit()
        assert _florida_tracker(user.id).counted == Decimal("0.00")
        evaluate(user.id, course)
        assert [a["board"] for a in certificate_of(user.id).data["approvals"]] == ["NCBTMB"]
        assert _florida_tracker(user.id).counted == Decimal("0.00")


def test_a_course_renamed_after_completion_is_listed_under_the_title_it_printed(app):
    from tests.certificates.helpers import complete_without_evaluating, edit_course

    with app.app_context():
        import_shipped_rules()
        certified = make_course("renamed-after", title="Hip Release for LMTs")
        pending = make_course("renamed-before-evaluation", title="Neck Basics")
        user = student(license_number=None, license_state=None)
        add_license(user.id, "FL", "MA12345", expires_on=dates.today() + timedelta(days=300))
        complete_course(user.id, certified)
        complete_without_evaluating(user.id, pending)
        edit_course(certified.id, title="Hip Release, Second Edition")
        edit_course(pending.id, title="Neck Basics, Second Edition")
        assert certificate_of(user.id).data["course_title"] == "Hip Release for LMTs"
        titles = sorted(credit.course_title for credit in _florida_tracker(user.id).credits)
        # As the certificate and transcript name them (and will name the pending one).
        assert titles == ["Hip Release for LMTs", "Neck Basics"]

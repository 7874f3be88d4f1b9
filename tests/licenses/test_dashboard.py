"""The member dashboard shows one renewal tracker per license; courses carry subjects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from campus.extensions import db
from tests.learning.helpers import make_course, sign_in
from tests.licenses.helpers import add_license, import_shipped_rules
from tests.support import create_user


def test_a_member_with_two_licenses_sees_two_trackers(app, client):
    today = datetime.now(UTC).date()
    with app.app_context():
        import_shipped_rules()
        make_course("ethics-basics", title="Ethics for Bodyworkers")
        user_id = create_user(email="lee@example.com").id
        add_license(user_id, "FL", "MA12345", expires_on=today + timedelta(days=200))
        add_license(user_id, "PA", "MT999", expires_on=today + timedelta(days=20))
    sign_in(client, user_id)
    page = client.get("/learning/").get_data(as_text=True)
    assert page.count('class="card tracker"') == 2
    assert "Massage therapist, Florida" in page and "Massage therapist, Pennsylvania" in page
    assert "Prevention of medical errors" in page  # a Florida subject still due
    assert "Child abuse recognition and reporting" in page  # a Pennsylvania subject still due
    assert "Fla. Admin. Code R. 64B7-28.009" in page and "49 Pa. Code" in page
    # Florida's citation ends "F.S." already: one period, not two; Pennsylvania's gets one.
    assert "s. 480.0415, F.S.</a> Check with your board" in page and "F.S..<" not in page
    assert "§20.33 (content and providers)</a>. Check with your board" in page
    assert "Ethics for Bodyworkers" in page  # PA accepts NCBTMB approvals: a course to take
    # It covers none of the subjects still due: said, so nobody takes it for one of them.
    suggestion = page.split("Ethics for Bodyworkers</a>", 1)[1].split("</li>", 1)[0]
    assert "counts toward the total only" in suggestion


def test_trackers_say_what_is_missing_when_they_cannot_track(app, client):
    with app.app_context():
        import_shipped_rules()
        user_id = create_user(email="lee@example.com").id
        add_license(user_id, "FL", "MA12345")  # no expiry date
        add_license(user_id, "OR", "1")  # no rule on file
        add_license(user_id, "CA", "12345")  # CAMTC: voluntary
    sign_in(client, user_id)
    page = client.get("/learning/").get_data(as_text=True)
    assert "Add the expiry date" in page
    assert "We do not have the renewal rules for Oregon" in page
    assert "CAMTC certification is voluntary" in page


def test_a_cycle_that_ended_with_its_hours_done_says_when_it_ended(app, client):
    # It read "-30 days left": the license has expired, hours done or not.
    from decimal import Decimal

    from campus import dates
    from campus.learning.models import Enrollment
    from campus.licenses.models import RenewalRule
    from campus.models.base import utcnow
    from tests.learning.helpers import enroll_directly

    with app.app_context():
        today = dates.today()
        course = make_course("hip-basics", ce_hours="2")
        user_id = create_user(email="lee@example.com").id
        enrollment = db.session.get(Enrollment, enroll_directly(user_id, course.id))
        enrollment.completed_at = utcnow() - timedelta(days=60)
        enrollment.status, enrollment.ce_hours_earned = "completed", Decimal("2")
        db.session.add(
            RenewalRule(jurisdiction="OR", profession="massage_therapist", board="OR board",
                        hours_per_cycle=Decimal("1"), cycle_months=24, source="OAR 334.",
                        capped_deliveries=[], required_subjects={}, accepted_approvals=[])
        )  # fmt: skip
        db.session.commit()
        add_license(user_id, "OR", "12345", expires_on=today - timedelta(days=30))
    sign_in(client, user_id)
    page = client.get("/learning/").get_data(as_text=True)
    cycle = page.split('class="tracker-cycle facts-line">', 1)[1].split("</p>", 1)[0]
    assert "ended 30 days ago" in " ".join(cycle.split()) and "left" not in cycle
    assert "update its expiry date" in page


def test_an_expired_license_with_hours_missing_names_the_next_step(app, client):
    # It read "Still due by <a day already past>" and gave no way on: the member renews (or
    # reinstates) with the board, then puts in the new expiry date to follow the new cycle.
    from campus import dates

    with app.app_context():
        import_shipped_rules()
        today = dates.today()
        user_id = create_user(email="lee@example.com").id
        gone = add_license(user_id, "FL", "MA12345", expires_on=today - timedelta(days=30))
        ended, edit_url = gone.expires_on, f"/account/licenses/{gone.id}/edit"
    sign_in(client, user_id)
    page = client.get("/learning/").get_data(as_text=True)
    tracker = " ".join(page.split('class="card tracker"', 1)[1].split("</article>", 1)[0].split())
    assert "Expired" in tracker
    assert "Still due by" not in tracker
    assert f"Missing from the cycle that ended {ended:%B} {ended.day}, {ended.year}" in tracker
    assert f'href="{edit_url}"' in tracker and "update its expiry date" in tracker


def test_without_licenses_the_dashboard_invites_to_add_one(app, client):
    with app.app_context():
        user_id = create_user(email="lee@example.com").id
    sign_in(client, user_id)
    page = client.get("/learning/").get_data(as_text=True)
    assert "Add the licenses you renew with CE" in page


def test_course_files_carry_subjects_and_refuse_unknown_ones(tmp_path):
    import shutil

    import pytest

    from campus.learning.course_files import CourseFileError, read_course
    from campus.learning.demo import DEMO_COURSES, NECK_SLUG

    folder = tmp_path / NECK_SLUG
    shutil.copytree(DEMO_COURSES / NECK_SLUG, folder)
    course_file = folder / "course.yaml"
    text = course_file.read_text()
    course_file.write_text(text + "subjects:\n- laws_and_rules\n- ethics\n")
    assert read_course(folder).fields["subjects"] == ["ethics", "laws_and_rules"]
    course_file.write_text(text + "subjects:\n- yoga\n")
    with pytest.raises(CourseFileError, match="unknown subject 'yoga'"):
        read_course(folder)


def test_an_admin_tags_a_course_with_subjects(app, client):
    from campus.learning.models import Course
    from tests.admin import helpers

    with app.app_context():
        course = make_course("tagged")
        # The course's own approval row, as its edit page sends it back.
        approval_id = db.session.get(Course, course.id).approvals[0].id
    helpers.sign_in_admin(app, client)
    edit = client.get(f"/admin/courses/edit/?id={course.id}").get_data(as_text=True)
    assert "Subjects covered" in edit
    form = {
        "title": "Tagged",
        "slug": "tagged",
        "status": "published",
        "summary": "s",
        "description": "d",
        "objectives": "o",
        "presenters": "p",
        "presenter_bio": "",
        "ce_hours": "2",
        "delivery_type": "home_study",
        "level": "introductory",
        "topic": "Ethics",
        "cover_image_url": "",
        "written_for": ["massage_therapist"],
        "subjects": ["ethics"],
        "approvals-0-id": str(approval_id),
        "approvals-0-board": "NCBTMB",
        "approvals-0-approval_number": "1234-56",
        "approvals-0-valid_until": "",
    }
    r = helpers.post(client, f"/admin/courses/edit/?id={course.id}", form)
    assert r.status_code == 302, helpers.flashes(r)
    with app.app_context():
        assert db.session.get(Course, course.id).subjects == ["ethics"]

"""Lessons, progress, resume and completion rules (with the enrollment_completed signal)."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import func, select

from tests.learning.helpers import (
    api_post,
    as_payload,
    complete_all_lessons,
    enroll_directly,
    make_course,
    make_reader,
    right_answers,
)
from tests.support import post_form


@pytest.fixture
def course(app):
    with app.app_context():
        return make_course(lessons=3)


@contextmanager
def completions():
    from campus.learning.signals import enrollment_completed

    seen: list[int] = []

    def receiver(sender, enrollment_id, **_kw):
        seen.append(enrollment_id)

    enrollment_completed.connect(receiver)
    try:
        yield seen
    finally:
        enrollment_completed.disconnect(receiver)


def _enrollment(app, user_id):
    from campus.extensions import db
    from campus.learning.models import Enrollment

    with app.app_context():
        e = db.session.scalar(select(Enrollment).where(Enrollment.user_id == user_id))
        return None if e is None else (e.id, e.status, e.completed_at, e.ce_hours_earned)


def _progress_count(app) -> int:
    from campus.extensions import db
    from campus.learning.models import LessonProgress

    with app.app_context():
        return db.session.scalar(select(func.count(LessonProgress.id)))


def test_member_enrolls_through_the_course_page_and_lands_on_the_first_lesson(app, client, course):
    user_id = make_reader(app, "member", client, course, enrolled=False)
    response = post_form(client, f"/courses/{course.slug}/enroll")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/continue")
    lesson = client.get(response.headers["Location"])
    assert lesson.headers["Location"].endswith(f"/lessons/{course.lesson_ids[0]}")
    assert _enrollment(app, user_id)[1] == "active"


def test_enrolling_twice_is_a_conflict_and_changes_nothing(app, client, course):
    user_id = make_reader(app, "member", client, course)
    before = _enrollment(app, user_id)
    response = api_post(client, f"/api/v1/courses/{course.slug}/enroll")
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "already_enrolled"
    assert _enrollment(app, user_id) == before


def test_a_second_enroll_click_lands_on_the_first_lesson_without_a_notice(app, client, course):
    user_id = make_reader(app, "member", client, course, enrolled=False)
    post_form(client, f"/courses/{course.slug}/enroll")
    before = _enrollment(app, user_id)
    again = post_form(client, f"/courses/{course.slug}/enroll")
    assert again.status_code == 302 and again.headers["Location"].endswith("/continue")
    lesson = client.get(again.headers["Location"])
    assert lesson.headers["Location"].endswith(f"/lessons/{course.lesson_ids[0]}")
    page = client.get(lesson.headers["Location"]).get_data(as_text=True)
    assert "already enrolled" not in page
    assert _enrollment(app, user_id) == before


def test_free_user_trying_to_enroll_is_sent_to_membership(app, client, course):
    make_reader(app, "free", client, course)
    response = post_form(client, f"/courses/{course.slug}/enroll")
    assert response.status_code == 302
    # billing.membership is not in this build: the fallback is the home page.
    expected = "/membership" if "billing.membership" in app.view_functions else "/"
    assert response.headers["Location"] == expected


def test_anonymous_enroll_goes_to_signup(app, client, course):
    from tests.support import csrf_token

    token = csrf_token(client)
    response = client.post(f"/courses/{course.slug}/enroll", data={"csrf_token": token})
    assert response.status_code == 302 and "/signup" in response.headers["Location"]


def test_enrolling_in_a_draft_or_unknown_course_is_refused(app, client):
    with app.app_context():
        draft = make_course("draft", published=False)
    make_reader(app, "member", client, None)
    assert api_post(client, f"/api/v1/courses/{draft.slug}/enroll").status_code == 404
    assert api_post(client, "/api/v1/courses/nope/enroll").status_code == 404
    assert post_form(client, "/courses/nope/enroll").status_code == 404


def test_a_one_lesson_course_counts_its_lesson_in_the_singular(app, client):
    with app.app_context():
        short = make_course("one-lesson", lessons=1, ce_hours="1")
    make_reader(app, "member", client, short)
    (lesson,) = short.lesson_ids
    pages = {
        "lesson": client.get(f"/courses/{short.slug}/lessons/{lesson}").get_data(as_text=True),
        "course": client.get(f"/courses/{short.slug}").get_data(as_text=True),
        "home": client.get("/").get_data(as_text=True),
    }
    for name, html in pages.items():
        assert "0 of 1 lesson" in html, name
        assert "of 1 lessons" not in html, name


def test_lesson_page_shows_outline_progress_and_neighbours(app, client, course):
    user_id = make_reader(app, "member", client, course)
    first, second, third = course.lesson_ids
    api_post(client, f"/api/v1/lessons/{first}/complete")
    html = client.get(f"/courses/{course.slug}/lessons/{second}").get_data(as_text=True)
    assert "33%" in html and "1 of 3 lessons" in html
    assert f"/lessons/{first}" in html and 'rel="prev"' in html
    assert f"/lessons/{third}" in html and 'rel="next"' in html
    assert "Mark complete and continue" in html
    assert '<progress class="progress" max="100" value="33"' in html
    assert _enrollment(app, user_id) is not None


def test_marking_complete_twice_records_one_completion(app, client, course):
    make_reader(app, "member", client, course)
    lesson = course.lesson_ids[0]
    one = api_post(client, f"/api/v1/lessons/{lesson}/complete").get_json()
    two = api_post(client, f"/api/v1/lessons/{lesson}/complete").get_json()
    assert (one["newly_completed"], two["newly_completed"]) == (True, False)
    assert two["progress"] == {"done": 1, "total": 3, "percent": 33}
    post_form(client, f"/courses/{course.slug}/lessons/{lesson}/complete")
    assert _progress_count(app) == 1


def test_form_completion_moves_to_the_next_lesson_then_the_quiz(app, client, course):
    make_reader(app, "member", client, course)
    first, second, third = course.lesson_ids
    r = post_form(client, f"/courses/{course.slug}/lessons/{first}/complete")
    assert r.headers["Location"].endswith(f"/lessons/{second}")
    post_form(client, f"/courses/{course.slug}/lessons/{second}/complete")
    r = post_form(client, f"/courses/{course.slug}/lessons/{third}/complete")
    assert r.headers["Location"].endswith("/quiz")


def test_completing_a_lesson_without_enrollment_is_refused(app, client, course):
    make_reader(app, "member", client, course, enrolled=False)
    response = api_post(client, f"/api/v1/lessons/{course.lesson_ids[0]}/complete")
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "not_enrolled"
    assert _progress_count(app) == 0


def test_a_lesson_of_another_course_is_not_part_of_this_one(app, client, course):
    with app.app_context():
        other = make_course("other")
    make_reader(app, "member", client, course)
    foreign = other.lesson_ids[0]
    assert client.get(f"/courses/{course.slug}/lessons/{foreign}").status_code == 404
    assert (
        post_form(client, f"/courses/{course.slug}/lessons/{foreign}/complete").status_code == 404
    )
    # Through the API the lesson's own course decides: not enrolled there.
    assert api_post(client, f"/api/v1/lessons/{foreign}/complete").status_code == 403
    assert api_post(client, "/api/v1/lessons/999999/complete").status_code == 404
    assert _progress_count(app) == 0


def test_resume_goes_to_the_last_opened_lesson(app, client, course):
    make_reader(app, "member", client, course)
    first, _second, third = course.lesson_ids
    client.get(f"/courses/{course.slug}/lessons/{third}")
    assert (
        client.get(f"/courses/{course.slug}/continue")
        .headers["Location"]
        .endswith(f"/lessons/{third}")
    )
    api_post(client, f"/api/v1/lessons/{third}/complete")
    # The last one is done: continue with the first lesson not yet complete.
    assert (
        client.get(f"/courses/{course.slug}/continue")
        .headers["Location"]
        .endswith(f"/lessons/{first}")
    )


def test_pass_with_all_lessons_complete_completes_the_enrollment_once(app, client, course):
    user_id = make_reader(app, "member", client, course)
    for lesson in course.lesson_ids:
        api_post(client, f"/api/v1/lessons/{lesson}/complete")
    with completions() as seen:
        response = api_post(
            client,
            f"/api/v1/courses/{course.slug}/quiz/attempts",
            as_payload(right_answers(course)),
        )
    assert response.get_json()["course_completed"] is True
    enrollment_id, status, completed_at, hours = _enrollment(app, user_id)
    assert seen == [enrollment_id]
    assert status == "completed" and completed_at is not None and float(hours) == 2.0
    page = client.get(f"/courses/{course.slug}").get_data(as_text=True)
    assert "You completed this course on" in page


def test_failing_the_quiz_does_not_complete(app, client, course):
    user_id = make_reader(app, "member", client, course)
    with app.app_context():
        complete_all_lessons(user_id, course)
    wrong = {q.id: [q.wrong[0]] for q in course.questions}
    with completions() as seen:
        api_post(client, f"/api/v1/courses/{course.slug}/quiz/attempts", as_payload(wrong))
    assert seen == []
    assert _enrollment(app, user_id)[2] is None


def test_lesson_added_after_a_pass_completes_when_it_is_done(app, client, course):
    """A pass with lessons outstanding (a lesson was added later) completes on the last lesson."""
    user_id = make_reader(app, "member", client, course)
    with app.app_context():
        complete_all_lessons(user_id, course)
    api_post(
        client, f"/api/v1/courses/{course.slug}/quiz/attempts", as_payload(right_answers(course))
    )
    assert _enrollment(app, user_id)[1] == "completed"
    with app.app_context():
        from campus.extensions import db
        from campus.learning import services
        from campus.learning.models import Enrollment, Module

        module = db.session.scalar(select(Module).where(Module.course_id == course.id).limit(1))
        new = services.add_lesson(module, "New lesson", "New body")
        e = db.session.scalar(select(Enrollment).where(Enrollment.user_id == user_id))
        e.completed_at, e.status, e.ce_hours_earned = None, "active", None
        db.session.commit()
        new_id = new.id
    with completions() as seen:
        body = api_post(client, f"/api/v1/lessons/{new_id}/complete").get_json()
    assert body["course_completed"] is True and len(seen) == 1


def test_signal_receiver_failure_rolls_back_the_completion(app, client, course):
    """The signal is sent inside the completing transaction: a failing receiver undoes it."""
    from campus.learning.signals import enrollment_completed

    user_id = make_reader(app, "member", client, course)
    with app.app_context():
        complete_all_lessons(user_id, course)

    def broken(sender, enrollment_id, **_kw):
        raise RuntimeError("receiver failed")

    enrollment_completed.connect(broken)
    try:
        with pytest.raises(RuntimeError):
            api_post(
                client,
                f"/api/v1/courses/{course.slug}/quiz/attempts",
                as_payload(right_answers(course)),
            )
    finally:
        enrollment_completed.disconnect(broken)
    assert _enrollment(app, user_id)[2] is None


def test_lapsed_member_keeps_completion_and_progress(app, client, course):
    user_id = make_reader(app, "member", client, course)
    with app.app_context():
        complete_all_lessons(user_id, course)
    api_post(
        client, f"/api/v1/courses/{course.slug}/quiz/attempts", as_payload(right_answers(course))
    )
    with app.app_context():
        from campus.billing.models import Subscription
        from campus.extensions import db

        for sub in db.session.scalars(select(Subscription).where(Subscription.user_id == user_id)):
            sub.status = "canceled"
        db.session.commit()
    dashboard = client.get("/learning/").get_data(as_text=True)
    assert "Course hip-basics" in dashboard and ">2<" in dashboard
    assert _enrollment(app, user_id)[1] == "completed"


def test_resource_downloads_follow_the_lesson_rule(app, client, course):
    with app.app_context():
        from campus.extensions import db
        from campus.learning import services
        from campus.learning.models import Lesson

        lesson = db.session.get(Lesson, course.lesson_ids[0])
        res = services.add_resource(
            lesson, "Handout", "hand out.txt", b"stretch daily", "text/plain; charset=utf-8"
        )
        db.session.commit()
        res_id = res.id
    url = f"/courses/{course.slug}/lessons/{course.lesson_ids[0]}/resources/{res_id}"
    make_reader(app, "free", client, course)
    assert client.get(url).status_code == 302
    client.post("/logout", data={"csrf_token": ""})
    other = app.test_client()
    make_reader(app, "member", other, course)
    with other.get(url) as got:  # a file response stays open until closed, as a server does
        assert got.status_code == 200 and got.data == b"stretch daily"
        assert "hand-out.txt" in got.headers["Content-Disposition"]
        assert (
            got.headers["Content-Type"] == "text/plain; charset=utf-8"
        )  # as the importer stores it
    wrong_lesson = f"/courses/{course.slug}/lessons/{course.lesson_ids[1]}/resources/{res_id}"
    assert other.get(wrong_lesson).status_code == 404


def test_member_goes_from_catalog_to_a_passed_quiz(app, client, course):
    """The whole path through the pages, signed in through the real login form."""
    from tests import support

    with app.app_context():
        user = support.create_user()
        support.make_member(user.id, "active")
        email = user.email
    support.login(client, email)
    assert f"/courses/{course.slug}" in client.get("/courses/").get_data(as_text=True)
    assert "Enroll in this course" in client.get(f"/courses/{course.slug}").get_data(as_text=True)
    location = post_form(client, f"/courses/{course.slug}/enroll").headers["Location"]
    location = client.get(location).headers["Location"]
    while "/lessons/" in location:
        assert client.get(location).status_code == 200
        location = post_form(client, location + "/complete").headers["Location"]
    assert location.endswith("/quiz")
    from tests.learning.helpers import as_form

    done = post_form(client, location, as_form(right_answers(course)), follow_redirects=True)
    html = done.get_data(as_text=True)
    assert "You passed with 100% and completed the course." in html
    dashboard = client.get("/learning/").get_data(as_text=True)
    assert "CE hours earned in" in dashboard and "Course hip-basics" in dashboard


def test_enrollments_begun_at_the_same_moment_list_in_one_order_every_time(app, client):
    # Ordered by activity and enrollment time alone, ties came back in whatever order the
    # database read them: on PostgreSQL the list could change between two calls.
    from sqlalchemy import update

    from campus.extensions import db
    from campus.learning.models import Enrollment
    from campus.models.base import utcnow

    with app.app_context():
        courses = [make_course(slug=f"tied-{n}") for n in range(3)]
    user_id = make_reader(app, "member", client)
    with app.app_context():
        ids = [enroll_directly(user_id, c.id) for c in courses]
        moment = utcnow()
        db.session.execute(
            update(Enrollment)
            .where(Enrollment.id.in_(ids))
            .values(enrolled_at=moment, last_activity_at=None)
        )
        db.session.commit()
    listed = [e["id"] for e in client.get("/api/v1/enrollments").get_json()["enrollments"]]
    # The later enrollment first, as between different times.
    assert listed == sorted(ids, reverse=True)

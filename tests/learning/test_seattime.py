"""Seat time: measured on the server, gating lesson completion and the quiz, and publishing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from campus.extensions import db
from tests import support
from tests.learning.helpers import (
    api_post,
    as_form,
    complete_all_lessons,
    enroll_directly,
    make_course,
    make_reader,
    record_seat_time,
    right_answers,
)


@pytest.fixture
def timed_app(_database):
    """An app that measures study time at full scale (the testing default turns it off)."""
    app = support.make_app(SEAT_TIME_SCALE=1.0, SEAT_TIME_HEARTBEAT_SECONDS=15)
    yield app
    support.clean_database(app)


@pytest.fixture
def timed_client(timed_app):
    return timed_app.test_client()


def _learner(app, client, lessons: int = 2, ce_hours: str = "1"):
    with app.app_context():
        course = make_course(lessons=lessons, ce_hours=ce_hours)
    user_id = make_reader(app, "member", client, course)
    with app.app_context():
        from campus.learning.models import Enrollment

        enrollment_id = db.session.scalar(
            select(Enrollment.id).where(Enrollment.user_id == user_id)
        )
    return course, user_id, enrollment_id


def _seconds(app, enrollment_id: int, lesson_id: int) -> int:
    from campus.learning.records import SeatTime

    with app.app_context():
        return (
            db.session.scalar(
                select(SeatTime.seconds).where(
                    SeatTime.enrollment_id == enrollment_id, SeatTime.lesson_id == lesson_id
                )
            )
            or 0
        )


def test_a_lesson_cannot_be_completed_before_its_share_of_expected_time(timed_app, timed_client):
    # 1 CE hour over 2 lessons: 30 expected minutes each, half of it (15 min) required.
    course, _user, enrollment_id = _learner(timed_app, timed_client)
    lesson_id = course.lesson_ids[0]
    page = timed_client.get(f"/courses/{course.slug}/lessons/{lesson_id}").get_data(as_text=True)
    assert "15 min left on this lesson" in page and "data-needs-time" in page

    refused = api_post(timed_client, f"/api/v1/lessons/{lesson_id}/complete")
    assert refused.status_code == 409 and refused.json["error"]["code"] == "needs_more_time"
    assert refused.json["error"]["remaining_seconds"] == 15 * 60
    form = timed_client.post(
        f"/courses/{course.slug}/lessons/{lesson_id}/complete",
        data={"csrf_token": support.csrf_token(timed_client)},
        follow_redirects=True,
    )
    assert "Spend another 15 min on this lesson" in form.get_data(as_text=True)
    with timed_app.app_context():
        from campus.learning.models import LessonProgress

        assert db.session.scalar(select(LessonProgress.id)) is None

    with timed_app.app_context():
        record_seat_time(enrollment_id, lesson_id, 15 * 60)
    done = api_post(timed_client, f"/api/v1/lessons/{lesson_id}/complete")
    assert done.status_code == 200


def test_the_quiz_stays_closed_until_the_course_minimum_is_spent(timed_app, timed_client):
    # 1 CE hour: the quiz needs 50 minutes on the lessons, whatever the lessons' own share.
    course, user_id, enrollment_id = _learner(timed_app, timed_client)
    with timed_app.app_context():
        complete_all_lessons(user_id, course)
        record_seat_time(enrollment_id, course.lesson_ids[0], 20 * 60)
        record_seat_time(enrollment_id, course.lesson_ids[1], 20 * 60)
    page = timed_client.get(f"/courses/{course.slug}/quiz").get_data(as_text=True)
    assert "More study time needed" in page and "10 min to go" in page
    answers = {**as_form(right_answers(course)), "csrf_token": support.csrf_token(timed_client)}
    timed_client.post(f"/courses/{course.slug}/quiz", data=answers)
    with timed_app.app_context():
        from campus.learning.models import QuizAttempt

        assert db.session.scalar(select(QuizAttempt.id)) is None

    with timed_app.app_context():
        from campus.learning.records import SeatTime

        row = db.session.scalar(select(SeatTime).where(SeatTime.lesson_id == course.lesson_ids[1]))
        row.seconds += 10 * 60
        db.session.commit()
    timed_client.post(f"/courses/{course.slug}/quiz", data=answers)
    with timed_app.app_context():
        from campus.learning.models import Enrollment

        assert db.session.get(Enrollment, enrollment_id).completed_at is not None


def test_heartbeat_credit_is_capped_at_the_time_since_the_last_beat(timed_app):
    from campus.learning import seattime
    from campus.models.base import utcnow

    with timed_app.app_context():
        course = make_course(lessons=2, ce_hours="1")
        user_id = support.create_user().id
        enrollment_id = enroll_directly(user_id, course.id)
        first, second = course.lesson_ids
        start = utcnow()
        assert seattime.record_heartbeat(enrollment_id, first, start) == 0  # starts the clock
        # Two tabs beating 15 s apart each still share one clock: wall time, not twice it.
        t = start
        for step in range(1, 9):
            t = start + timedelta(seconds=7.5 * step)
            seattime.record_heartbeat(enrollment_id, first if step % 2 else second, t)
        db.session.commit()
        # A forged burst in the same instant earns nothing more.
        for _ in range(20):
            assert seattime.record_heartbeat(enrollment_id, first, t) == 0
        # After a pause longer than three beats (a hidden or idle tab) the clock restarts.
        assert seattime.record_heartbeat(enrollment_id, first, t + timedelta(minutes=10)) == 0
        db.session.commit()
    total = _seconds(timed_app, enrollment_id, first) + _seconds(timed_app, enrollment_id, second)
    assert total <= 60 and total >= 56  # 60 s of wall time, whole seconds per beat


def _two_enrollments():
    """One member enrolled in two one-lesson courses: ((course, enrollment id), ...) of each."""
    user_id = support.create_user().id
    courses = [make_course(f"course-{n}", lessons=1, ce_hours="1") for n in (1, 2)]
    return [(course, enroll_directly(user_id, course.id)) for course in courses]


def test_two_courses_open_at_once_share_the_members_wall_time(timed_app):
    # Each course kept its own clock: two tabs of two courses earned every minute twice.
    from campus.learning import seattime
    from campus.models.base import utcnow

    with timed_app.app_context():
        (one, first), (two, second) = _two_enrollments()
        start = utcnow()
        seattime.record_heartbeat(first, one.lesson_ids[0], start)
        seattime.record_heartbeat(second, two.lesson_ids[0], start + timedelta(seconds=7))
        for step in range(1, 9):  # each tab beats every 15 s, the two 7 s apart
            t = start + timedelta(seconds=15 * step)
            seattime.record_heartbeat(first, one.lesson_ids[0], t)
            seattime.record_heartbeat(second, two.lesson_ids[0], t + timedelta(seconds=7))
        db.session.commit()
    total = _seconds(timed_app, first, one.lesson_ids[0]) + _seconds(
        timed_app, second, two.lesson_ids[0]
    )
    assert 120 <= total <= 127  # the 127 s from the first beat to the last, once


def test_two_courses_beating_at_the_same_moment_earn_the_wall_time_once(timed_app, monkeypatch):
    # Beats of two tabs reaching two web workers together each read the member's last beat.
    from campus.learning import seattime
    from campus.models.base import utcnow
    from tests.learning.test_concurrency import _race

    with timed_app.app_context():
        (one, first), (two, second) = _two_enrollments()
        start = utcnow() - timedelta(seconds=20)
        seattime.record_heartbeat(first, one.lesson_ids[0], start)
        seattime.record_heartbeat(second, two.lesson_ids[0], start)
        db.session.commit()
    support.hold_in_pairs(monkeypatch, seattime, "database_now")
    beats = iter([(first, one.lesson_ids[0]), (second, two.lesson_ids[0])])

    def beat() -> int:
        return seattime.record_heartbeat(*next(beats))

    results, errors = _race(timed_app, 2, beat)
    wall = (utcnow() - start).total_seconds()
    assert errors == []
    total = _seconds(timed_app, first, one.lesson_ids[0]) + _seconds(
        timed_app, second, two.lesson_ids[0]
    )
    assert 19 <= total <= wall  # from the first beat to the last, once
    assert sum(results) == total


def test_a_course_studied_alone_still_earns_all_its_time(timed_app):
    from campus.learning import seattime
    from campus.models.base import utcnow

    with timed_app.app_context():
        (one, first), (other, second) = _two_enrollments()
        start = utcnow()
        seattime.record_heartbeat(second, other.lesson_ids[0], start - timedelta(hours=1))
        for step in range(0, 9):
            seattime.record_heartbeat(
                first, one.lesson_ids[0], start + timedelta(seconds=15 * step)
            )
        db.session.commit()
    assert _seconds(timed_app, first, one.lesson_ids[0]) == 120


def test_the_heartbeat_route_credits_only_an_enrolled_learner(timed_app, timed_client):
    course, _user, enrollment_id = _learner(timed_app, timed_client)
    lesson_id = course.lesson_ids[0]
    url = f"/courses/{course.slug}/lessons/{lesson_id}/heartbeat"
    assert timed_client.post(url).status_code == 400  # no CSRF token: refused before anything
    beat = api_post(timed_client, url)
    assert beat.status_code == 200 and beat.json["credited"] == 0
    assert beat.json["lesson"]["remaining"] == 15 * 60
    with timed_app.app_context():
        from campus.learning.models import Enrollment

        enrollment = db.session.get(Enrollment, enrollment_id)
        enrollment.seat_beat_at -= timedelta(seconds=12)
        db.session.commit()
    again = api_post(timed_client, url)
    assert 12 <= again.json["credited"] <= 13
    assert _seconds(timed_app, enrollment_id, lesson_id) == again.json["credited"]

    other = timed_app.test_client()
    make_reader(timed_app, "free", other)
    assert api_post(other, url).status_code in (403, 404)


def test_web_hosts_whose_clocks_differ_neither_inflate_nor_refuse_study_time(timed_app):
    import time_machine

    from campus.learning import seattime
    from campus.learning.models import Enrollment

    with timed_app.app_context():
        course = make_course(lessons=1, ce_hours="1")
        enrollment_id = enroll_directly(support.create_user().id, course.id)
        lesson_id = course.lesson_ids[0]
    real = datetime.now(UTC)

    def beat_on(host_ahead_by: int) -> int:
        """A beat answered by a web host whose clock is `host_ahead_by` seconds ahead."""
        with (
            time_machine.travel(real + timedelta(seconds=host_ahead_by), tick=True),
            timed_app.app_context(),
        ):
            credited = seattime.record_heartbeat(enrollment_id, lesson_id)
            db.session.commit()
            return credited

    def last_beat_seconds_ago(seconds: int) -> None:
        with timed_app.app_context():
            db.session.get(Enrollment, enrollment_id).seat_beat_at -= timedelta(seconds=seconds)
            db.session.commit()

    # The load balancer sends each beat to either host, a moment apart.
    assert sum(beat_on(ahead) for ahead in (0, 30, 0, 30, 0, 30)) <= 1
    last_beat_seconds_ago(12)
    assert 12 <= beat_on(30) <= 13  # not 42 s on the fast host
    last_beat_seconds_ago(12)
    assert 12 <= beat_on(-30) <= 13  # nor nothing on the slow one
    assert 24 <= _seconds(timed_app, enrollment_id, lesson_id) <= 27


def test_publishing_refuses_a_course_whose_content_cannot_support_its_hours(app):
    from campus.learning import services
    from campus.learning.access import LearningError

    with app.app_context():
        course = make_course("thin", published=False, lessons=2, ce_hours="1")
        from campus.learning.models import Course, Lesson

        row = db.session.get(Course, course.id)
        row.ce_hours = Decimal("4")
        with pytest.raises(LearningError) as refused:
            services.publish(row)
        assert refused.value.code == "hours_unsupported"
        assert "supports 1 CE hour;" in refused.value.message
        assert "Add 180 minutes" in refused.value.message
        assert refused.value.extra["shortfall_minutes"] == 180
        assert not row.is_published
        for lesson in db.session.scalars(select(Lesson).where(Lesson.course_id == course.id)):
            lesson.estimated_minutes = 120
        db.session.flush()
        services.publish(row)
        assert row.is_published


def test_a_lesson_without_the_authors_minutes_counts_its_words(app):
    from campus.learning import seattime, services

    with app.app_context():
        course = make_course("words", published=False, lessons=1, ce_hours="1")
        from campus.learning.models import Course

        module = db.session.get(Course, course.id).modules[0]
        lesson = services.add_lesson(module, "Long read", "word " * 2001)
        assert lesson.estimated_minutes == 11 == seattime.reading_minutes("word " * 2001)


def test_the_lesson_page_loads_the_heartbeat_script_from_our_own_origin(timed_app, timed_client):
    course, _user, _enrollment = _learner(timed_app, timed_client)
    page = timed_client.get(f"/courses/{course.slug}/lessons/{course.lesson_ids[0]}")
    html = page.get_data(as_text=True)
    assert '<script src="/static/seattime.js" defer></script>' in html
    assert "data-heartbeat-url" in html and "<script>" not in html
    with timed_client.get("/static/seattime.js") as response:  # a static file is streamed
        script = response.get_data(as_text=True)
    assert "visibilityState" in script and "X-CSRFToken" in script


def test_the_admin_sees_the_shortfall_when_publishing_is_refused(app, client):
    from campus.learning.models import Course
    from tests.admin import helpers as admin_helpers

    with app.app_context():
        course = make_course("short", published=False, lessons=2, ce_hours="1")
        db.session.get(Course, course.id).ce_hours = Decimal("1.5")
        db.session.commit()
    admin_helpers.sign_in_admin(app, client)
    answer = admin_helpers.post(
        client,
        "/admin/courses/action/",
        {"action": "publish", "rowid": [str(course.id)]},
        follow_redirects=True,
    )
    [message] = admin_helpers.flashes(answer)
    assert "supports 1 CE hour;" in message and "Add 30 minutes" in message
    with app.app_context():
        assert not db.session.get(Course, course.id).is_published


def test_a_published_course_keeps_its_hours_supported_through_lesson_edits(app):
    from campus.learning import actions
    from campus.learning.access import LearningError
    from campus.learning.models import Lesson

    with app.app_context():
        course = make_course("kept", lessons=2, ce_hours="1")  # 30 + 30 minutes
        lesson = db.session.get(Lesson, course.lesson_ids[0])
        lesson.estimated_minutes = 20
        with pytest.raises(LearningError) as shortened:
            actions.save_lesson(lesson, before=None, actor=None)
        assert "Add 10 minutes" in shortened.value.message
        db.session.rollback()
        with pytest.raises(LearningError):
            actions.delete(db.session.get(Lesson, course.lesson_ids[1]), actor=None)
        db.session.rollback()
        assert len(db.session.scalars(select(Lesson)).all()) == 2
        lesson = db.session.get(Lesson, course.lesson_ids[0])
        lesson.estimated_minutes = 45
        actions.save_lesson(lesson, before=None, actor=None)  # more is always fine


@pytest.mark.parametrize("part", ["lesson", "module"])
def test_a_studied_lesson_cannot_be_moved_to_another_course(app, part):
    from campus.audit import snapshot
    from campus.learning import actions, services
    from campus.learning.access import LearningError
    from campus.learning.models import Course, Lesson, Module
    from campus.learning.records import SeatTime

    with app.app_context():
        course = make_course("studied-here", lessons=2, ce_hours="1")
        other = make_course("elsewhere", lessons=2, ce_hours="1", published=False)
        # A third module and lesson beyond what the hours need, so moving it keeps them.
        extra = services.add_lesson(
            services.add_module(db.session.get(Course, course.id), "Extra"),
            "Extra lesson",
            "Body",
            estimated_minutes=30,
        )
        db.session.commit()
        user_id = support.create_user(email="studied@example.com").id
        enrollment_id = enroll_directly(user_id, course.id)
        record_seat_time(enrollment_id, extra.id, 20 * 60)
        target = db.session.scalars(select(Module).where(Module.course_id == other.id)).first()
        if part == "lesson":
            obj = db.session.get(Lesson, extra.id)
            before = snapshot(obj)
            obj.module = target
            obj.position = 9
            save = actions.save_lesson
        else:
            obj = db.session.get(Module, extra.module_id)
            before = snapshot(obj)
            obj.course = db.session.get(Course, other.id)
            obj.position = 9
            save = actions.save_module
        with pytest.raises(LearningError) as refused:
            save(obj, before=before, actor=None)
        assert "study records of 1 learner" in refused.value.message
        db.session.rollback()
        # The learner's time stays on a lesson of the course they studied.
        lesson = db.session.get(Lesson, extra.id)
        assert lesson.course_id == course.id
        assert db.session.scalar(select(SeatTime.seconds)) == 20 * 60


def test_a_quiz_learners_answered_cannot_be_moved_to_another_course(app):
    from campus.audit import snapshot
    from campus.learning import actions, papers
    from campus.learning.access import LearningError
    from campus.learning.models import Course, Enrollment, Quiz

    with app.app_context():
        # Taken by a learner, then unpublished for a new edition that has no quiz yet.
        course = make_course("first-edition", lessons=2, ce_hours="1", published=False)
        other = make_course("second-edition", lessons=2, ce_hours="1", published=False)
        db.session.delete(db.session.get(Quiz, other.quiz_id))
        db.session.commit()
        user_id = support.create_user(email="answered@example.com").id
        enrollment_id = enroll_directly(user_id, course.id)
        quiz = db.session.get(Quiz, course.quiz_id)
        papers.start_paper(db.session.get(Enrollment, enrollment_id), quiz)
        db.session.commit()
        before = snapshot(quiz)
        quiz.course = db.session.get(Course, other.id)
        with pytest.raises(LearningError) as refused:
            actions.save_quiz(quiz, before=before, actor=None)
        assert "study records of 1 learner" in refused.value.message
        db.session.rollback()
        assert db.session.get(Quiz, course.quiz_id).course_id == course.id

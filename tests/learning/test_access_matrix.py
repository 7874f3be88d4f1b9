"""Who may see, enroll, study and take the quiz: readers x course page, lesson, quiz, API."""

from __future__ import annotations

import pytest

from tests.learning.helpers import (
    READERS,
    api_post,
    as_payload,
    complete_all_lessons,
    make_course,
    make_reader,
    right_answers,
)


@pytest.fixture
def course(app):
    with app.app_context():
        return make_course()


COURSE_PAGE = {
    "anonymous": "Sign up to get started",
    "free": "Become a member to enroll",
    "member": "Continue the course",
    "lapsed": "Renew your membership to continue",
    "admin": "Enroll in this course",
}


@pytest.mark.parametrize("reader", READERS)
def test_course_page_offers_each_reader_the_right_action(app, client, course, reader):
    make_reader(app, reader, client, course)
    page = client.get(f"/courses/{course.slug}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert COURSE_PAGE[reader] in html
    assert "Lesson 1" in html  # the syllabus is public


@pytest.mark.parametrize("reader", READERS)
def test_draft_course_is_visible_to_admins_only(app, client, reader):
    with app.app_context():
        draft = make_course("draft-course", published=False)
    make_reader(app, reader, client, draft)
    status = client.get(f"/courses/{draft.slug}").status_code
    api = client.get(f"/api/v1/courses/{draft.slug}").status_code
    expected = 200 if reader == "admin" else 404
    assert (status, api) == (expected, expected)


LESSON = {  # status, where a redirect goes
    "anonymous": (302, "/login"),
    "free": (302, "/courses/hip-basics"),
    "member": (200, None),
    "lapsed": (302, "/courses/hip-basics"),
    "admin": (200, None),  # an admin preview, nothing recorded
}


@pytest.mark.parametrize("reader", READERS)
def test_lesson_opens_for_enrolled_paying_members_and_admins(app, client, course, reader):
    make_reader(app, reader, client, course)
    page = client.get(f"/courses/{course.slug}/lessons/{course.lesson_ids[0]}")
    status, target = LESSON[reader]
    assert page.status_code == status
    if target:
        assert target in page.headers["Location"]
    else:
        assert "Body of lesson 1" in page.get_data(as_text=True)


@pytest.mark.parametrize("reader", READERS)
def test_quiz_opens_only_for_those_who_may_study(app, client, course, reader):
    user_id = make_reader(app, reader, client, course)
    if reader in ("member", "lapsed"):
        with app.app_context():
            complete_all_lessons(user_id, course)
    page = client.get(f"/courses/{course.slug}/quiz")
    status, target = LESSON[reader]
    assert page.status_code == status
    if status == 200:
        html = page.get_data(as_text=True)
        assert "Single: pick A" in html
        assert "is_correct" not in html and "A is right because" not in html
    else:
        assert target in page.headers["Location"]


def test_lapsed_member_is_told_progress_is_kept(app, client, course):
    make_reader(app, "lapsed", client, course)
    page = client.get(
        f"/courses/{course.slug}/lessons/{course.lesson_ids[0]}", follow_redirects=True
    )
    assert "Your progress is saved" in page.get_data(as_text=True)


API_ENROLL = {"anonymous": 401, "free": 403, "member": 201, "lapsed": 403, "admin": 201}


@pytest.mark.parametrize("reader", READERS)
def test_api_enroll_follows_paid_access(app, client, course, reader):
    make_reader(app, reader, client, course, enrolled=False)
    response = api_post(client, f"/api/v1/courses/{course.slug}/enroll")
    assert response.status_code == API_ENROLL[reader]
    if response.status_code >= 400:
        assert response.get_json()["error"]["code"]


API_STUDY = {"anonymous": 401, "free": 403, "member": 200, "lapsed": 403, "admin": 403}


@pytest.mark.parametrize("reader", READERS)
def test_api_lesson_completion_needs_enrollment_and_paid_access(app, client, course, reader):
    make_reader(app, reader, client, course)
    response = api_post(client, f"/api/v1/lessons/{course.lesson_ids[0]}/complete")
    assert response.status_code == API_STUDY[reader]


API_QUIZ = {"anonymous": 401, "free": 403, "member": 201, "lapsed": 403, "admin": 403}


@pytest.mark.parametrize("reader", READERS)
def test_api_quiz_attempt_needs_enrollment_and_paid_access(app, client, course, reader):
    user_id = make_reader(app, reader, client, course)
    if reader in ("member", "lapsed"):
        with app.app_context():
            complete_all_lessons(user_id, course)
    response = api_post(
        client, f"/api/v1/courses/{course.slug}/quiz/attempts", as_payload(right_answers(course))
    )
    assert response.status_code == API_QUIZ[reader]
    with app.app_context():
        from sqlalchemy import func, select

        from campus.extensions import db
        from campus.learning.models import QuizAttempt

        attempts = db.session.scalar(select(func.count(QuizAttempt.id)))
    assert attempts == (1 if reader == "member" else 0)


@pytest.mark.parametrize("reader", READERS)
def test_api_course_detail_shows_questions_only_to_those_who_may_study(app, client, course, reader):
    make_reader(app, reader, client, course)
    body = client.get(f"/api/v1/courses/{course.slug}").get_json()
    quiz = body["quiz"]
    assert quiz["pass_mark_percent"] == 75
    assert ("questions" in quiz) == (reader in ("member", "admin"))
    text = str(body)
    assert "correct_choice_ids" not in text and "is_correct" not in text
    assert "explanation" not in text


@pytest.mark.parametrize("reader", READERS)
def test_api_enrollments_are_the_readers_own(app, client, course, reader):
    make_reader(app, reader, client, course)
    response = client.get("/api/v1/enrollments")
    if reader == "anonymous":
        assert response.status_code == 401
        return
    enrollments = response.get_json()["enrollments"]
    assert len(enrollments) == (1 if reader in ("member", "lapsed") else 0)
    if reader == "lapsed":
        assert enrollments[0]["can_study"] is False


def test_returning_member_resumes_where_they_stopped(app, client, course):
    user_id = make_reader(app, "lapsed", client, course)
    with app.app_context():
        from sqlalchemy import select

        from campus.extensions import db
        from campus.learning.models import Enrollment, LessonProgress

        enrollment = db.session.scalar(select(Enrollment).where(Enrollment.user_id == user_id))
        db.session.add(LessonProgress(enrollment_id=enrollment.id, lesson_id=course.lesson_ids[0]))
        enrollment.last_lesson_id = course.lesson_ids[1]
        db.session.commit()
    assert client.get(f"/courses/{course.slug}/continue").status_code == 302
    assert "/lessons/" not in client.get(f"/courses/{course.slug}/continue").headers["Location"]
    with app.app_context():
        from tests import support

        support.make_member(user_id, "active")
    again = client.get(f"/courses/{course.slug}/continue")
    assert again.headers["Location"].endswith(f"/lessons/{course.lesson_ids[1]}")
    page = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "1 of 3 lessons" in page

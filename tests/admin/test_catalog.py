"""Catalog admin: course CRUD, validation messages, ordering, publishing and the audit trail."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from tests import support
from tests.admin import helpers
from tests.learning.helpers import QUESTIONS, enroll_directly, make_course


def _course_form(**overrides) -> dict:
    data = {
        "title": "Myofascial Release for the Low Back",
        "slug": "myofascial-low-back",
        "status": "draft",
        "summary": "Release the low back safely.",
        "description": "An **overview** <script>alert(1)</script>",
        "objectives": "Assess\nTreat",
        "presenters": "Ann Presenter, LMT",
        "presenter_bio": "",
        "ce_hours": "2.5",
        "delivery_type": "home_study",
        "level": "introductory",
        "topic": "Back",
        "cover_image_url": "",
        "written_for": ["massage_therapist", "chiropractor"],
    }
    data.update(overrides)
    return data


def _course(app, slug: str):
    from campus.extensions import db
    from campus.learning.models import Course

    with app.app_context():
        course = db.session.scalar(select(Course).where(Course.slug == slug))
        if course is None:
            return None
        return {
            "id": course.id,
            "status": course.status,
            "title": course.title,
            "ce_hours": course.ce_hours,
            "description_html": course.description_html,
            "professions": course.professions,
            "approvals": [(a.board, a.approval_number, a.valid_until) for a in course.approvals],
        }


def _count(app, model) -> int:
    from campus.extensions import db

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_admin_creates_a_course_with_an_approval_and_the_change_is_audited(app, client):
    admin_id = helpers.sign_in_admin(app, client)
    form = _course_form(
        **{
            "approvals-0-board": "NCBTMB",
            "approvals-0-approval_number": "451-22",
            "approvals-0-valid_until": "2031-01-31",
        }
    )
    response = helpers.post(client, "/admin/courses/new/", form)
    assert response.status_code == 302, helpers.flashes(response)
    course = _course(app, "myofascial-low-back")
    assert course["status"] == "draft"
    assert str(course["ce_hours"]) == "2.50"
    assert course["approvals"][0][:2] == ("NCBTMB", "451-22")
    assert sorted(course["professions"]) == ["chiropractor", "massage_therapist"]
    assert "<script>" not in course["description_html"]
    assert "<strong>overview</strong>" in course["description_html"]
    (entry,) = helpers.audit_entries(app, object_type="Course")
    assert entry.action == "create"
    assert entry.actor_id == admin_id
    assert entry.object_id == str(course["id"])
    assert entry.before is None
    assert entry.after["slug"] == "myofascial-low-back"


def test_editing_a_course_logs_what_changed_before_and_after(app, client):
    with app.app_context():
        course = make_course("edit-me", published=False)
    helpers.sign_in_admin(app, client)
    page = client.get(f"/admin/courses/edit/?id={course.id}")
    assert page.status_code == 200
    form = _course_form(title="A better title", slug="edit-me")
    response = helpers.post(client, f"/admin/courses/edit/?id={course.id}", form)
    assert response.status_code == 302, helpers.flashes(response)
    (entry,) = helpers.audit_entries(app, object_type="Course", action="update")
    assert entry.before["title"] == "Course edit-me"
    assert entry.after["title"] == "A better title"
    assert "title" in entry.summary


def test_a_duplicate_slug_gets_a_clear_message_and_changes_nothing(app, client):
    with app.app_context():
        make_course("taken-slug", published=False)
    helpers.sign_in_admin(app, client)
    from campus.learning.models import Course

    before = _count(app, Course)
    response = helpers.post(client, "/admin/courses/new/", _course_form(slug="taken-slug"))
    assert response.status_code == 200
    assert "Another course already uses this slug: pick another." in helpers.flashes(response)
    assert _count(app, Course) == before


@pytest.mark.parametrize(
    ("failure", "message"),
    [
        (
            "integrity",
            "Nothing was saved: another record was saved with the same values just now. "
            "Open the page again to see it.",
        ),
        ("bug", "Nothing was saved: the change failed. The error is in the server's log."),
    ],
)
def test_a_failed_save_shows_a_sentence_not_the_sql_and_changes_nothing(
    app, client, monkeypatch, caplog, failure, message
):
    from sqlalchemy.exc import IntegrityError

    from campus.admin.catalog import CourseView
    from campus.learning.models import Course

    def fail(*args, **kwargs):
        # As a unique index refuses a slug another admin saved a moment before.
        if failure == "integrity":
            raise IntegrityError(
                "INSERT INTO courses (slug) VALUES (%(slug)s)",
                {"slug": "myofascial-low-back"},
                Exception("duplicate key value violates unique constraint"),
            )
        raise RuntimeError("disk on fire")

    helpers.sign_in_admin(app, client)
    monkeypatch.setattr(CourseView, "save", fail)
    response = helpers.post(client, "/admin/courses/new/", _course_form())
    assert response.status_code == 200
    assert helpers.flashes(response) == [message]
    assert "INSERT" not in response.text and "disk on fire" not in response.text
    assert _count(app, Course) == 0
    assert ("duplicate key" if failure == "integrity" else "disk on fire") in caplog.text


def test_negative_ce_hours_are_refused(app, client):
    helpers.sign_in_admin(app, client)
    response = helpers.post(client, "/admin/courses/new/", _course_form(ce_hours="-1"))
    assert response.status_code == 200
    assert "CE hours must be between 0.25 and 100." in helpers.flashes(response)
    assert _course(app, "myofascial-low-back") is None


@pytest.mark.parametrize("hours", ["sNaN", "NaN", "Infinity", "-inf", "1e999"])
def test_ce_hours_that_are_no_finite_number_are_refused(app, client, hours):
    helpers.sign_in_admin(app, client)
    response = helpers.post(client, "/admin/courses/new/", _course_form(ce_hours=hours))
    assert response.status_code == 200
    assert _course(app, "myofascial-low-back") is None


@pytest.mark.parametrize("hours", ["\u0662.\u0665", "2_5", "25e-1"])
def test_ce_hours_not_written_as_a_plain_decimal_are_refused(app, client, hours):
    helpers.sign_in_admin(app, client)
    response = helpers.post(client, "/admin/courses/new/", _course_form(ce_hours=hours))
    assert response.status_code == 200
    assert "Enter the CE hours (more than 0)." in helpers.flashes(response)
    assert _course(app, "myofascial-low-back") is None


@pytest.mark.parametrize("title", ["Neck \u202eeb ot\u202c", "Neck\x07 release"])
def test_a_title_with_control_or_text_direction_characters_is_refused(app, client, title):
    helpers.sign_in_admin(app, client)
    response = helpers.post(client, "/admin/courses/new/", _course_form(title=title))
    assert response.status_code == 200
    assert any("text-direction character" in m for m in helpers.flashes(response))
    assert _course(app, "myofascial-low-back") is None


@pytest.mark.parametrize("title", ["\u200b\u200b", "\u200d \u0301"])
def test_a_title_of_invisible_characters_alone_is_refused(app, client, title):
    # Not blank to the form, yet the outline and the lesson pages showed a title of nothing.
    from campus.extensions import db
    from campus.learning.models import Module

    helpers.sign_in_admin(app, client)
    assert helpers.post(client, "/admin/courses/new/", _course_form()).status_code == 302
    course_id = _course(app, "myofascial-low-back")["id"]
    response = helpers.post(
        client, "/admin/modules/new/", {"course": course_id, "position": "", "title": title}
    )
    assert response.status_code == 200
    assert any("nothing to read" in m for m in helpers.flashes(response))
    with app.app_context():
        assert db.session.scalar(select(Module.id)) is None


def test_a_course_text_keeps_its_lines_but_not_control_or_direction_characters(app, client):
    from campus.extensions import db
    from campus.learning.models import Course

    helpers.sign_in_admin(app, client)
    form = _course_form(description="An\x1b[31m **overview**\u202e\r\n\tof the\x00 back")
    assert helpers.post(client, "/admin/courses/new/", form).status_code == 302
    with app.app_context():
        course = db.session.scalar(select(Course).where(Course.slug == "myofascial-low-back"))
        assert course.description == "An[31m **overview**\r\n\tof the back"


def test_an_approval_ending_in_the_past_is_refused(app, client):
    helpers.sign_in_admin(app, client)
    form = _course_form(
        **{
            "approvals-0-board": "BOC",
            "approvals-0-approval_number": "P1",
            "approvals-0-valid_until": "2020-01-01",
        }
    )
    response = helpers.post(client, "/admin/courses/new/", form)
    assert response.status_code == 200
    assert any("in the past" in message for message in helpers.flashes(response))
    assert _course(app, "myofascial-low-back") is None


def test_an_approval_expiring_within_sixty_days_is_flagged(app, client):
    from campus.extensions import db
    from campus.learning.models import BoardApproval
    from campus.models.base import utcnow

    with app.app_context():
        course = make_course("expiring", published=False)
        approval = db.session.scalar(
            select(BoardApproval).where(BoardApproval.course_id == course.id)
        )
        approval.valid_until = utcnow().date() + timedelta(days=20)
        db.session.commit()
    helpers.sign_in_admin(app, client)
    listing = client.get("/admin/courses/").get_data(as_text=True)
    assert "expires in 20 days" in listing
    edit = client.get(f"/admin/courses/edit/?id={course.id}")
    assert any("renew it with the board" in m for m in helpers.flashes(edit))
    dashboard = client.get("/admin/").get_data(as_text=True)
    assert "Course expiring" in dashboard and "expires in 20 days" in dashboard
    # Its renewal entered, from the day after: nothing left to renew, nothing to flag.
    with app.app_context():
        ends = utcnow().date() + timedelta(days=20)
        renewal = BoardApproval(
            course_id=course.id,
            board="NCBTMB",
            approval_number="RENEWED-1",
            valid_from=ends + timedelta(days=1),
            valid_until=ends + timedelta(days=730),
        )
        db.session.add(renewal)
        db.session.commit()
    edit = client.get(f"/admin/courses/edit/?id={course.id}")
    assert not any("renew it with the board" in m for m in helpers.flashes(edit))
    dashboard = client.get("/admin/").get_data(as_text=True)
    assert "Course expiring" not in dashboard


def test_a_course_without_lessons_and_quiz_cannot_be_published(app, client):
    helpers.sign_in_admin(app, client)
    response = helpers.post(client, "/admin/courses/new/", _course_form(status="published"))
    assert response.status_code == 200
    assert any("needs at least one lesson and a final quiz" in m for m in helpers.flashes(response))
    assert _course(app, "myofascial-low-back") is None


APPROVAL = {
    "approvals-0-board": "NCBTMB",
    "approvals-0-approval_number": "451-22",
    "approvals-0-valid_until": "2099-01-31",
}


def test_admin_builds_a_course_with_a_quiz_and_publishes_it(app, client):
    helpers.sign_in_admin(app, client)
    assert helpers.post(client, "/admin/courses/new/", _course_form(**APPROVAL)).status_code == 302
    course_id = _course(app, "myofascial-low-back")["id"]

    response = helpers.post(
        client, "/admin/modules/new/", {"course": course_id, "position": "", "title": "Anatomy"}
    )
    assert response.status_code == 302, helpers.flashes(response)
    from campus.extensions import db
    from campus.learning.models import Lesson, Module, Question, Quiz

    with app.app_context():
        module_id = db.session.scalar(select(Module.id).where(Module.course_id == course_id))
    response = helpers.post(
        client,
        "/admin/lessons/new/",
        {
            "module": module_id,
            "position": "",
            "title": "The quadratus lumborum",
            "body_markdown": "Find the **QL**.<script>alert('x')</script>"
            "<img src=x onerror=alert(1)>",
            "video_url": "https://youtu.be/dQw4w9WgXcQ",
            # 2.5 CE hours need 150 minutes of expected study before the course can be published.
            "estimated_minutes": "150",
        },
    )
    assert response.status_code == 302, helpers.flashes(response)
    response = helpers.post(
        client,
        "/admin/quizzes/new/",
        {
            "course": course_id,
            "title": "Final quiz",
            "instructions": "",
            "pass_mark_percent": "80",
            "attempts_per_day": "3",
        },
    )
    assert response.status_code == 302, helpers.flashes(response)
    with app.app_context():
        quiz_id = db.session.scalar(select(Quiz.id).where(Quiz.course_id == course_id))
    response = helpers.post(
        client,
        "/admin/questions/new/",
        {
            "quiz": quiz_id,
            "position": "",
            "prompt": "Where is the QL?",
            "kind": "single",
            "explanation": "Lateral low back.",
            "choices-0-text": "Lateral low back",
            "choices-0-is_correct": "y",
            "choices-1-text": "Forearm",
        },
    )
    assert response.status_code == 302, helpers.flashes(response)

    publish = {"action": "publish", "rowid": [str(course_id)]}
    response = helpers.post(client, "/admin/courses/action/", publish, follow_redirects=True)
    assert any(
        "a transcript for every lesson with a video (missing for “The quadratus lumborum”)" in m
        for m in helpers.flashes(response)
    )
    assert _course(app, "myofascial-low-back")["status"] == "draft"
    with app.app_context():
        lesson_id = db.session.scalar(select(Lesson.id).where(Lesson.course_id == course_id))
    edit = client.get(f"/admin/lessons/edit/?id={lesson_id}").get_data(as_text=True)
    assert "Video transcript (Markdown)" in edit
    response = helpers.post(
        client,
        f"/admin/lessons/edit/?id={lesson_id}",
        {
            "module": module_id,
            "position": "1",
            "title": "The quadratus lumborum",
            "body_markdown": "Find the **QL**.",
            "video_url": "https://youtu.be/dQw4w9WgXcQ",
            "transcript": "The therapist *sidelies* the client and finds the QL.",
            "estimated_minutes": "150",
        },
    )
    assert response.status_code == 302, helpers.flashes(response)

    response = helpers.post(client, "/admin/courses/action/", publish)
    assert response.status_code == 302
    assert _course(app, "myofascial-low-back")["status"] == "published"
    with app.app_context():
        lesson = db.session.scalar(select(Lesson).where(Lesson.course_id == course_id))
        assert lesson.transcript_html == (
            "<p>The therapist <em>sidelies</em> the client and finds the QL.</p>\n"
        )
        assert lesson.module_position == 1 and lesson.position == 1
        assert lesson.video_embed_url == "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"
        # Markdown is rendered without raw HTML: the tags arrive as harmless text.
        assert "<script" not in lesson.body_html and "<img" not in lesson.body_html
        question = db.session.scalar(select(Question).where(Question.quiz_id == quiz_id))
        assert [(c.position, c.text, c.is_correct) for c in question.choices] == [
            (1, "Lateral low back", True),
            (2, "Forearm", False),
        ]
    public = client.get("/courses/myofascial-low-back")
    assert public.status_code == 200
    assert "<script>alert" not in public.get_data(as_text=True)
    actions = [e.action for e in helpers.audit_entries(app)]
    assert actions.count("create") == 5 and "publish" in actions


def test_pass_mark_outside_the_range_is_refused(app, client):
    with app.app_context():
        course = make_course("no-quiz-yet", published=False)
    from campus.extensions import db
    from campus.learning.models import Quiz

    with app.app_context():
        db.session.delete(db.session.get(Quiz, course.quiz_id))
        db.session.commit()
    helpers.sign_in_admin(app, client)
    for value in ("150", "-5"):
        response = helpers.post(
            client,
            "/admin/quizzes/new/",
            {
                "course": course.id,
                "title": "Final quiz",
                "pass_mark_percent": value,
                "attempts_per_day": "3",
            },
        )
        assert response.status_code == 200
        assert "The pass mark must be between 1 and 100 percent." in helpers.flashes(response)
    assert _count(app, Quiz) == 0


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"choices-0-text": "This", "choices-1-text": "That"},
            "Mark at least one answer as correct.",
        ),
        (
            {"choices-0-text": "This", "choices-0-is_correct": "y"},
            "A question needs at least two answers.",
        ),
        (
            {
                "choices-0-text": "This",
                "choices-0-is_correct": "y",
                "choices-1-text": "That",
                "choices-1-is_correct": "y",
            },
            "A “choose one” question can have only one correct answer",
        ),
        (
            {
                "position": "1",
                "choices-0-text": "This",
                "choices-0-is_correct": "y",
                "choices-1-text": "That",
            },
            "Position 1 is already taken by another question in this quiz.",
        ),
    ],
)
def test_a_question_the_quiz_cannot_use_is_refused_and_changes_nothing(
    app, client, fields, message
):
    with app.app_context():
        course = make_course("quiz-course", published=False)
    from campus.learning.models import Choice, Question

    before = (_count(app, Question), _count(app, Choice))
    helpers.sign_in_admin(app, client)
    response = helpers.post(
        client,
        "/admin/questions/new/",
        {"quiz": course.quiz_id, "prompt": "Which one?", "kind": "single", **fields},
    )
    assert response.status_code == 200
    assert any(message in m for m in helpers.flashes(response)), helpers.flashes(response)
    assert (_count(app, Question), _count(app, Choice)) == before
    assert helpers.audit_entries(app, object_type="Question") == []


def test_a_second_quiz_for_a_course_is_refused(app, client):
    from campus.learning.models import Quiz

    with app.app_context():
        course = make_course("one-quiz", published=False)
    helpers.sign_in_admin(app, client)
    response = helpers.post(
        client,
        "/admin/quizzes/new/",
        {
            "course": course.id,
            "title": "Another quiz",
            "pass_mark_percent": "75",
            "attempts_per_day": "3",
        },
    )
    assert response.status_code == 200
    assert "That course already has a quiz: edit it instead." in helpers.flashes(response)
    assert _count(app, Quiz) == 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"video_url": "javascript:alert(1)"}, "Video link: Video links must start with https://."),
        (
            {"video_url": "https://evil.example/watch?v=abc"},
            "Video link: Videos can only be embedded from YouTube or Vimeo.",
        ),
        (
            {"video_url": "https://www.youtube.com/watch?v=%22onload"},
            "Video link: That link does not point at a YouTube or Vimeo video.",
        ),
        (
            # An unclosed "[" host is not an address at all (urlsplit raises on it).
            {"video_url": "https://[www.youtube.com/watch?v=dQw4w9WgXcQ"},
            "Video link: That is not a web address.",
        ),
        ({"position": "1"}, "Position 1 is already taken by lesson “Lesson 1” in this module."),
    ],
)
def test_a_lesson_the_course_cannot_use_is_refused_and_changes_nothing(
    app, client, fields, message
):
    from campus.extensions import db
    from campus.learning.models import Lesson, Module

    with app.app_context():
        course = make_course("lesson-course", published=False)
        module_id = db.session.scalars(
            select(Module.id).where(Module.course_id == course.id).order_by(Module.position)
        ).first()
    before = _count(app, Lesson)
    helpers.sign_in_admin(app, client)
    form = {
        "module": module_id,
        "title": "A new lesson",
        "body_markdown": "Find the point.",
        "estimated_minutes": "10",
        **fields,
    }
    response = helpers.post(client, "/admin/lessons/new/", form)
    assert response.status_code == 200
    assert any(message in m for m in helpers.flashes(response)), helpers.flashes(response)
    assert _count(app, Lesson) == before
    assert helpers.audit_entries(app, object_type="Lesson") == []


def test_a_module_position_already_taken_is_refused_and_moves_carry_the_lessons(app, client):
    from campus.extensions import db
    from campus.learning.models import Lesson, Module

    with app.app_context():
        course = make_course("ordering", published=False, lessons=4)
        first, second = db.session.scalars(
            select(Module).where(Module.course_id == course.id).order_by(Module.position)
        ).all()
        first_id, second_id = first.id, second.id
    helpers.sign_in_admin(app, client)
    response = helpers.post(
        client,
        f"/admin/modules/edit/?id={second_id}",
        {"course": course.id, "position": "1", "title": "Two"},
    )
    assert response.status_code == 200
    assert any(
        "Position 1 is already taken by module “One”" in m for m in helpers.flashes(response)
    )
    response = helpers.post(
        client,
        f"/admin/modules/edit/?id={second_id}",
        {"course": course.id, "position": "5", "title": "Two"},
    )
    assert response.status_code == 302
    with app.app_context():
        positions = db.session.scalars(
            select(Lesson.module_position).where(Lesson.module_id == second_id)
        ).all()
        assert positions and set(positions) == {5}
        assert db.session.get(Module, first_id).position == 1


def test_deleting_a_course_with_enrollments_is_refused(app, client):
    with app.app_context():
        course = make_course("has-students")
        student = support.create_user()
        enroll_directly(student.id, course.id)
    helpers.sign_in_admin(app, client)
    response = helpers.post(
        client, "/admin/courses/delete/", {"id": course.id}, follow_redirects=True
    )
    assert any("cannot be deleted" in m and "Unpublish" in m for m in helpers.flashes(response))
    assert _course(app, "has-students") is not None
    assert helpers.audit_entries(app, action="delete") == []


def test_a_lesson_module_or_quiz_with_study_records_is_kept(app, client):
    from campus.extensions import db
    from campus.learning.models import Lesson, LessonProgress, Module, Quiz, QuizAttempt
    from campus.learning.records import SeatTime

    with app.app_context():
        # A draft, so only the study records stand in the way.
        course = make_course("studied", published=False, lessons=4)
        enrollment_id = enroll_directly(support.create_user().id, course.id)
        first, second = course.lesson_ids[0], course.lesson_ids[1]
        db.session.add(LessonProgress(enrollment_id=enrollment_id, lesson_id=first))
        db.session.add(SeatTime(enrollment_id=enrollment_id, lesson_id=second, seconds=600))
        db.session.add(
            QuizAttempt(
                enrollment_id=enrollment_id,
                quiz_id=course.quiz_id,
                answers={},
                correct_count=0,
                question_count=2,
                score_percent=0,
                pass_mark_percent=75,
                passed=False,
            )
        )
        db.session.commit()
        module_id = db.session.get(Lesson, first).module_id
        untouched = course.lesson_ids[3]
    helpers.sign_in_admin(app, client)
    for path, key in (
        ("/admin/lessons/delete/", first),
        ("/admin/lessons/delete/", second),
        ("/admin/modules/delete/", module_id),
        ("/admin/quizzes/delete/", course.quiz_id),
    ):
        response = helpers.post(client, path, {"id": key}, follow_redirects=True)
        assert any("cannot be deleted" in m for m in helpers.flashes(response)), path
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Lesson)) == 4
        assert db.session.get(Module, module_id) is not None
        assert db.session.get(Quiz, course.quiz_id) is not None
        assert db.session.scalar(select(func.count()).select_from(LessonProgress)) == 1
        assert db.session.scalar(select(func.count()).select_from(SeatTime)) == 1
        assert db.session.scalar(select(func.count()).select_from(QuizAttempt)) == 1
    # A lesson nobody has studied yet can still go.
    helpers.post(client, "/admin/lessons/delete/", {"id": untouched})
    with app.app_context():
        assert db.session.get(Lesson, untouched) is None


def test_deleting_needs_a_fresh_password_and_is_audited(app, client):
    with app.app_context():
        course = make_course("to-delete", published=False)
    helpers.sign_in_admin(app, client, fresh=False)
    response = helpers.post(
        client, "/admin/courses/delete/", {"id": course.id}, headers={"Referer": "/admin/courses/"}
    )
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/confirm/")
    assert _course(app, "to-delete") is not None

    assert helpers.confirm_password(client).status_code == 302
    response = helpers.post(client, "/admin/courses/delete/", {"id": course.id})
    assert response.status_code == 302
    assert _course(app, "to-delete") is None
    (entry,) = helpers.audit_entries(app, action="delete")
    assert entry.before["slug"] == "to-delete" and entry.after is None


def test_a_cover_image_must_be_an_https_address(app, client):
    helpers.sign_in_admin(app, client)
    for bad in ("javascript:alert(1)", 'https://x.test/a.png" onerror="alert(1)'):
        response = helpers.post(client, "/admin/courses/new/", _course_form(cover_image_url=bad))
        assert "Use an https:// address for the image." in helpers.flashes(response)
    assert _course(app, "myofascial-low-back") is None
    ok = helpers.post(
        client, "/admin/courses/new/", _course_form(cover_image_url="https://img.test/low-back.jpg")
    )
    assert ok.status_code == 302


def test_course_form_lays_out_the_audience_checkboxes_and_a_full_width_description(app, client):
    with app.app_context():
        course_id = make_course("form-layout-course").id
    helpers.sign_in_admin(app, client)
    html = client.get(f"/admin/courses/edit/?id={course_id}").get_data(as_text=True)
    # A list of checkboxes of its own, not squeezed into a one-line form-control box that the
    # approvals below would cover.
    assert '<ul class="checkbox-list" id="written_for">' in html
    # The editor keeps Bootstrap's full-width form-control class beside its own.
    (textarea,) = re.findall(r'<textarea[^>]*id="description"[^>]*>', html)
    assert 'class="form-control markdown-editor"' in textarea


def test_the_author_sets_the_draw_size_and_each_questions_objective(app, client):
    from campus.extensions import db
    from campus.learning.models import Question, Quiz

    with app.app_context():
        course = make_course("bank-admin", published=False)
        db.session.delete(db.session.get(Quiz, course.quiz_id))
        db.session.commit()
    helpers.sign_in_admin(app, client)
    form = {"course": course.id, "title": "Final quiz", "pass_mark_percent": "80"}
    refused = helpers.post(
        client,
        "/admin/quizzes/new/",
        {**form, "attempts_per_day": "3", "questions_per_attempt": "0"},
    )
    assert "Draw between 1 and 500 questions per attempt." in helpers.flashes(refused)
    assert _count(app, Quiz) == 0
    response = helpers.post(
        client,
        "/admin/quizzes/new/",
        {**form, "attempts_per_day": "3", "questions_per_attempt": "2"},
    )
    assert response.status_code == 302, helpers.flashes(response)
    with app.app_context():
        quiz = db.session.scalar(select(Quiz).where(Quiz.course_id == course.id))
        assert quiz.questions_per_attempt == 2
        quiz_id = quiz.id
    response = helpers.post(
        client,
        "/admin/questions/new/",
        {
            "quiz": quiz_id,
            "prompt": "Where is the QL?",
            "kind": "single",
            "objective": "Locate the low-back muscles",
            "choices-0-text": "Lateral low back",
            "choices-0-is_correct": "y",
            "choices-1-text": "Forearm",
        },
    )
    assert response.status_code == 302, helpers.flashes(response)
    with app.app_context():
        question = db.session.scalar(select(Question).where(Question.quiz_id == quiz_id))
        assert question.objective == "Locate the low-back muscles"


@pytest.mark.parametrize(
    ("valid_until", "message"),
    [
        (None, "A course needs a board approval before it can be published."),
        (
            timedelta(days=-1),
            "A course needs a board approval in force today "
            "(every approval has lapsed or not started)",
        ),
    ],
)
def test_a_course_without_a_board_approval_in_force_cannot_be_published(
    app, client, valid_until, message
):
    from campus.extensions import db
    from campus.learning.models import BoardApproval, Course
    from campus.models.base import utcnow

    with app.app_context():
        info = make_course("unapproved", published=False)
        course = db.session.get(Course, info.id)
        course.approvals.clear()
        if valid_until is not None:
            course.approvals.append(
                BoardApproval(
                    board="NCBTMB", approval_number="1", valid_until=utcnow().date() + valid_until
                )
            )
        db.session.commit()
    helpers.sign_in_admin(app, client)
    response = helpers.post(
        client, "/admin/courses/action/", {"action": "publish", "rowid": [str(info.id)]}
    )
    assert response.status_code == 302
    assert message in " ".join(helpers.flashes(client.get("/admin/courses/")))
    assert _course(app, "unapproved")["status"] == "draft"


# One board approval row of the course form, as the page posts it.
APPROVAL_ROW = {
    "approvals-0-board": "NCBTMB",
    "approvals-0-approval_number": "451-22",
    "approvals-0-valid_until": "2031-01-31",
}


def test_an_approval_edited_inside_its_course_is_in_the_courses_audit_entry(app, client):
    from campus.audit import AuditEntry
    from campus.extensions import db
    from campus.learning.models import Course

    helpers.sign_in_admin(app, client)
    approval = APPROVAL_ROW
    assert helpers.post(client, "/admin/courses/new/", _course_form(**approval)).status_code == 302
    with app.app_context():
        course = db.session.scalar(select(Course))
        course_id, approval_id = course.id, course.approvals[0].id
    changed = {
        **approval,
        "approvals-0-id": str(approval_id),
        "approvals-0-approval_number": "999-99",
    }
    helpers.post(client, f"/admin/courses/edit/?id={course_id}", _course_form(**changed))
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert entry.object_type == "Course" and entry.action == "update"
        assert [a["approval_number"] for a in entry.before["approvals"]] == ["451-22"]
        assert [a["approval_number"] for a in entry.after["approvals"]] == ["999-99"]
        # The hours were not touched: 2.5 from the form and 2.50 stored are one value.
        assert entry.before["ce_hours"] == entry.after["ce_hours"]


@pytest.mark.parametrize("ticked", [True, False])
def test_an_approval_deleted_elsewhere_is_not_made_again_by_a_stale_form(app, client, ticked):
    from campus.extensions import db
    from campus.learning.models import BoardApproval

    helpers.sign_in_admin(app, client)
    row = APPROVAL_ROW
    assert helpers.post(client, "/admin/courses/new/", _course_form(**row)).status_code == 302
    course = _course(app, "myofascial-low-back")
    with app.app_context():
        approval = db.session.scalar(select(BoardApproval))
        approval_id = approval.id
        db.session.delete(approval)  # another admin's change, made while this form was open
        db.session.commit()
    stale = {**row, "approvals-0-id": str(approval_id)}
    if ticked:
        stale["del-approvals-0"] = "y"
    response = helpers.post(
        client, f"/admin/courses/edit/?id={course['id']}", _course_form(title="Renamed", **stale)
    )
    assert response.status_code == 200
    assert any("deleted or moved since the page was opened" in f for f in helpers.flashes(response))
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(BoardApproval)) == 0
    assert _course(app, "myofascial-low-back")["title"] != "Renamed"
    assert not helpers.audit_entries(app, object_type="Course", action="update")


def test_an_approval_ticked_for_deletion_is_deleted(app, client):
    from campus.extensions import db
    from campus.learning.models import BoardApproval

    helpers.sign_in_admin(app, client)
    row = APPROVAL_ROW
    assert helpers.post(client, "/admin/courses/new/", _course_form(**row)).status_code == 302
    course = _course(app, "myofascial-low-back")
    with app.app_context():
        approval_id = db.session.scalar(select(BoardApproval.id))
    response = helpers.post(
        client,
        f"/admin/courses/edit/?id={course['id']}",
        _course_form(**row, **{"approvals-0-id": str(approval_id), "del-approvals-0": "y"}),
    )
    assert response.status_code == 302, helpers.flashes(response)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(BoardApproval)) == 0


# --- the board approvals page, bulk unpublishing, the last question of a quiz ------------------


def _approvals(app) -> list[tuple]:
    from campus.extensions import db
    from campus.learning.models import BoardApproval

    with app.app_context():
        rows = db.session.scalars(select(BoardApproval).order_by(BoardApproval.id))
        return [(a.course_id, a.board, a.approval_number, a.valid_until) for a in rows]


def _approval_form(course_id: int, **overrides) -> dict:
    return {
        "course": str(course_id),
        "board": "BOC",
        "approval_number": "P2345",
        "valid_until": "2031-06-30",
        **overrides,
    }


def test_an_approval_added_on_the_approvals_page_is_saved_and_audited(app, client):
    with app.app_context():
        course = make_course("approved")
    helpers.sign_in_admin(app, client)
    response = helpers.post(client, "/admin/approvals/new/", _approval_form(course.id))
    assert response.status_code == 302, helpers.flashes(response)
    assert (course.id, "BOC", "P2345", date(2031, 6, 30)) in _approvals(app)
    [entry] = helpers.audit_entries(app, object_type="BoardApproval")
    assert entry.action == "create" and entry.after["approval_number"] == "P2345"
    listing = client.get("/admin/approvals/").get_data(as_text=True)
    assert "P2345" in listing and "1234-56" in listing


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"valid_until": "2020-01-01"}, "is in the past"),
        ({"board": ""}, "Name the board"),
        ({"approval_number": " "}, "Enter the approval number"),
        ({"course": ""}, "Choose the course"),
        ({"valid_until": "2031-02-30"}, "date"),
        ({"valid_from": "2031-07-01"}, "The BOC approval starts after it ends"),
        ({"valid_from": "2031-13-01"}, "date"),
    ],
)
def test_an_approval_the_page_cannot_accept_is_refused_and_changes_nothing(
    app, client, change, message
):
    with app.app_context():
        course = make_course("approved")
    before = _approvals(app)
    helpers.sign_in_admin(app, client)
    response = helpers.post(client, "/admin/approvals/new/", _approval_form(course.id, **change))
    assert response.status_code == 200
    assert any(message in m for m in helpers.flashes(response)), helpers.flashes(response)
    assert _approvals(app) == before
    assert helpers.audit_entries(app, object_type="BoardApproval") == []


def test_an_approvals_first_day_is_saved_audited_and_shown_until_it_comes(app, client):
    from campus.extensions import db
    from campus.learning.models import BoardApproval

    with app.app_context():
        course = make_course("approved")
    helpers.sign_in_admin(app, client)
    form = _approval_form(course.id, valid_from="2031-01-01")
    response = helpers.post(client, "/admin/approvals/new/", form)
    assert response.status_code == 302, helpers.flashes(response)
    with app.app_context():
        approval = db.session.scalar(select(BoardApproval).where(BoardApproval.board == "BOC"))
        assert (approval.valid_from, approval.valid_until) == (date(2031, 1, 1), date(2031, 6, 30))
    [entry] = helpers.audit_entries(app, object_type="BoardApproval")
    assert entry.after["valid_from"] == "2031-01-01"
    # Not in force yet: the list says from when, not "until".
    listing = client.get("/admin/approvals/").get_data(as_text=True)
    assert "from 2031-01-01" in listing and "Approved from" in listing


def test_a_published_courses_only_approval_cannot_be_moved_to_start_later(app, client):
    from campus import dates
    from campus.extensions import db
    from campus.learning.models import BoardApproval

    with app.app_context():
        course = make_course("approved")  # published, with NCBTMB 1234-56 and no end
        approval_id = db.session.scalar(
            select(BoardApproval.id).where(BoardApproval.course_id == course.id)
        )
    before = _approvals(app)
    helpers.sign_in_admin(app, client)
    later = (dates.today() + timedelta(days=30)).isoformat()
    form = _approval_form(
        course.id, board="NCBTMB", approval_number="1234-56", valid_from=later, valid_until=""
    )
    response = helpers.post(client, f"/admin/approvals/edit/?id={approval_id}", form)
    assert response.status_code == 200
    assert any("needs a board approval in force today" in m for m in helpers.flashes(response))
    with app.app_context():
        assert db.session.get(BoardApproval, approval_id).valid_from is None
    assert _approvals(app) == before
    assert helpers.audit_entries(app, object_type="BoardApproval") == []
    # Another board's approval from next month is added beside it, and its first day edited.
    form = _approval_form(course.id, valid_from=later, valid_until="")
    assert helpers.post(client, "/admin/approvals/new/", form).status_code == 302
    with app.app_context():
        boc = db.session.scalar(select(BoardApproval.id).where(BoardApproval.board == "BOC"))
    form["valid_from"] = (dates.today() + timedelta(days=40)).isoformat()
    response = helpers.post(client, f"/admin/approvals/edit/?id={boc}", form)
    assert response.status_code == 302, helpers.flashes(response)


def test_a_boards_renewal_is_entered_ahead_beside_the_approval_it_follows(app, client):
    # A board approves a course for a period; its renewal (a new number) is entered before
    # the first period ends. Two approvals of one board on the same day are still refused.
    from campus.extensions import db
    from campus.learning.models import BoardApproval

    with app.app_context():
        course = make_course("approved")
    helpers.sign_in_admin(app, client)
    current = _approval_form(course.id, approval_number="P1", valid_until="2031-06-30")
    assert helpers.post(client, "/admin/approvals/new/", current).status_code == 302
    overlapping = _approval_form(course.id, approval_number="P2", valid_from="2031-06-30")
    response = helpers.post(client, "/admin/approvals/new/", overlapping)
    assert response.status_code == 200
    assert any("BOC approval is listed twice" in m for m in helpers.flashes(response))
    same_number = _approval_form(
        course.id, approval_number="P1", valid_from="2031-07-01", valid_until="2033-06-30"
    )
    response = helpers.post(client, "/admin/approvals/new/", same_number)
    assert response.status_code == 200
    assert any("change its dates instead" in m for m in helpers.flashes(response))
    renewal = _approval_form(
        course.id, approval_number="P2", valid_from="2031-07-01", valid_until="2033-06-30"
    )
    response = helpers.post(client, "/admin/approvals/new/", renewal)
    assert response.status_code == 302, helpers.flashes(response)
    with app.app_context():
        rows = db.session.scalars(
            select(BoardApproval).where(BoardApproval.board == "BOC").order_by(BoardApproval.id)
        ).all()
        assert [a.approval_number for a in rows] == ["P1", "P2"]
        # Each in force on its own days only: a certificate prints the one of its day.
        assert [a.is_valid_on(date(2031, 6, 30)) for a in rows] == [True, False]
        assert [a.is_valid_on(date(2031, 7, 1)) for a in rows] == [False, True]


def test_an_approval_starting_after_it_ends_is_refused_in_the_course_form(app, client):
    helpers.sign_in_admin(app, client)
    form = _course_form(
        **{
            "approvals-0-board": "BOC",
            "approvals-0-approval_number": "P1",
            "approvals-0-valid_from": "2032-01-01",
            "approvals-0-valid_until": "2031-01-31",
        }
    )
    response = helpers.post(client, "/admin/courses/new/", form)
    assert response.status_code == 200
    assert any("starts after it ends" in m for m in helpers.flashes(response))
    assert _course(app, "myofascial-low-back") is None
    # The course form asks for the first day beside the last.
    page = client.get("/admin/courses/new/").get_data(as_text=True)
    assert "Approved from" in page and "name=&#34;valid_from&#34;" in page


def test_an_approval_moved_into_the_past_on_its_page_is_refused(app, client):
    from campus.extensions import db
    from campus.learning.models import BoardApproval

    with app.app_context():
        course = make_course("approved")
        approval_id = db.session.scalar(
            select(BoardApproval.id).where(BoardApproval.course_id == course.id)
        )
    before = _approvals(app)
    helpers.sign_in_admin(app, client)
    form = _approval_form(course.id, approval_number="1234-56", valid_until="2021-03-31")
    response = helpers.post(client, f"/admin/approvals/edit/?id={approval_id}", form)
    assert any("is in the past" in m for m in helpers.flashes(response))
    assert _approvals(app) == before
    # A change that keeps it in force is saved and logged with what it was.
    form["valid_until"] = "2032-12-31"
    response = helpers.post(client, f"/admin/approvals/edit/?id={approval_id}", form)
    assert response.status_code == 302, helpers.flashes(response)
    [entry] = helpers.audit_entries(app, object_type="BoardApproval", action="update")
    assert entry.before["valid_until"] is None and entry.after["valid_until"] == "2032-12-31"


def test_unpublishing_courses_in_bulk_takes_them_out_of_the_catalog_and_logs_each(app, client):
    with app.app_context():
        first, second = make_course("first-course"), make_course("second-course")
        draft = make_course("still-draft", published=False)
    helpers.sign_in_admin(app, client)
    rows = [str(first.id), str(second.id), str(draft.id)]
    response = helpers.post(
        client,
        "/admin/courses/action/",
        {"action": "unpublish", "rowid": rows},
        follow_redirects=True,
    )
    assert "2 courses set to draft." in helpers.flashes(response)
    for slug in ("first-course", "second-course", "still-draft"):
        assert _course(app, slug)["status"] == "draft"
    visitor = app.test_client()
    assert visitor.get("/courses/first-course").status_code == 404
    assert "Course first-course" not in visitor.get("/courses/").get_data(as_text=True)
    logged = helpers.audit_entries(app, action="unpublish")
    assert sorted(e.object_id for e in logged) == sorted([str(first.id), str(second.id)])


def test_the_last_question_of_a_published_quiz_is_kept(app, client):
    from campus.extensions import db
    from campus.learning.models import Question

    with app.app_context():
        course = make_course("one-question", questions=QUESTIONS[:1])
        [question_id] = db.session.scalars(
            select(Question.id).where(Question.quiz_id == course.quiz_id)
        ).all()
    helpers.sign_in_admin(app, client)
    response = helpers.post(
        client, "/admin/questions/delete/", {"id": question_id}, follow_redirects=True
    )
    assert any("last question of a published course" in m for m in helpers.flashes(response))
    with app.app_context():
        assert db.session.get(Question, question_id) is not None
    assert helpers.audit_entries(app, object_type="Question") == []


def test_a_question_of_a_quiz_with_others_left_is_deleted_and_logged(app, client):
    from campus.extensions import db
    from campus.learning.models import Question

    with app.app_context():
        course = make_course("two-questions", questions=QUESTIONS[:2])
        first_id = db.session.scalars(
            select(Question.id).where(Question.quiz_id == course.quiz_id).order_by(Question.id)
        ).first()
    helpers.sign_in_admin(app, client)
    response = helpers.post(client, "/admin/questions/delete/", {"id": first_id})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Question, first_id) is None
    [entry] = helpers.audit_entries(app, object_type="Question", action="delete")
    assert entry.object_id == str(first_id) and entry.after is None


def test_an_admin_form_names_each_error_to_its_field(app, client):
    helpers.sign_in_admin(app, client)
    response = helpers.post(client, "/admin/courses/new/", _course_form(title="", ce_hours="-1"))
    page = response.get_data(as_text=True)
    invalid = re.findall(r"<(?:input|select|textarea)[^>]*aria-invalid=\"true\"[^>]*>", page)
    assert {re.search(r'\bid="([^"]+)"', tag).group(1) for tag in invalid} >= {"title", "ce_hours"}
    for tag in invalid:
        described = re.search(r'aria-describedby="([^"]+)"', tag).group(1)
        # The id it names holds the error text, and only once on the page.
        assert re.findall(rf'id="{described}"', page) == [f'id="{described}"']
        assert re.search(rf'id="{described}"[^>]*>\s*<ul[^>]*>\s*<li>', page), described


@pytest.mark.parametrize("title", ["", "   "])
def test_a_quiz_title_left_blank_is_refused(app, client, title):
    # Saved, the student's quiz page opened under an empty heading.
    from campus.extensions import db
    from campus.learning.models import Quiz

    with app.app_context():
        course = make_course("blank-quiz-title", published=False)
    quiz_id = course.quiz_id
    helpers.sign_in_admin(app, client)
    response = helpers.post(
        client,
        f"/admin/quizzes/edit/?id={quiz_id}",
        {"course": course.id, "title": title, "pass_mark_percent": "75", "attempts_per_day": "3"},
    )
    assert response.status_code == 200
    assert "Give the quiz a title." in helpers.flashes(response), helpers.flashes(response)
    with app.app_context():
        assert db.session.get(Quiz, quiz_id).title.strip()


@pytest.mark.parametrize(("typed", "kept"), [("   ", ""), ("  Trigger points ", "Trigger points")])
def test_a_questions_objective_is_kept_without_surrounding_spaces(app, client, typed, kept):
    # "   " was an objective of its own: a failed student was told to revisit a blank line.
    from campus.extensions import db
    from campus.learning.models import Question

    with app.app_context():
        course = make_course("objective-course", published=False)
    helpers.sign_in_admin(app, client)
    form = {
        "quiz": course.quiz_id,
        "prompt": "Which one?",
        "kind": "single",
        "objective": typed,
        "choices-0-text": "This",
        "choices-0-is_correct": "y",
        "choices-1-text": "That",
    }
    response = helpers.post(client, "/admin/questions/new/", form)
    assert response.status_code == 302, helpers.flashes(response)
    with app.app_context():
        saved = db.session.scalar(select(Question).where(Question.prompt == "Which one?"))
        assert saved.objective == kept


def test_ce_hours_finer_than_the_hundredth_are_refused_not_rounded(app, client):
    # Stored to the hundredth, 1.125 would become 1.12 or 1.13 by the database's rounding, while
    # the form's page and the audit entry said 1.125: the admin is asked to write it as it is.
    helpers.sign_in_admin(app, client)
    response = helpers.post(client, "/admin/courses/new/", _course_form(ce_hours="1.125"))
    assert response.status_code == 200
    assert "CE hours: write at most 2 decimal places." in helpers.flashes(response)
    assert _course(app, "myofascial-low-back") is None
    assert not helpers.audit_entries(app, object_type="Course")

    created = helpers.post(client, "/admin/courses/new/", _course_form(ce_hours="1.50"))
    assert created.status_code == 302, helpers.flashes(created)
    assert str(_course(app, "myofascial-low-back")["ce_hours"]) == "1.50"


def test_admin_list_pages_give_each_id_once(app, client):
    # Each row's delete form carried id="id" and id="url", and the "With selected" form one more
    # id="url": an id that names several elements is invalid, and a label or script finds one.
    from collections import Counter

    helpers.make_catalog(app)
    helpers.sign_in_admin(app, client)
    with app.app_context():
        make_course("second-list-course")
    for path in ("/admin/courses/", "/admin/articles/", "/admin/programs/", "/admin/lessons/"):
        html = client.get(path).get_data(as_text=True)
        assert "data-confirm=" in html, path  # the rows' delete forms are there
        twice = [i for i, n in Counter(re.findall(r'\bid="([^"]+)"', html)).items() if n > 1]
        assert twice == [], (path, twice)

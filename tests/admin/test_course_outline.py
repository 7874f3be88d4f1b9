"""The course page: modules, lessons and quiz as one tree, reordering, student previews."""

from __future__ import annotations

from sqlalchemy import select

from tests.admin import helpers
from tests.learning.helpers import make_course


def _order(app, course_id: int) -> list[tuple[str, str]]:
    """(module title, lesson title) in the order students take them."""
    from campus.extensions import db
    from campus.learning.models import Lesson, Module

    with app.app_context():
        rows = db.session.execute(
            select(Module.title, Lesson.title)
            .join(Lesson, Lesson.module_id == Module.id)
            .where(Lesson.course_id == course_id)
            .order_by(Lesson.module_position, Lesson.position)
        ).all()
        return [tuple(row) for row in rows]


def _ids(app, course_id: int):
    from campus.extensions import db
    from campus.learning.models import Course

    with app.app_context():
        course = db.session.get(Course, course_id)
        return [m.id for m in course.modules], [lesson.id for lesson in course.lessons]


def test_the_course_page_shows_modules_lessons_and_quiz_with_edit_and_preview_links(app, client):
    with app.app_context():
        course = make_course("outline-course", lessons=3)
    modules, lessons = _ids(app, course.id)
    helpers.sign_in_admin(app, client)
    listing = client.get("/admin/courses/").get_data(as_text=True)
    assert f'href="/admin/course-outline/{course.id}/"' in listing
    html = client.get(f"/admin/course-outline/{course.id}/").get_data(as_text=True)
    assert html.index("1. One") < html.index("Lesson 1") < html.index("Lesson 2")
    assert html.index("Lesson 2") < html.index("2. Two") < html.index("Lesson 3")
    for lesson_id in lessons:
        assert f"/admin/lessons/edit/?id={lesson_id}" in html
        assert f"/courses/outline-course/lessons/{lesson_id}" in html  # the student's page
    assert f"/admin/modules/edit/?id={modules[0]}" in html
    assert f"/admin/quizzes/edit/?id={course.quiz_id}" in html
    assert "/courses/outline-course/quiz" in html
    assert "Preview as a student" in html
    # The student preview opens for the admin.
    assert client.get(f"/courses/outline-course/lessons/{lessons[0]}").status_code == 200


def test_moving_a_lesson_and_a_module_reorders_the_course_and_is_audited(app, client):
    from campus.admin.models import AuditEntry
    from campus.extensions import db

    with app.app_context():
        course = make_course("reorder-course", lessons=4)
    modules, lessons = _ids(app, course.id)
    helpers.sign_in_admin(app, client)
    url = f"/admin/course-outline/{course.id}/move"
    page = helpers.post(client, url, {"kind": "lesson", "item_id": lessons[1], "direction": "up"})
    assert page.status_code == 302 and page.location.endswith(f"#lesson-{lessons[1]}")
    assert _order(app, course.id) == [
        ("One", "Lesson 2"), ("One", "Lesson 1"), ("Two", "Lesson 3"), ("Two", "Lesson 4"),
    ]  # fmt: skip
    helpers.post(client, url, {"kind": "module", "item_id": modules[1], "direction": "up"})
    assert _order(app, course.id) == [
        ("Two", "Lesson 3"), ("Two", "Lesson 4"), ("One", "Lesson 2"), ("One", "Lesson 1"),
    ]  # fmt: skip
    with app.app_context():
        moves = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "move").order_by(AuditEntry.id)
        ).all()
        assert [(m.object_type, m.summary) for m in moves] == [
            ("Lesson", "Lesson 2: position"),
            ("Module", "Two: position"),
        ]
        assert moves[0].actor_id is not None


def test_moves_past_the_ends_or_into_another_course_change_nothing(app, client):
    with app.app_context():
        course = make_course("ends-course", lessons=2)
        other = make_course("other-course", lessons=2)
    _modules, lessons = _ids(app, course.id)
    _other_modules, other_lessons = _ids(app, other.id)
    before = _order(app, course.id)
    helpers.sign_in_admin(app, client)
    url = f"/admin/course-outline/{course.id}/move"
    top = helpers.post(
        client, url, {"kind": "lesson", "item_id": lessons[0], "direction": "up"},
        follow_redirects=True,
    )  # fmt: skip
    assert "is already at the top" in " ".join(helpers.flashes(top))
    foreign = helpers.post(
        client, url, {"kind": "lesson", "item_id": other_lessons[1], "direction": "up"},
        follow_redirects=True,
    )  # fmt: skip
    assert "not in this course" in " ".join(helpers.flashes(foreign))
    for bad in (
        {"kind": "quiz", "item_id": lessons[0], "direction": "up"},
        {"kind": "lesson", "item_id": "x", "direction": "up"},
        {"kind": "lesson", "item_id": 10**12, "direction": "sideways"},
        {},
    ):
        answer = helpers.post(client, url, bad, follow_redirects=True)
        assert answer.status_code == 200
        assert "Nothing was moved" in " ".join(helpers.flashes(answer))
    assert _order(app, course.id) == before
    assert _order(app, other.id)[0][1] == "Lesson 1"
    assert client.get("/admin/course-outline/999999/").status_code == 404

"""Two admins editing one catalog record at once: the later save never undoes the earlier."""

from __future__ import annotations

import re

from tests.admin import helpers
from tests.admin.test_catalog import _course_form
from tests.learning.helpers import make_course


def _opened_as(html: str) -> str:
    """The edit form's record of what the page showed."""
    tag = re.search(r'<input[^>]*name="opened_as"[^>]*>', html)
    assert tag, "the edit form carries no record of what it showed"
    return re.search(r'value="([^"]*)"', tag.group(0)).group(1)


def _lesson(app, lesson_id: int) -> tuple[str, str]:
    from campus.extensions import db
    from campus.learning.models import Lesson

    with app.app_context():
        lesson = db.session.get_one(Lesson, lesson_id)
        return lesson.title, lesson.body_markdown


def test_a_course_published_while_its_form_was_open_is_not_unpublished_by_its_save(app, client):
    from campus.extensions import db
    from campus.learning import actions
    from campus.learning.models import Course

    with app.app_context():
        course_id = make_course("open-form", published=False).id
    helpers.sign_in_admin(app, client)
    page = client.get(f"/admin/courses/edit/?id={course_id}").get_data(as_text=True)
    opened = _opened_as(page)
    with app.app_context():  # another admin publishes it meanwhile
        actions.publish(db.session.get_one(Course, course_id), actor=None)
        db.session.commit()
    form = _course_form(slug="open-form", summary="A fixed typo", opened_as=opened)
    response = helpers.post(client, f"/admin/courses/edit/?id={course_id}", form)
    assert response.status_code == 200
    assert any("since you opened it" in m for m in helpers.flashes(response))
    with app.app_context():
        course = db.session.get_one(Course, course_id)
        assert (course.status, course.summary) == ("published", "Summary of open-form")
    assert not helpers.audit_entries(app, object_type="Course", action="update")


def test_a_made_up_record_of_the_page_is_refused_like_an_old_one(app, client):
    with app.app_context():
        course_id = make_course("made-up", published=False).id
    helpers.sign_in_admin(app, client)
    form = _course_form(slug="made-up", summary="Changed", opened_as="é" * 64)
    response = helpers.post(client, f"/admin/courses/edit/?id={course_id}", form)
    assert response.status_code == 200
    assert any("since you opened it" in m for m in helpers.flashes(response))


def test_a_lesson_saved_by_another_admin_is_not_overwritten_by_an_older_form(app, client):
    from campus.extensions import db
    from campus.learning.models import Lesson

    with app.app_context():
        lesson_id = make_course("two-editors", published=False).lesson_ids[0]
        module_id = db.session.get_one(Lesson, lesson_id).module_id
    helpers.sign_in_admin(app, client)
    other = app.test_client()
    helpers.sign_in_admin(app, other)
    url = f"/admin/lessons/edit/?id={lesson_id}"
    mine = _opened_as(client.get(url).get_data(as_text=True))
    theirs = _opened_as(other.get(url).get_data(as_text=True))
    assert mine == theirs
    fields = {"module": str(module_id), "position": "1", "estimated_minutes": "60"}
    saved = helpers.post(
        other,
        url,
        {**fields, "title": "Lesson 1", "body_markdown": "Their body", "opened_as": theirs},
    )
    assert saved.status_code == 302, helpers.flashes(saved)
    late = {**fields, "title": "My title", "body_markdown": "Body of lesson 1", "opened_as": mine}
    response = helpers.post(client, url, late)
    assert response.status_code == 200
    assert any("since you opened it" in m for m in helpers.flashes(response))
    assert _lesson(app, lesson_id) == ("Lesson 1", "Their body")
    # Opened again, the page shows their change and saves the admin's own.
    again = _opened_as(client.get(url).get_data(as_text=True))
    response = helpers.post(
        client, url, {**late, "body_markdown": "Their body", "opened_as": again}
    )
    assert response.status_code == 302, helpers.flashes(response)
    assert _lesson(app, lesson_id) == ("My title", "Their body")
    assert len(helpers.audit_entries(app, object_type="Lesson", action="update")) == 2


def test_a_program_renamed_while_its_form_was_open_keeps_the_new_name(app, client):
    from sqlalchemy import select

    from campus.extensions import db
    from campus.programs.models import Program
    from tests.programs.test_admin import _program_form

    helpers.sign_in_admin(app, client)
    response = helpers.post(client, "/admin/programs/new/", _program_form(published=""))
    assert response.status_code == 302, helpers.flashes(response)
    with app.app_context():
        program_id = db.session.scalar(select(Program.id))
    edit = f"/admin/programs/edit/?id={program_id}"
    opened = _opened_as(client.get(edit).get_data(as_text=True))
    with app.app_context():  # another admin renames it meanwhile
        db.session.get_one(Program, program_id).title = "Certified Neck Therapist"
        db.session.commit()
    stale = _program_form(published="", description="Neck work, revised.", opened_as=opened)
    response = helpers.post(client, edit, stale)
    assert response.status_code == 200
    assert any("since you opened it" in m for m in helpers.flashes(response))
    with app.app_context():
        program = db.session.get_one(Program, program_id)
        assert (program.title, program.description) == ("Certified Neck Therapist", "Neck work.")


def _article_state(app, article_id: int) -> tuple[str, str, str, list[str]]:
    from campus.content.models import Article
    from campus.extensions import db

    with app.app_context():
        article = db.session.get_one(Article, article_id)
        return article.status, article.body_md, article.title, sorted(t.name for t in article.tags)


def test_an_article_saved_by_another_admin_is_not_overwritten_by_an_older_page(app, client):
    from tests.admin.test_library import _article, _article_form

    helpers.sign_in_admin(app, client)
    other = app.test_client()
    helpers.sign_in_admin(app, other)
    response = helpers.post(client, "/admin/articles/new/", _article_form())
    assert response.status_code == 302, helpers.flashes(response)
    article_id = _article(app, "levator-scapulae")["id"]
    url = f"/admin/articles/edit/?id={article_id}"
    mine = _opened_as(client.get(url).get_data(as_text=True))
    theirs = _opened_as(other.get(url).get_data(as_text=True))
    saved = helpers.post(
        other,
        url,
        _article_form(status="published", body_md="Their rewrite.", opened_as=theirs),
    )
    assert saved.status_code == 302, helpers.flashes(saved)
    late = _article_form(title="Levator scapulae, my typo fixed", opened_as=mine)
    response = helpers.post(client, url, late)
    assert response.status_code == 200
    assert any("since you opened it" in m for m in helpers.flashes(response))
    assert _article_state(app, article_id) == (
        "published",
        "Their rewrite.",
        "Levator scapulae",
        ["Levator scapulae", "Neck"],
    )
    assert len(helpers.audit_entries(app, object_type="Article", action="update")) == 1
    # Opened again, the page shows their change and saves the admin's own.
    again = _opened_as(client.get(url).get_data(as_text=True))
    fresh = _article_form(
        status="published", body_md="Their rewrite.", title="Fixed", opened_as=again
    )
    response = helpers.post(client, url, fresh)
    assert response.status_code == 302, helpers.flashes(response)
    assert _article_state(app, article_id)[1:3] == ("Their rewrite.", "Fixed")


def test_an_article_retagged_by_another_admin_keeps_its_new_tags(app, client):
    from tests.admin.test_library import _article, _article_form

    helpers.sign_in_admin(app, client)
    response = helpers.post(client, "/admin/articles/new/", _article_form())
    assert response.status_code == 302, helpers.flashes(response)
    article_id = _article(app, "levator-scapulae")["id"]
    url = f"/admin/articles/edit/?id={article_id}"
    opened = _opened_as(client.get(url).get_data(as_text=True))
    # Another admin only retags it meanwhile.
    saved = helpers.post(client, url, _article_form(tags="Trapezius", opened_as=opened))
    assert saved.status_code == 302, helpers.flashes(saved)
    response = helpers.post(client, url, _article_form(summary="Sharper.", opened_as=opened))
    assert response.status_code == 200
    assert any("since you opened it" in m for m in helpers.flashes(response))
    assert _article_state(app, article_id)[3] == ["Trapezius"]


def test_two_admins_saving_one_lesson_at_the_same_moment_keep_one_change(app, monkeypatch):
    from campus.admin import base as admin_base
    from campus.extensions import db
    from campus.learning.models import Lesson
    from tests import support

    with app.app_context():
        lesson_id = make_course("same-moment", published=False).lesson_ids[0]
        module_id = db.session.get_one(Lesson, lesson_id).module_id
    clients = [app.test_client() for _ in range(2)]
    for client in clients:
        helpers.sign_in_admin(app, client)
    url = f"/admin/lessons/edit/?id={lesson_id}"
    opened = [_opened_as(client.get(url).get_data(as_text=True)) for client in clients]
    tokens = [support.csrf_token(client) for client in clients]
    fields = {"module": str(module_id), "position": "1", "estimated_minutes": "60"}
    # Each save is held just before it is logged: one that compared the page with the lesson
    # before the other was saved would otherwise go on and overwrite it.
    support.hold_in_pairs(monkeypatch, admin_base, "record")
    responses: list = []
    support.run_together(
        [
            lambda client=client, token=token, page=page, n=n: responses.append(
                client.post(
                    url,
                    data={
                        **fields,
                        "title": f"Title by admin {n}",
                        "body_markdown": f"Body by admin {n}",
                        "opened_as": page,
                        "csrf_token": token,
                    },
                )
            )
            for n, (client, token, page) in enumerate(zip(clients, tokens, opened, strict=True))
        ]
    )
    assert sorted(r.status_code for r in responses) == [200, 302]
    [refused] = [r for r in responses if r.status_code == 200]
    assert any("since you opened it" in m for m in helpers.flashes(refused))
    title, body = _lesson(app, lesson_id)
    assert body == title.replace("Title", "Body")
    assert len(helpers.audit_entries(app, object_type="Lesson", action="update")) == 1

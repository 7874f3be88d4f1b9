"""A Markdown text or summary typed in the admin that shows nothing is stored as empty."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.admin import helpers
from tests.learning.helpers import make_course

# Spaces and line breaks, zero-width spaces and joiners, a word joiner, a byte-order mark.
INVISIBLE = " \u200b\n\u200c\u200d\u2060\ufeff \n"


def _first_module_id(app, slug: str) -> int:
    from campus.extensions import db
    from campus.learning.models import Module

    with app.app_context():
        course = make_course(slug, published=False)
        return db.session.scalars(
            select(Module.id).where(Module.course_id == course.id).order_by(Module.position)
        ).first()


@pytest.mark.parametrize("body", [INVISIBLE, "\u200b", "   \n\t"])
def test_a_lesson_body_of_invisible_characters_is_stored_empty(app, client, body):
    # A video lesson may have no text, but a body of characters nobody sees is no text either:
    # stored as typed, it opened to a blank page that still counted as written.
    from campus.extensions import db
    from campus.learning.models import Lesson

    module_id = _first_module_id(app, "blank-body")
    helpers.sign_in_admin(app, client)
    form = {
        "module": module_id,
        "title": "Watch the demonstration",
        "body_markdown": body,
        "video_url": "https://youtu.be/dQw4w9WgXcQ",
        "transcript": f"What the video shows.{INVISIBLE}",
        "estimated_minutes": "10",
    }
    response = helpers.post(client, "/admin/lessons/new/", form)
    assert response.status_code == 302, helpers.flashes(response)
    with app.app_context():
        lesson = db.session.scalar(select(Lesson).where(Lesson.title == form["title"]))
        assert lesson.body_markdown == ""
        assert lesson.body_html == ""
        assert lesson.transcript.startswith("What the video shows.")  # visible text stays


def test_a_module_summary_of_invisible_characters_is_stored_empty(app, client):
    from campus.extensions import db
    from campus.learning.models import Module

    with app.app_context():
        course_id = make_course("blank-summary", published=False).id
    helpers.sign_in_admin(app, client)
    form = {"course": course_id, "position": "", "title": "Palpation", "summary": INVISIBLE}
    response = helpers.post(client, "/admin/modules/new/", form)
    assert response.status_code == 302, helpers.flashes(response)
    with app.app_context():
        module = db.session.scalar(select(Module).where(Module.title == "Palpation"))
        assert module.summary == ""


def test_an_article_body_of_invisible_characters_is_refused_as_empty(app, client):
    from tests.admin.test_library import _article, _article_form

    helpers.sign_in_admin(app, client)
    form = _article_form(body_md=INVISIBLE, summary="\u200b")
    response = helpers.post(client, "/admin/articles/new/", form)
    assert response.status_code == 200
    assert "The article body is empty." in response.get_data(as_text=True)
    assert _article(app, form["slug"]) is None

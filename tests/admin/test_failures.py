"""Admin changes that fail: a sentence on the page, never the database's SQL, nothing half done."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError

from tests import support
from tests.admin import helpers
from tests.learning.helpers import enroll_directly, make_course

LOGGED = "Nothing was saved: the change failed. The error is in the server's log."
LINKED = (
    "Nothing was changed: a record linked to this one was added or deleted just now. "
    "Open the page again to see it."
)


def _locked(*args, **kwargs):
    raise OperationalError(
        "DELETE FROM courses WHERE courses.id = ?", (1,), Exception("database is locked")
    )


def _still_referenced(*args, **kwargs):
    # As PostgreSQL refuses a course a student enrolled in after the check for enrollments.
    raise IntegrityError(
        "DELETE FROM courses WHERE courses.id = %(id)s",
        {"id": 1},
        Exception('update or delete on table "courses" violates foreign key constraint'),
    )


def _courses(app) -> int:
    from campus.extensions import db
    from campus.learning.models import Course

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Course))


def _shown(response) -> str:
    return " ".join(helpers.flashes(response))


@pytest.mark.parametrize("failure", [_locked, _still_referenced])
@pytest.mark.parametrize("how", ["one", "bulk"])
def test_a_course_delete_that_fails_says_so_in_a_sentence(app, client, monkeypatch, how, failure):
    from campus.admin.catalog import CourseView

    with app.app_context():
        course = make_course("to-delete", published=False)
    helpers.sign_in_admin(app, client)
    monkeypatch.setattr(CourseView, "delete_action", failure)
    if how == "one":
        path, form = "/admin/courses/delete/", {"id": course.id}
    else:
        path, form = "/admin/courses/action/", {"action": "delete", "rowid": [str(course.id)]}
    response = helpers.post(client, path, form, follow_redirects=True)
    assert response.status_code == 200
    assert helpers.flashes(response) == [LOGGED if failure is _locked else LINKED]
    assert "DELETE" not in response.text and "database is locked" not in response.text
    assert _courses(app) == 1


def test_a_bulk_delete_refused_for_every_row_does_not_also_say_none_were_deleted(app, client):
    with app.app_context():
        course = make_course("has-students")
        enroll_directly(support.create_user().id, course.id)
    helpers.sign_in_admin(app, client)
    response = helpers.post(
        client,
        "/admin/courses/action/",
        {"action": "delete", "rowid": [str(course.id)]},
        follow_redirects=True,
    )
    (message,) = helpers.flashes(response)
    assert "cannot be deleted" in message
    assert _courses(app) == 1


def test_a_bulk_delete_that_cannot_read_the_rows_says_so_in_a_sentence(app, client, monkeypatch):
    from flask_admin.contrib.sqla import tools

    with app.app_context():
        course = make_course("to-delete", published=False)
    helpers.sign_in_admin(app, client)
    monkeypatch.setattr(tools, "get_query_for_ids", _locked)
    response = helpers.post(
        client,
        "/admin/courses/action/",
        {"action": "delete", "rowid": [str(course.id)]},
        follow_redirects=True,
    )
    assert helpers.flashes(response) == [LOGGED]
    assert "DELETE" not in response.text and "database is locked" not in response.text
    assert _courses(app) == 1


def _article_form() -> dict:
    return {
        "title": "Levator scapulae",
        "slug": "levator-scapulae",
        "summary": "",
        "body_md": "The neck's stiff corner.",
        "visibility": "public",
        "status": "draft",
        "category": "",
        "tags": "",
        "author_name": "",
    }


def test_an_article_slug_saved_by_another_admin_meanwhile_gets_a_sentence(app, client, monkeypatch):
    from campus.content import actions
    from campus.content.models import Article
    from campus.extensions import db

    def taken(**kwargs):
        raise IntegrityError(
            "INSERT INTO articles (slug) VALUES (?)",
            ("levator-scapulae",),
            Exception("UNIQUE constraint failed: articles.slug"),
        )

    helpers.sign_in_admin(app, client)
    monkeypatch.setattr(actions, "save_article", taken)
    response = helpers.post(client, "/admin/articles/new/", _article_form())
    assert response.status_code == 200
    assert helpers.flashes(response) == [
        "Nothing was saved: another record was saved with the same values just now. "
        "Open the page again to see it."
    ]
    assert "INSERT" not in response.text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Article)) == 0


@pytest.mark.parametrize("how", ["one", "bulk"])
def test_an_article_delete_that_fails_says_so_in_a_sentence(app, client, monkeypatch, how):
    from campus.content import actions
    from campus.content.models import Article
    from campus.extensions import db

    helpers.sign_in_admin(app, client)
    assert helpers.post(client, "/admin/articles/new/", _article_form()).status_code == 302
    with app.app_context():
        article_id = db.session.scalar(select(Article.id))
    monkeypatch.setattr(actions, "delete_article", _locked)
    if how == "one":
        path, form = "/admin/articles/delete/", {"id": article_id}
    else:
        path, form = "/admin/articles/action/", {"action": "delete", "rowid": [str(article_id)]}
    response = helpers.post(client, path, form, follow_redirects=True)
    assert response.status_code == 200
    assert helpers.flashes(response) == [LOGGED]
    assert "database is locked" not in _shown(response)
    with app.app_context():
        assert db.session.get(Article, article_id) is not None


@pytest.mark.parametrize(("clash", "duplicate"), [("slug", True), ("missing_download", False)])
def test_only_a_taken_unique_value_is_read_as_a_duplicate(app, clash, duplicate):
    from campus.content.models import Category, Lead
    from campus.extensions import db
    from campus.models.writes import is_duplicate

    with app.app_context():
        db.session.add(Category(slug="neck", name="Neck"))
        db.session.commit()
        if clash == "slug":
            db.session.add(Category(slug="neck", name="Neck again"))
        else:  # a row referring to one that is not there (deleted meanwhile)
            db.session.add(Lead(download_id=999_999, email="a@example.com", name="A"))
        with pytest.raises(IntegrityError) as refused:
            db.session.flush()
        db.session.rollback()
    assert is_duplicate(refused.value) is duplicate

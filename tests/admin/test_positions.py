"""Positions typed into the catalog's forms: a clear limit, and a free place at the end."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.admin import helpers
from tests.learning.helpers import make_course


def _parts(app, course_id: int) -> dict:
    from campus.extensions import db
    from campus.learning.models import Lesson, Module

    with app.app_context():
        modules = db.session.scalars(select(Module).where(Module.course_id == course_id)).all()
        return {
            "modules": sorted((m.id, m.position) for m in modules),
            "lessons": db.session.scalar(
                select(func.count()).select_from(Lesson).where(Lesson.course_id == course_id)
            ),
            "module_id": modules[0].id,
        }


@pytest.mark.parametrize("kind", ["modules", "lessons"])
def test_a_position_past_the_limit_is_refused_and_changes_nothing(app, client, kind):
    with app.app_context():
        course_id = make_course("far-away", published=False).id
    before = _parts(app, course_id)
    helpers.sign_in_admin(app, client)
    form = {"position": "2147483647", "title": "Far away"}
    if kind == "modules":
        form["course"] = str(course_id)
    else:
        form.update(module=str(before["module_id"]), body_markdown="Text", estimated_minutes="5")
    response = helpers.post(client, f"/admin/{kind}/new/", form)
    assert response.status_code == 200
    assert any("Positions go from 1 to 10,000" in m for m in helpers.flashes(response)), (
        helpers.flashes(response)
    )
    assert _parts(app, course_id) == before
    assert not helpers.audit_entries(app, action="create")


def test_a_module_added_at_the_end_after_the_last_position_says_why_it_cannot(app, client):
    from campus.extensions import db
    from campus.learning.models import Lesson, Module

    with app.app_context():
        course_id = make_course("full-end", published=False).id
        last = db.session.scalars(
            select(Module).where(Module.course_id == course_id).order_by(Module.position.desc())
        ).first()
        last.position = 10_000
        db.session.execute(
            Lesson.__table__.update()
            .where(Lesson.module_id == last.id)
            .values(module_position=10_000)
        )
        db.session.commit()
    before = _parts(app, course_id)
    helpers.sign_in_admin(app, client)
    form = {"course": str(course_id), "position": "", "title": "One more"}
    response = helpers.post(client, "/admin/modules/new/", form)
    assert response.status_code == 200
    assert any("Positions go from 1 to 10,000" in m for m in helpers.flashes(response)), (
        helpers.flashes(response)
    )
    assert _parts(app, course_id) == before

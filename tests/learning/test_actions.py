"""The catalog's rules and audit entries live in learning itself, not in the admin."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from campus.audit import AuditEntry, snapshot
from campus.extensions import db
from campus.learning import actions, services
from campus.learning.access import LearningError
from campus.learning.models import Course, Lesson, Module
from tests import support
from tests.learning.helpers import make_course


def _entries() -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def test_publishing_a_course_students_could_not_complete_is_refused_everywhere(app):
    with app.app_context():
        course = services.create_course(
            slug="empty", title="Empty", summary="s", ce_hours=Decimal(1), topic="T"
        )
        with pytest.raises(LearningError) as caught:
            services.publish(course)
        assert "needs at least one lesson and a final quiz" in caught.value.message
        with pytest.raises(LearningError):
            actions.publish(course, actor=None)
        assert course.status == "draft" and _entries() == []


def test_publish_and_unpublish_by_a_command_are_audited_as_operator_actions(app):
    with app.app_context():
        ids = make_course("ready", published=False)
        course = db.session.get(Course, ids.id)
        assert actions.publish(course, actor=None) is True
        assert actions.publish(course, actor=None) is False  # already published: no entry
        assert actions.unpublish(course, actor=None) is True
        db.session.commit()
        published, unpublished = _entries()
        assert (published.action, unpublished.action) == ("publish", "unpublish")
        assert published.summary == "cli: Course ready: published_at, status"
        assert published.actor_id is None and published.after["status"] == "published"
        assert course.published_at is not None  # kept: the first publication date


def test_moving_a_module_carries_its_lessons_and_is_audited_with_the_admin(app):
    with app.app_context():
        admin = support.create_user(role="admin")
        ids = make_course("moving", published=False, lessons=4)
        module = db.session.scalars(
            select(Module).where(Module.course_id == ids.id, Module.position == 2)
        ).one()
        before = snapshot(module)
        module.position = 7
        actions.save_module(module, before=before, actor=admin)
        db.session.commit()
        positions = db.session.scalars(
            select(Lesson.module_position).where(Lesson.module_id == module.id)
        ).all()
        assert positions and set(positions) == {7}
        [entry] = _entries()
        assert (entry.action, entry.actor_id) == ("update", admin.id)
        assert entry.before["position"] == 2 and entry.after["position"] == 7


def test_a_taken_position_is_refused_and_changes_nothing(app):
    with app.app_context():
        ids = make_course("taken", published=False, lessons=4)
        module = db.session.scalars(
            select(Module).where(Module.course_id == ids.id, Module.position == 2)
        ).one()
        before = snapshot(module)
        module.position = 1
        with pytest.raises(LearningError) as caught:
            actions.save_module(module, before=before, actor=None)
        assert "Position 1 is already taken by module “One”" in caught.value.message
        db.session.rollback()
        assert db.session.get(Module, module.id).position == 2
        assert _entries() == []

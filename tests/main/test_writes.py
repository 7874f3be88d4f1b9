"""insert_if_absent: one insert-or-nothing for every feature, in the database itself."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from campus.certificates.models import Certificate
from campus.extensions import db
from campus.learning.models import Enrollment
from campus.models.base import utcnow
from campus.models.writes import insert_if_absent
from tests import support
from tests.learning.helpers import make_course


def _enrollment(user_id: int, course_id: int) -> dict:
    now = utcnow()
    return {
        "user_id": user_id,
        "course_id": course_id,
        "enrolled_at": now,
        "status": "active",
        "created_at": now,
        "updated_at": now,
    }


def test_second_insert_of_the_same_keys_is_a_no_op(app):
    with app.app_context():
        user, course = support.create_user(), make_course()
        first = insert_if_absent(
            Enrollment, _enrollment(user.id, course.id), ["user_id", "course_id"]
        )
        again = insert_if_absent(
            Enrollment, _enrollment(user.id, course.id), ["user_id", "course_id"]
        )
        assert first is not None and again is None
        count = db.session.scalar(select(func.count()).select_from(Enrollment))
        assert count == 1


def _certificate(user_id: int, course_id: int, code: str) -> dict:
    return {
        "code": code,
        "user_id": user_id,
        "course_id": course_id,
        "status": "pending",
        "data": {},
        "ce_hours": Decimal("2"),
        "completed_at": utcnow(),
        "attempts": 0,
    }


def test_a_clash_on_another_unique_constraint_still_raises(app):
    # Certificates rely on it: a code drawn twice must fail (and be drawn again), not vanish.
    with app.app_context():
        first, second = support.create_user(), support.create_user()
        course = make_course()
        keys = ["user_id", "course_id"]
        assert insert_if_absent(Certificate, _certificate(first.id, course.id, "CE-A"), keys)
        assert (
            insert_if_absent(Certificate, _certificate(first.id, course.id, "CE-B"), keys) is None
        )
        with pytest.raises(IntegrityError):
            insert_if_absent(Certificate, _certificate(second.id, course.id, "CE-A"), keys)

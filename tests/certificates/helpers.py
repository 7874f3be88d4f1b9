"""Factories for the certificate tests: a student who completes a course through the services."""

from __future__ import annotations

from types import SimpleNamespace

from tests import support
from tests.learning.helpers import (
    complete_all_lessons,
    enroll_directly,
    evaluate,
    make_course,
    right_answers,
)


def student(**fields):
    """Create a paying student with a license (inside an app context)."""
    fields.setdefault("license_number", "MT-004512")
    fields.setdefault("license_state", "Maine")
    user = support.create_user(**fields)
    support.make_member(user.id, "active")
    return user


def complete_course(user_id: int, course) -> int:
    """Enroll, finish every lesson, pass the quiz and evaluate (in an app context); return it."""
    enrollment_id = complete_without_evaluating(user_id, course)
    evaluate(user_id, course)  # the certificate task runs after the evaluation's commit
    return enrollment_id


def edit_course(course_id: int, **fields) -> None:
    """Change a course's columns directly (in an app context), as an admin's edit would."""
    from campus.extensions import db
    from campus.learning.models import Course

    course = db.session.get(Course, course_id)
    for name, value in fields.items():
        setattr(course, name, value)
    db.session.commit()


def complete_without_evaluating(user_id: int, course) -> int:
    """Enroll, finish every lesson and pass the quiz (in an app context); no evaluation yet."""
    from campus.accounts.models import User
    from campus.extensions import db
    from campus.learning import quiz as quizzes
    from campus.learning.models import Course

    enrollment_id = enroll_directly(user_id, course.id)
    complete_all_lessons(user_id, course)
    result = quizzes.submit_attempt(
        db.session.get(User, user_id), db.session.get(Course, course.id), right_answers(course)
    )
    assert result.course_completed
    db.session.commit()
    return enrollment_id


def completed_student(app, slug: str = "hip-basics", **fields) -> SimpleNamespace:
    """A student who has completed a new course; returns ids, email and the course."""
    with app.app_context():
        course = make_course(slug, title=fields.pop("title", None))
        user = student(**fields)
        enrollment_id = complete_course(user.id, course)
        return SimpleNamespace(
            user_id=user.id, email=user.email, course=course, enrollment_id=enrollment_id
        )


def certificate_of(user_id: int):
    """The user's first certificate (inside an app context), or None."""
    from sqlalchemy import select

    from campus.certificates.models import Certificate
    from campus.extensions import db

    # By id: with several, PostgreSQL returns rows in no set order (an update moves a row).
    return db.session.scalars(
        select(Certificate).where(Certificate.user_id == user_id).order_by(Certificate.id)
    ).first()


def code_of(app, user_id: int) -> str:
    with app.app_context():
        return certificate_of(user_id).code

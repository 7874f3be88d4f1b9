"""CE course pages: the catalog and a member's lesson page (target: 0.35 of the bare page)."""

from __future__ import annotations

from bench.harness import Scenario, make_user


def _seed_courses() -> None:
    from campus.extensions import db
    from campus.learning import demo

    demo.seed()
    db.session.commit()


def _catalog() -> dict:
    _seed_courses()
    return {"path": "/courses/"}


def _member_lesson() -> dict:
    """A paying member enrolled in the hip course, two lessons done, reading the third."""
    from sqlalchemy import select

    from campus.accounts.services import get_user_by_email
    from campus.extensions import db
    from campus.learning import demo, progress
    from campus.learning.models import Course, Enrollment

    _seed_courses()
    email = make_user("bench-learner@campus.example", paid=True)
    user = get_user_by_email(email)
    course = db.session.scalar(select(Course).where(Course.slug == demo.HIP_SLUG))
    enrollment = db.session.scalar(
        select(Enrollment).where(Enrollment.user_id == user.id, Enrollment.course_id == course.id)
    ) or progress.enroll(user, course)
    plan = progress.outline(course, enrollment)
    for lesson in plan.lessons[:2]:
        progress.complete_lesson(user, lesson.id, course)
    third = plan.lessons[2]
    progress.note_lesson_opened(enrollment, third)
    db.session.commit()
    return {"path": f"/courses/{course.slug}/lessons/{third.id}", "login": email}


SCENARIOS = [
    Scenario(name="course catalog (anonymous)", prepare=_catalog, target=0.35),
    Scenario(name="lesson page (member, in progress)", prepare=_member_lesson, target=0.35),
]

"""Two tabs completing the same lesson at once record one completion (PostgreSQL only)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from tests import support
from tests.learning.helpers import enroll_directly, make_course

pytestmark = pytest.mark.skipif(
    not support.is_postgres(),
    reason="needs PostgreSQL: SQLite serializes every writer, so it cannot show the race",
)


def _race(app, n: int, action) -> list:
    """Run `action()` in n threads, each in its own app context and session, released together."""
    from campus.extensions import db

    barrier = threading.Barrier(n)
    results: list = []
    errors: list = []

    def run() -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                results.append(action())
                db.session.commit()
            except Exception as exc:  # collected and asserted on below
                db.session.rollback()
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results, errors


def test_concurrent_duplicate_completions_record_one_row(app):
    from campus.accounts.models import User
    from campus.extensions import db
    from campus.learning import progress
    from campus.learning.models import LessonProgress

    with app.app_context():
        course = make_course("race", lessons=2)
        user = support.create_user()
        support.make_member(user.id, "active")
        enroll_directly(user.id, course.id)
        user_id = user.id

    def complete():
        user = db.session.get(User, user_id)
        return progress.complete_lesson(user, course.lesson_ids[0]).newly_completed

    results, errors = _race(app, 8, complete)
    assert errors == []
    assert sorted(results) == [False] * 7 + [True]
    with app.app_context():
        assert db.session.scalar(select(func.count(LessonProgress.id))) == 1


def test_concurrent_enrollments_create_one(app):
    from campus.accounts.models import User
    from campus.extensions import db
    from campus.learning import progress
    from campus.learning.access import LearningError
    from campus.learning.models import Course, Enrollment

    with app.app_context():
        course = make_course("race-enroll")
        user = support.create_user()
        support.make_member(user.id, "active")
        user_id = user.id

    def enroll():
        user = db.session.get(User, user_id)
        return progress.enroll(user, db.session.get(Course, course.id)).id

    results, errors = _race(app, 6, enroll)
    assert len(results) == 1
    assert len(errors) == 5 and all(
        isinstance(e, LearningError) and e.status == 409 for e in errors
    )
    with app.app_context():
        assert db.session.scalar(select(func.count(Enrollment.id))) == 1


def test_concurrent_quiz_submissions_respect_the_daily_limit(app):
    from campus.accounts.models import User
    from campus.extensions import db
    from campus.learning import quiz as quizzes
    from campus.learning.access import LearningError
    from campus.learning.models import Course, QuizAttempt
    from tests.learning.helpers import complete_all_lessons

    with app.app_context():
        course = make_course("race-quiz", attempts_per_day=2)
        user = support.create_user()
        support.make_member(user.id, "active")
        enroll_directly(user.id, course.id)
        complete_all_lessons(user.id, course)
        user_id = user.id
    wrong = {q.id: [q.wrong[0]] for q in course.questions}

    def submit():
        user = db.session.get(User, user_id)
        return quizzes.submit_attempt(user, db.session.get(Course, course.id), wrong).attempt.id

    results, errors = _race(app, 6, submit)
    assert len(results) == 2
    assert all(isinstance(e, LearningError) and e.status == 429 for e in errors)
    with app.app_context():
        assert db.session.scalar(select(func.count(QuizAttempt.id))) == 2


def test_two_tabs_sending_the_evaluation_at_once_keep_one_and_issue_one_certificate(app):
    from campus.accounts.models import User
    from campus.certificates.models import Certificate
    from campus.extensions import db
    from campus.learning import evaluation
    from campus.learning import quiz as quizzes
    from campus.learning.access import LearningError
    from campus.learning.models import Course
    from campus.learning.records import CourseEvaluation
    from tests.learning.helpers import complete_all_lessons, right_answers

    with app.app_context():
        course = make_course("race-evaluation")
        user = support.create_user()
        support.make_member(user.id, "active")
        enroll_directly(user.id, course.id)
        complete_all_lessons(user.id, course)
        quizzes.submit_attempt(user, db.session.get(Course, course.id), right_answers(course))
        db.session.commit()
        user_id = user.id
    answers = evaluation.Answers(
        ratings=dict.fromkeys(evaluation.RATINGS, 4),
        minutes_taken=120,
        comments="",
        attested=True,
    )

    def submit():
        user = db.session.get(User, user_id)
        return evaluation.submit(user, db.session.get(Course, course.id), answers).id

    results, errors = _race(app, 4, submit)
    assert len(results) == 1
    assert [e.code for e in errors if isinstance(e, LearningError)] == ["already_evaluated"] * 3
    with app.app_context():
        assert db.session.scalar(select(func.count(CourseEvaluation.id))) == 1
        assert db.session.scalar(select(func.count(Certificate.id))) == 1

"""A quiz form sent twice at once is scored once, on the embedded SQLite database too."""

from __future__ import annotations

import contextlib
import threading

from sqlalchemy import func, select

from tests import support
from tests.learning.helpers import complete_all_lessons, enroll_directly, make_course


def test_a_double_click_on_submit_scores_the_shown_attempt_once(app, monkeypatch):
    from campus.accounts.models import User
    from campus.extensions import db
    from campus.learning import quiz as quizzes
    from campus.learning.models import Course, QuizAttempt

    with app.app_context():
        course = make_course("double-click", attempts_per_day=3)
        user = support.create_user()
        support.make_member(user.id, "active")
        enroll_directly(user.id, course.id)
        complete_all_lessons(user.id, course)
        user_id = user.id
        paper = quizzes.begin_attempt(user, db.session.get(Course, course.id))
        db.session.commit()
        paper_id = paper.id
    wrong = {q.id: [q.wrong[0]] for q in course.questions}

    # Both posts have read the attempt as open before either records its score: the moment a
    # double click or two tabs can meet. A lock that holds the second back breaks the meeting.
    meeting = threading.Barrier(2, timeout=2)
    scored = quizzes.score

    def score_after_meeting(*args, **kwargs):
        with contextlib.suppress(threading.BrokenBarrierError):
            meeting.wait()
        return scored(*args, **kwargs)

    monkeypatch.setattr(quizzes, "score", score_after_meeting)
    results: list = []
    errors: list = []

    def submit() -> None:
        with app.app_context():
            try:
                user = db.session.get(User, user_id)
                course_row = db.session.get(Course, course.id)
                result = quizzes.submit_attempt(user, course_row, wrong, paper_id=paper_id)
                db.session.commit()
                results.append((result.attempt.id, result.replayed))
            except Exception as exc:  # asserted on below
                db.session.rollback()
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # The second post waited for the first and got its result back: one attempt, one answer.
    assert errors == []
    assert sorted(replayed for _attempt, replayed in results) == [False, True]
    assert len({attempt for attempt, _replayed in results}) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count(QuizAttempt.id))) == 1

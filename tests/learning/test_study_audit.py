"""A learner's study steps are in the audit log: who studied what, when, and how it went."""

from __future__ import annotations

from sqlalchemy import select

from campus.extensions import db
from tests.certificates.helpers import student
from tests.learning.helpers import evaluate, make_course, record_seat_time, right_answers


def _entries(enrollment_id: int):
    from campus.audit import AuditEntry

    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(
                AuditEntry.object_type == "Enrollment",
                AuditEntry.object_id == str(enrollment_id),
            )
            .order_by(AuditEntry.id)
        )
    )


def test_each_study_step_behind_ce_hours_is_logged_as_the_learners(app):
    # An auditor asks who studied what and how it went: enrolling, each lesson finished (with
    # the seat time credited then), each quiz attempt's score, the completion with the hours
    # it earned and the evaluation are each an entry by the learner, in order.
    from campus.accounts.models import User
    from campus.learning import progress
    from campus.learning import quiz as quizzes
    from campus.learning.models import Course

    with app.app_context():
        info = make_course("audited-study", lessons=2, ce_hours="1.5")
        user_id = student().id
        user, course = db.session.get(User, user_id), db.session.get(Course, info.id)
        enrollment_id = progress.enroll(user, course).id
        db.session.commit()
        record_seat_time(enrollment_id, info.lesson_ids[0], 1500)
        for lesson_id in info.lesson_ids:
            progress.complete_lesson(user, lesson_id)
            db.session.commit()
        progress.complete_lesson(user, info.lesson_ids[0])  # again: nothing new happened
        db.session.commit()
        wrong = {q.id: q.wrong[:1] for q in info.questions}
        assert not quizzes.submit_attempt(user, course, wrong).attempt.passed
        db.session.commit()
        assert quizzes.submit_attempt(user, course, right_answers(info)).course_completed
        db.session.commit()
        evaluate(user_id, info)

        entries = _entries(enrollment_id)
        assert [e.action for e in entries] == [
            "enroll",
            "lesson_complete",
            "lesson_complete",
            "quiz_attempt",
            "quiz_attempt",
            "course_complete",
            "evaluate",
        ]
        assert {e.actor_id for e in entries} == {user_id}
        first_lesson = entries[1].after
        assert first_lesson["lesson_id"] == info.lesson_ids[0]
        assert first_lesson["seat_time_seconds"] == 1500
        assert [e.after["score_percent"] for e in entries[3:5]] == [0, 100]
        assert [e.after["passed"] for e in entries[3:5]] == [False, True]
        assert entries[5].after["ce_hours_earned"] == "1.50"
        assert entries[5].before == {"completed_at": None, "ce_hours_earned": None}
        assert entries[6].after["attested"] is True

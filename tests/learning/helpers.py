"""Factories for the learning tests: a small course with two modules, lessons and a quiz."""

from __future__ import annotations

import math
from decimal import Decimal
from types import SimpleNamespace

from tests import support

QUESTIONS = [
    {
        "prompt": "Single: pick A",
        "choices": [("A", True), ("B", False), ("C", False)],
        "explanation": "A is right because it is A.",
    },
    {
        "prompt": "Multiple: pick A and C",
        "choices": [("A", True), ("B", False), ("C", True)],
        "explanation": "A and C, both of them.",
    },
    {
        "prompt": "Single: pick B",
        "choices": [("A", False), ("B", True)],
        "explanation": "B it is.",
    },
    {
        "prompt": "Multiple: pick B only (but answer several)",
        "choices": [("A", False), ("B", True), ("C", False)],
        "multiple": True,
        "explanation": "Only B.",
    },
]


def make_course(
    slug: str = "hip-basics",
    *,
    published: bool = True,
    lessons: int = 3,
    ce_hours: str = "2",
    pass_mark: int = 75,
    attempts_per_day: int = 3,
    topic: str = "Hip and thigh",
    professions=("massage_therapist",),
    title: str | None = None,
    questions: list[dict] | None = None,
    questions_per_attempt: int | None = None,
):
    """Create a course (inside an app context) and return ids for tests."""
    from campus.extensions import db
    from campus.learning import services
    from campus.learning.models import BoardApproval

    course = services.create_course(
        slug=slug,
        title=title or f"Course {slug}",
        summary=f"Summary of {slug}",
        description="An **overview** <script>alert(1)</script>",
        objectives="Find points\nTreat points",
        presenters="Ann Presenter, LMT",
        ce_hours=Decimal(ce_hours),
        topic=topic,
        professions=professions,
    )
    course.approvals.append(BoardApproval(board="NCBTMB", approval_number="1234-56"))
    first = services.add_module(course, "One")
    second = services.add_module(course, "Two")
    lesson_ids = []
    for n in range(lessons):
        module = first if n < (lessons + 1) // 2 else second
        # Enough expected study time that the content supports the course's CE hours.
        minutes = math.ceil(Decimal(ce_hours) * 60 / max(lessons, 1))
        lesson = services.add_lesson(
            module, f"Lesson {n + 1}", f"Body of lesson {n + 1}", estimated_minutes=minutes
        )
        lesson_ids.append(lesson.id)
    quiz = services.set_quiz(
        course,
        questions or QUESTIONS,
        pass_mark_percent=pass_mark,
        attempts_per_day=attempts_per_day,
        questions_per_attempt=questions_per_attempt,
    )
    if published:
        services.publish(course)
    db.session.commit()
    questions = [
        SimpleNamespace(
            id=q.id,
            kind=q.kind,
            choices=[c.id for c in q.choices],
            correct=[c.id for c in q.choices if c.is_correct],
            wrong=[c.id for c in q.choices if not c.is_correct],
        )
        for q in quiz.questions
    ]
    return SimpleNamespace(
        id=course.id, slug=slug, lesson_ids=lesson_ids, quiz_id=quiz.id, questions=questions
    )


def right_answers(course) -> dict[int, list[int]]:
    return {q.id: list(q.correct) for q in course.questions}


def bank(size: int, objectives: int = 3) -> list[dict]:
    """A question bank: four answers each, the right one placed differently, in objectives."""
    return [
        {
            "prompt": f"Bank question {n}",
            "choices": [(f"Answer {n}.{k}", k == n % 4) for k in range(4)],
            "objective": f"Objective {n % objectives + 1}",
        }
        for n in range(size)
    ]


def start_attempt(client, slug: str) -> dict:
    """Start (or reopen) the frozen attempt through the API and return it."""
    response = api_post(client, f"/api/v1/courses/{slug}/quiz/attempt")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def answers_to(attempt: dict, course, right: bool = True) -> dict[int, list[int]]:
    """Answer every question of a frozen attempt, all right or all wrong."""
    by_id = {q.id: q for q in course.questions}
    return {
        q["id"]: list(by_id[q["id"]].correct if right else by_id[q["id"]].wrong[:1])
        for q in attempt["questions"]
    }


def as_payload(answers: dict[int, list[int]]) -> dict:
    return {"answers": [{"question_id": q, "choice_ids": c} for q, c in answers.items()]}


def as_form(answers: dict[int, list[int]]) -> dict:
    return {f"q-{q}": [str(c) for c in choices] for q, choices in answers.items()}


READERS = ("anonymous", "free", "member", "lapsed", "admin")


def make_reader(app, kind: str, client, course=None, enrolled: bool = True):
    """Create and sign in a reader of a kind; members and lapsed members are enrolled."""
    if kind == "anonymous":
        return None
    with app.app_context():
        user_id = _create_user(role="admin" if kind == "admin" else "student")
        if kind == "member":
            support.make_member(user_id, "active")
        if kind == "lapsed":
            support.make_member(user_id, "canceled")
        if course is not None and enrolled and kind in ("member", "lapsed"):
            # A lapsed member enrolled while they were paying; the record outlives access.
            enroll_directly(user_id, course.id)
        if kind == "admin":  # an admin previews as in /admin/: with a second factor
            support.enable_totp(user_id)
    sign_in(client, user_id, second_factor=kind == "admin")
    return user_id


_HASH: list[str] = []
_numbers = iter(range(1, 10**9))


def _create_user(role: str = "student") -> int:
    """Insert a verified user with one shared password hash (Argon2 once per session)."""
    from campus.accounts.models import User
    from campus.accounts.services import hash_password
    from campus.extensions import db
    from campus.models.base import utcnow

    if not _HASH:
        _HASH.append(hash_password(support.DEFAULT_PASSWORD))
    n = next(_numbers)
    user = User(
        email=f"learner{n}@example.com",
        password_hash=_HASH[0],
        full_name=f"Learner {n}",
        profession="massage_therapist",
        role=role,
        email_verified_at=utcnow(),
    )
    db.session.add(user)
    db.session.commit()
    return user.id


def sign_in(client, user_id: int, *, second_factor: bool = False) -> None:
    """Open a server-side session for a user on the client (the login form has its own tests)."""
    with client.application.app_context():
        support.sign_in_directly(client, user_id, second_factor=second_factor)


def enroll_directly(user_id: int, course_id: int) -> int:
    from campus.extensions import db
    from campus.learning.models import Enrollment

    enrollment = Enrollment(user_id=user_id, course_id=course_id)
    db.session.add(enrollment)
    db.session.commit()
    return enrollment.id


def complete_all_lessons(enrollment_user_id: int, course) -> None:
    """Record every lesson of a course as complete for a user (inside an app context)."""
    from sqlalchemy import select

    from campus.extensions import db
    from campus.learning.models import Enrollment, LessonProgress

    enrollment = db.session.scalar(
        select(Enrollment).where(
            Enrollment.user_id == enrollment_user_id, Enrollment.course_id == course.id
        )
    )
    for lesson_id in course.lesson_ids:
        db.session.add(LessonProgress(enrollment_id=enrollment.id, lesson_id=lesson_id))
    db.session.commit()


def api_post(client, path: str, json: dict | None = None):
    token = support.csrf_token(client)
    return client.post(path, json=json or {}, headers={"X-CSRFToken": token})


GOOD_EVALUATION = {
    "objectives_met": "5",
    "relevance": "4",
    "presenter": "5",
    "content_quality": "4",
    "minutes_taken": "130",
    "comments": "Clear and practical.",
    "attest": "y",
}


def evaluate(user_id: int, course, **changes) -> None:
    """Submit a completed course's evaluation and attestation (in an app context) and commit.

    The certificate task is queued by this, after the commit.
    """
    from campus.accounts.models import User
    from campus.extensions import db
    from campus.learning import evaluation
    from campus.learning.models import Course

    answers = evaluation.Answers(
        ratings={"objectives_met": 5, "relevance": 4, "presenter": 5, "content_quality": 4},
        minutes_taken=130,
        comments="Clear and practical.",
        attested=True,
    )
    if changes:
        answers = evaluation.Answers(**{**answers.__dict__, **changes})
    evaluation.submit(db.session.get(User, user_id), db.session.get(Course, course.id), answers)
    db.session.commit()


def record_seat_time(enrollment_id: int, lesson_id: int, seconds: int) -> None:
    """Credit study time to a lesson directly (in an app context), as heartbeats would."""
    from campus.extensions import db
    from campus.learning.records import SeatTime

    db.session.add(SeatTime(enrollment_id=enrollment_id, lesson_id=lesson_id, seconds=seconds))
    db.session.commit()

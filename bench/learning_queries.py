"""SQL queries per CE page with 10 courses, then with 1,000 courses and 100,000 progress rows.

    .venv/bin/python bench/learning_queries.py [--database-url URL]

Counts the statements each page sends to the database (catalog, course page, lesson page,
dashboard; anonymous and a paying member) with the Flask test client, on a temporary database
(SQLite, or --database-url for PostgreSQL). The counts must not grow with the data: a page that
loads per-row relations lazily (N+1) would. Prints both runs and exits non-zero if any grew.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PASSWORD = "bench-password-123"
LESSONS_PER_COURSE = 10


def _environment(database_url: str | None) -> Path:
    from bench.harness import bench_environment

    return bench_environment("campus-queries-", database_url)


def _add_courses(first: int, count: int, lessons: int = LESSONS_PER_COURSE) -> list[int]:
    """Insert published courses with one approval, two modules, lessons and a 10-question quiz."""
    from sqlalchemy import insert, select

    from campus.extensions import db
    from campus.learning.models import (
        BoardApproval,
        Choice,
        Course,
        CourseProfession,
        Lesson,
        Module,
        Question,
        Quiz,
    )
    from campus.learning.rendering import render_markdown
    from campus.models.base import utcnow

    now = utcnow()
    body = "Trigger points in this muscle refer pain *elsewhere*.\n\n" * 12
    html = render_markdown(body)
    topics = ["Hip and thigh", "Neck and shoulder", "Low back", "Forearm and hand", "Lower leg"]
    db.session.execute(
        insert(Course),
        [
            {
                "slug": f"course-{n:05}",
                "title": f"Course {n}: {topics[n % 5]} trigger points",
                "summary": "Referral patterns, palpation and treatment for one region.",
                "description": body,
                "description_html": html,
                "objectives": "One\nTwo\nThree",
                "presenters": "Maren Okafor, LMT",
                "presenter_bio": "",
                "ce_hours": Decimal("1.5") + (n % 4),
                "delivery_type": "home_study",
                "level": "intermediate",
                "topic": topics[n % 5],
                "status": "published",
                "published_at": now,
                "created_at": now,
                "updated_at": now,
            }
            for n in range(first, first + count)
        ],
    )
    ids = list(
        db.session.scalars(
            select(Course.id).where(Course.slug >= f"course-{first:05}").order_by(Course.id)
        )
    )[:count]
    stamp = {"created_at": now, "updated_at": now}
    db.session.execute(
        insert(BoardApproval),
        [{"course_id": c, "board": "NCBTMB", "approval_number": f"A-{c}", **stamp} for c in ids],
    )
    db.session.execute(
        insert(CourseProfession), [{"course_id": c, "profession": "massage_therapist"} for c in ids]
    )
    db.session.execute(
        insert(Module),
        [
            {"course_id": c, "position": p, "title": f"Module {p}", "summary": "", **stamp}
            for c in ids
            for p in (1, 2)
        ],
    )
    modules = dict(
        db.session.execute(
            select(Module.course_id, Module.id).where(
                Module.course_id.in_(ids), Module.position == 1
            )
        ).all()
    )
    seconds = dict(
        db.session.execute(
            select(Module.course_id, Module.id).where(
                Module.course_id.in_(ids), Module.position == 2
            )
        ).all()
    )
    half = lessons // 2
    db.session.execute(
        insert(Lesson),
        [
            {
                "course_id": c,
                "module_id": modules[c] if n < half else seconds[c],
                "module_position": 1 if n < half else 2,
                "position": n + 1 if n < half else n - half + 1,
                "title": f"Lesson {n + 1}",
                "body_markdown": body,
                "body_html": html,
                "estimated_minutes": 15,
                **stamp,
            }
            for c in ids
            for n in range(lessons)
        ],
    )
    db.session.execute(
        insert(Quiz),
        [
            {
                "course_id": c,
                "title": "Final quiz",
                "instructions": "",
                "pass_mark_percent": 70,
                "attempts_per_day": 3,
                **stamp,
            }
            for c in ids
        ],
    )
    quizzes = dict(
        db.session.execute(select(Quiz.course_id, Quiz.id).where(Quiz.course_id.in_(ids))).all()
    )
    db.session.execute(
        insert(Question),
        [
            {
                "quiz_id": quizzes[c],
                "position": p,
                "kind": "single",
                "prompt": f"Question {p}?",
                "explanation": "Because.",
                **stamp,
            }
            for c in ids
            for p in range(1, 11)
        ],
    )
    question_ids = db.session.scalars(
        select(Question.id).where(Question.quiz_id.in_(list(quizzes.values())))
    ).all()
    db.session.execute(
        insert(Choice),
        [
            {"question_id": q, "position": p, "text": f"Choice {p}", "is_correct": p == 1}
            for q in question_ids
            for p in (1, 2, 3)
        ],
    )
    db.session.commit()
    return ids


def _add_learners(course_ids: list[int], learners: int, per_learner: int) -> int:
    """Create learners, each enrolled in `per_learner` courses with every lesson complete."""
    from sqlalchemy import insert, select

    from campus.accounts.models import User
    from campus.extensions import db
    from campus.learning.models import Enrollment, Lesson, LessonProgress
    from campus.models.base import utcnow

    now = utcnow()
    db.session.execute(
        insert(User),
        [
            {
                "email": f"learner{n}@bench.example",
                "password_hash": "x",
                "full_name": f"Learner {n}",
                "profession": "massage_therapist",
                "role": "student",
                "created_at": now,
                "updated_at": now,
            }
            for n in range(learners)
        ],
    )
    user_ids = db.session.scalars(
        select(User.id).where(User.email.like("learner%@bench.example")).order_by(User.id)
    ).all()
    db.session.execute(
        insert(Enrollment),
        [
            {
                "user_id": u,
                "course_id": course_ids[(i * per_learner + k) % len(course_ids)],
                "enrolled_at": now,
                "status": "active",
                "created_at": now,
                "updated_at": now,
            }
            for i, u in enumerate(user_ids)
            for k in range(per_learner)
        ],
    )
    lessons: dict[int, list[int]] = {}
    for course_id, lesson_id in db.session.execute(
        select(Lesson.course_id, Lesson.id).where(Lesson.course_id.in_(course_ids))
    ):
        lessons.setdefault(course_id, []).append(lesson_id)
    rows = []
    for enrollment_id, course_id in db.session.execute(
        select(Enrollment.id, Enrollment.course_id).where(Enrollment.user_id.in_(user_ids))
    ):
        rows.extend(
            {"enrollment_id": enrollment_id, "lesson_id": lesson_id, "completed_at": now}
            for lesson_id in lessons[course_id]
        )
    for start in range(0, len(rows), 20_000):
        db.session.execute(insert(LessonProgress), rows[start : start + 20_000])
    db.session.commit()
    return len(rows)


def _member(course_ids: list[int], enrollments: int) -> tuple[str, str, int]:
    """A paying member enrolled in some courses, halfway through the first one."""
    from datetime import timedelta

    from sqlalchemy import select

    from campus.accounts.models import User
    from campus.accounts.services import hash_password
    from campus.billing.models import CompMembership
    from campus.extensions import db
    from campus.learning import progress
    from campus.learning.models import Course, Enrollment, Lesson
    from campus.models.base import utcnow

    email = "member@bench.example"
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(
            email=email,
            password_hash=hash_password(PASSWORD),
            full_name="Bench Member",
            email_verified_at=utcnow(),
        )
        db.session.add(user)
        db.session.flush()
        db.session.add(
            CompMembership(
                user_id=user.id,
                starts_at=utcnow(),
                ends_at=utcnow() + timedelta(days=30),
                reason="bench",
            )
        )
        db.session.flush()
    have = set(
        db.session.scalars(select(Enrollment.course_id).where(Enrollment.user_id == user.id))
    )
    for course_id in course_ids[:enrollments]:
        if course_id not in have:
            progress.enroll(user, db.session.get(Course, course_id))
    first = db.session.get(Course, course_ids[0])
    lessons = db.session.scalars(
        select(Lesson.id).where(Lesson.course_id == first.id).order_by(Lesson.id)
    ).all()
    for lesson_id in lessons[: len(lessons) // 2]:
        progress.complete_lesson(user, lesson_id, first)
    db.session.commit()
    return email, first.slug, lessons[len(lessons) // 2]


def _login(client, email: str) -> None:
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    response = client.post(
        "/login", data={"csrf_token": token, "email": email, "password": PASSWORD}
    )
    assert response.status_code == 302, "benchmark login failed"


def _measure(app, pages: list[tuple[str, str, bool]], email: str) -> dict[str, tuple]:
    """Return {page: (cold queries, warm queries, cold ms, warm ms)} for each page.

    Cold: the content snapshots were just cleared, so the page loads courses, lessons and
    approvals from the database; warm: they come from the snapshot cache (one stamp query).
    """
    from sqlalchemy import event

    from campus.extensions import db
    from campus.learning import snapshots

    counter = {"n": 0}

    with app.app_context():
        engine = db.engine

    def count(*_args, **_kwargs) -> None:
        counter["n"] += 1

    event.listen(engine, "before_cursor_execute", count)
    anonymous = app.test_client()
    member = app.test_client()
    _login(member, email)
    results = {}
    try:
        for name, path, signed_in in pages:
            client = member if signed_in else anonymous
            client.get(path)  # the session and the resume point settle
            with app.app_context():
                snapshots.clear()  # cold: content snapshots rebuilt from the database
            counter["n"] = 0
            started = time.perf_counter()
            response = client.get(path)
            cold_ms = (time.perf_counter() - started) * 1000
            assert response.status_code == 200, f"{path} answered {response.status_code}"
            cold = counter["n"]
            counter["n"] = 0
            started = time.perf_counter()
            client.get(path)
            warm_ms = (time.perf_counter() - started) * 1000
            results[name] = (cold, counter["n"], cold_ms, warm_ms)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return results


def main() -> int:
    """Measure both data sizes and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", help="PostgreSQL URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    tmp = _environment(args.database_url)

    from flask_migrate import upgrade

    from campus import create_app
    from campus.extensions import db

    app = create_app()
    with app.app_context():
        if args.database_url:
            db.drop_all()
            with db.engine.begin() as conn:
                conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        upgrade()
        small_ids = _add_courses(0, 10)
        email, slug, lesson_id = _member(small_ids, 3)

    pages = [
        ("catalog (anonymous)", "/courses/", False),
        ("catalog (member)", "/courses/", True),
        ("catalog search (anonymous)", "/courses/?q=neck&hours=medium", False),
        ("course page (member)", f"/courses/{slug}", True),
        ("lesson page (member)", f"/courses/{slug}/lessons/{lesson_id}", True),
        ("dashboard (member)", "/learning/", True),
    ]
    small = _measure(app, pages, email)

    with app.app_context():
        big_ids = small_ids + _add_courses(10, 990)
        progress = _add_learners(big_ids, learners=1000, per_learner=10)
        _member(big_ids, 50)
        from sqlalchemy import func, select

        from campus.learning.models import Course, LessonProgress

        courses = db.session.scalar(select(func.count(Course.id)))
        progress_rows = db.session.scalar(select(func.count(LessonProgress.id)))
    large = _measure(app, pages, email)

    print(
        f"\nSQL queries per page (database: {app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]})"
    )
    print("small: 10 courses; member enrolled in 3")
    print(
        f"large: {courses} courses, {progress_rows} lesson-progress rows "
        f"({progress} from 1,000 learners); member enrolled in 50\n"
    )
    header = (
        f"{'page':<28} {'cold 10':>8} {'cold 1k':>8} {'warm 10':>8} {'warm 1k':>8}"
        f" {'ms cold 1k':>11} {'ms warm 1k':>11}"
    )
    print(header)
    print("-" * len(header))
    grew = False
    for name, _path, _signed in pages:
        (c1, w1, _cm1, _wm1), (c2, w2, cm2, wm2) = small[name], large[name]
        flag = "  GREW" if c2 > c1 or w2 > w1 else ""
        grew |= bool(flag)
        print(f"{name:<28} {c1:>8} {c2:>8} {w1:>8} {w2:>8} {cm2:>11.1f} {wm2:>11.1f}{flag}")
    print("\nqueries do not grow with the data" if not grew else "\nSOME PAGES GREW")
    import shutil

    shutil.rmtree(tmp, ignore_errors=True)
    return 1 if grew else 0


if __name__ == "__main__":
    sys.exit(main())

"""Question banks: each attempt is a shuffled draw, frozen when it starts, that guessing fails."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from sqlalchemy import func, select

from tests.learning.helpers import (
    answers_to,
    api_post,
    as_form,
    as_payload,
    bank,
    complete_all_lessons,
    make_course,
    make_reader,
    start_attempt,
)
from tests.support import post_form


@pytest.fixture
def course(app):
    with app.app_context():
        return make_course(
            "bank-course",
            questions=bank(12),
            questions_per_attempt=6,
            pass_mark=70,
            attempts_per_day=50,
        )


@pytest.fixture
def member(app, client, course):
    user_id = make_reader(app, "member", client, course)
    with app.app_context():
        complete_all_lessons(user_id, course)
    return user_id


def _submit(client, course, answers):
    return api_post(client, f"/api/v1/courses/{course.slug}/quiz/attempts", as_payload(answers))


def _attempt_count(app) -> int:
    from campus.extensions import db
    from campus.learning.models import QuizAttempt

    with app.app_context():
        return db.session.scalar(select(func.count(QuizAttempt.id)))


def test_an_attempt_draws_the_set_number_of_questions_and_stays_open(app, client, course, member):
    first = start_attempt(client, course.slug)
    assert first["question_count"] == 6 and len(first["questions"]) == 6
    assert all("correct_choice_ids" not in q for q in first["questions"])
    again = client.get(f"/api/v1/courses/{course.slug}/quiz/attempt").get_json()
    assert again == start_attempt(client, course.slug) == first


def test_question_and_answer_order_differ_between_attempts(app, client, course, member):
    question_orders, answer_orders = set(), set()
    for _ in range(6):
        attempt = start_attempt(client, course.slug)
        question_orders.add(tuple(q["id"] for q in attempt["questions"]))
        for q in attempt["questions"]:
            answer_orders.add((q["id"], tuple(c["id"] for c in q["choices"])))
        assert _submit(client, course, answers_to(attempt, course, right=False)).status_code == 201
    assert len(question_orders) > 1
    # Twelve questions of four answers: far more than twelve orders appear when answers shuffle.
    assert len(answer_orders) > 12


def test_a_draw_covers_every_objective_when_it_can(app, course):
    from campus.extensions import db
    from campus.learning import papers
    from campus.learning.models import Question, Quiz

    with app.app_context():
        quiz = db.session.get(Quiz, course.quiz_id)
        objectives = {q.id: q.objective for q in db.session.scalars(select(Question))}
        for seed in range(20):
            layout = papers.draw_layout(quiz, random.Random(seed))
            assert len({objectives[item["id"]] for item in layout}) == 3


def test_the_attempt_is_frozen_when_the_bank_changes_after_it_starts(app, client, course, member):
    from campus.extensions import db
    from campus.learning.models import Choice, Question

    attempt = start_attempt(client, course.slug)
    drawn = attempt["questions"][0]
    right = answers_to(attempt, course)
    with app.app_context():
        question = db.session.get(Question, drawn["id"])
        question.prompt = "Reworded after the attempt started"
        for choice in question.choices:  # move the key to another answer
            choice.is_correct = not choice.is_correct
        undrawn = {q.id for q in course.questions} - {q["id"] for q in attempt["questions"]}
        db.session.delete(db.session.get(Question, min(undrawn)))
        db.session.add(Choice(question_id=drawn["id"], position=9, text="A late answer"))
        db.session.commit()
    assert client.get(f"/api/v1/courses/{course.slug}/quiz/attempt").get_json() == attempt
    body = _submit(client, course, right).get_json()
    assert (body["correct_count"], body["passed"]) == (6, True)


def test_an_answer_to_a_question_outside_the_attempt_is_refused(app, client, course, member):
    attempt = start_attempt(client, course.slug)
    answers = answers_to(attempt, course)
    outside = next(q for q in course.questions if q.id not in answers)
    answers[outside.id] = list(outside.correct)
    response = _submit(client, course, answers)
    assert response.status_code == 422
    assert f"Question {outside.id} is not part of this attempt." in str(response.get_json())
    assert _attempt_count(app) == 0


def test_the_page_serves_the_frozen_attempt_and_refuses_other_questions(
    app, client, course, member
):
    html = client.get(f"/courses/{course.slug}/quiz").get_data(as_text=True)
    attempt = client.get(f"/api/v1/courses/{course.slug}/quiz/attempt").get_json()
    positions = [html.index(f'name="q-{q["id"]}"') for q in attempt["questions"]]
    assert positions == sorted(positions)  # the page shows the draw in its order
    shown = {q.id for q in course.questions if f'name="q-{q.id}"' in html}
    assert shown == {q["id"] for q in attempt["questions"]}
    outside = next(q for q in course.questions if q.id not in shown)
    answers = {**answers_to(attempt, course), outside.id: list(outside.correct)}
    response = post_form(client, f"/courses/{course.slug}/quiz", as_form(answers))
    assert response.status_code == 422
    assert _attempt_count(app) == 0


def test_a_failed_attempt_names_the_objectives_to_revisit_not_the_answers(
    app, client, course, member
):
    attempt = start_attempt(client, course.slug)
    answers = answers_to(attempt, course)
    by_id = {q.id: q for q in course.questions}
    missed = attempt["questions"][:3]
    for q in missed:
        answers[q["id"]] = by_id[q["id"]].wrong[:1]
    body = _submit(client, course, answers).get_json()
    assert body["passed"] is False and "results" not in body
    from campus.extensions import db
    from campus.learning.models import Question

    with app.app_context():
        expected = {db.session.get(Question, q["id"]).objective for q in missed}
    assert set(body["revisit"]) == expected
    html = client.get(f"/courses/{course.slug}/quiz").get_data(as_text=True)
    assert "Before your next attempt, revisit" in html
    assert all(objective in html for objective in expected)
    assert "is-correct" not in html


def test_a_new_attempt_after_a_submission_is_a_fresh_draw(app, client, course, member):
    first = start_attempt(client, course.slug)
    _submit(client, course, answers_to(first, course, right=False))
    second = start_attempt(client, course.slug)
    assert second["id"] != first["id"]


# --- answering by position ---------------------------------------------------------------------


def _by_position(strategy: str, question, number: int) -> frozenset[int]:
    choices = [c.id for c in question.choices]
    if strategy == "first":
        return frozenset(choices[:1])
    if strategy == "last":
        return frozenset(choices[-1:])
    return frozenset([choices[number % len(choices)]])  # A, B, C, D, A, ...


@pytest.mark.parametrize(
    "slug", ["trigger-point-therapy-hip-and-thigh", "trigger-points-neck-and-shoulder"]
)
def test_answering_by_position_fails_the_demo_quizzes(app, slug):
    from campus.extensions import db
    from campus.learning import demo, papers
    from campus.learning import quiz as quizzes
    from campus.learning.models import Course, QuizPaper

    runs = 300
    with app.app_context():
        demo.seed()
        quiz = db.session.scalar(select(Course).where(Course.slug == slug)).quiz
        assert len(quiz.questions) >= 2 * quiz.questions_per_attempt
        rng = random.Random(20261201)
        report = {}
        for strategy in ("first", "last", "pattern"):
            passes, points = 0, 0
            for _ in range(runs):
                # A transient paper: the same draw an attempt freezes, without storing it.
                paper = papers.questions_of(QuizPaper(layout=papers.draw_layout(quiz, rng)))
                answers = {q.id: _by_position(strategy, q, q.position) for q in paper}
                result = quizzes.score(quiz, answers, paper)
                passes += result.passed
                points += result.percent
            report[strategy] = (passes / runs, points / runs)
    for strategy, (pass_rate, mean_percent) in report.items():
        assert pass_rate < 0.05, (strategy, report)
        assert mean_percent < quiz.pass_mark_percent / 2, (strategy, report)


def test_the_demo_banks_spread_the_right_answers_across_positions(app):
    from campus.learning import demo
    from campus.learning.course_files import read_course

    for folder in (demo.DEMO_COURSES / demo.HIP_SLUG, demo.DEMO_COURSES / demo.NECK_SLUG):
        spec = read_course(folder)
        places = Counter(
            next(n for n, (_text, ok) in enumerate(q.choices) if ok) for q in spec.quiz.questions
        )
        assert len(places) >= 3 and max(places.values()) <= len(spec.quiz.questions) // 2
        assert all(q.objective for q in spec.quiz.questions)


def test_reading_an_attempt_before_starting_one_is_a_404(app, client, course, member):
    response = client.get(f"/api/v1/courses/{course.slug}/quiz/attempt")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "no_open_attempt"


def test_a_lapsed_member_cannot_read_their_open_attempt_back(app, client, course, member):
    start_attempt(client, course.slug)
    from campus.billing.models import Subscription
    from campus.extensions import db

    with app.app_context():
        db.session.execute(
            Subscription.__table__.update()
            .where(Subscription.user_id == member)
            .values(status="canceled")
        )
        db.session.commit()
    page = client.get(f"/courses/{course.slug}/quiz")  # the page sends them to renew
    assert page.status_code == 302 and b"Bank question" not in page.data
    response = client.get(f"/api/v1/courses/{course.slug}/quiz/attempt")
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "membership_lapsed"
    document = client.get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/api/v1/courses/{slug}/quiz/attempt"]["get"]
    assert "403" in operation["responses"]


def test_an_attempt_cannot_start_before_the_lessons_are_done(app, client, course):
    make_reader(app, "member", client, course)
    response = api_post(client, f"/api/v1/courses/{course.slug}/quiz/attempt")
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "lessons_incomplete"
    from campus.extensions import db
    from campus.learning.models import QuizPaper

    with app.app_context():
        assert db.session.scalar(select(func.count(QuizPaper.id))) == 0


def test_an_attempt_cannot_start_once_the_days_attempts_are_used(app, client, member):
    with app.app_context():
        strict = make_course("strict", questions=bank(4), attempts_per_day=1)
    from tests.learning.helpers import enroll_directly

    with app.app_context():
        enroll_directly(member, strict.id)
        complete_all_lessons(member, strict)
    attempt = start_attempt(client, strict.slug)
    assert _submit(client, strict, answers_to(attempt, strict, right=False)).status_code == 201
    response = api_post(client, f"/api/v1/courses/{strict.slug}/quiz/attempt")
    assert response.status_code == 429
    html = client.get(f"/courses/{strict.slug}/quiz").get_data(as_text=True)
    assert "You have used today's attempts" in html and 'name="q-' not in html

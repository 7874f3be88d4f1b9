"""A quiz answer's id, its value on the page and in the API, says nothing of the authored order."""

from __future__ import annotations

import random
import re

import pytest
from sqlalchemy import select

from tests.admin import helpers as admin
from tests.learning.helpers import make_course

RIGHT_FIRST = [
    {
        "prompt": f"Question {n}",
        "choices": [(f"Right {n}", True), *((f"Wrong {n}.{k}", False) for k in range(3))],
        "objective": "Objective",
    }
    for n in range(40)
]


@pytest.fixture
def seeded(monkeypatch):
    """Quiz shuffles from a fixed generator, so each run makes the same ids."""
    from campus.learning import papers

    monkeypatch.setattr(papers, "_SYSTEM_RANDOM", random.Random(20261205))


def _choices(question_id: int):
    from campus.extensions import db
    from campus.learning.models import Choice

    return db.session.scalars(
        select(Choice).where(Choice.question_id == question_id).order_by(Choice.position)
    ).all()


def test_ids_of_new_answers_do_not_give_away_the_right_one_written_first(app, seeded):
    from campus.extensions import db
    from campus.learning.models import Course

    with app.app_context():
        made = make_course("right-first", questions=RIGHT_FIRST)
        db.session.expire_all()
        course = db.session.get(Course, made.id)
        smallest_is_right = 0
        for question in course.quiz.questions:
            choices = question.choices
            # The admin and the importer still read the answers in the order they were written.
            written = RIGHT_FIRST[question.position - 1]["choices"]
            assert [c.text for c in choices] == [text for text, _right in written]
            if min(choices, key=lambda c: c.id).is_correct:
                smallest_is_right += 1
        # One in four by chance (ten of forty); every one of them before.
        assert smallest_is_right <= 20
        in_order = sum(
            [c.id for c in q.choices] == sorted(c.id for c in q.choices)
            for q in course.quiz.questions
        )
        assert in_order <= 10


def test_an_answer_added_in_the_admin_gets_an_id_out_of_its_written_order(app, client, seeded):
    from campus.extensions import db
    from campus.learning.models import Question

    with app.app_context():
        course = make_course("admin-right-first", published=False)
    admin.sign_in_admin(app, client)
    fields = {"quiz": course.quiz_id, "position": "", "prompt": "Where?", "kind": "single"}
    texts = [f"Answer {k}" for k in range(6)]
    for k, text in enumerate(texts):
        fields[f"choices-{k}-text"] = text
    fields["choices-0-is_correct"] = "y"
    response = admin.post(client, "/admin/questions/new/", fields)
    assert response.status_code == 302, admin.flashes(response)
    with app.app_context():
        question_id = db.session.scalar(select(Question.id).where(Question.prompt == "Where?"))
        choices = _choices(question_id)
        assert [c.text for c in choices] == texts
        ids = [c.id for c in choices]
        assert ids != sorted(ids)
    page = client.get(f"/admin/questions/edit/?id={question_id}").get_data(as_text=True)
    shown = re.findall(r'name="choices-\d+-text"[^>]*>\s*(.*?)</textarea>', page)
    assert shown == texts  # the edit form lists them as written


def test_importing_an_unchanged_quiz_again_keeps_every_answer_id(app, seeded):
    from campus.extensions import db
    from campus.learning import demo
    from campus.learning.course_files import read_course
    from campus.learning.importer import import_course
    from campus.learning.models import Choice

    with app.app_context():
        demo.seed()
        db.session.commit()
        before = db.session.execute(select(Choice.id, Choice.question_id, Choice.position)).all()
        folder = demo.DEMO_COURSES / "trigger-points-neck-and-shoulder"
        assert import_course(read_course(folder)) == "unchanged"
        db.session.commit()
        after = db.session.execute(select(Choice.id, Choice.question_id, Choice.position)).all()
        assert sorted(after) == sorted(before)

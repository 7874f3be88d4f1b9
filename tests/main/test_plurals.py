"""Numbers and their nouns agree on every page: "1 CE hour", "1.5 CE hours", "1 question"."""

from __future__ import annotations

import pytest

from campus.templating import counted, noun


@pytest.mark.parametrize(
    ("number", "singular", "expected"),
    [
        (1, "CE hour", "1 CE hour"),
        ("1.00", "CE hour", "1 CE hour"),
        ("1.5", "CE hour", "1.5 CE hours"),
        (0, "question", "0 questions"),
        (2, "question", "2 questions"),
        (None, "attempt", "0 attempts"),
        ("10.50", "CE hour", "10.5 CE hours"),
    ],
)
def test_counted_puts_the_noun_in_agreement(number, singular, expected):
    assert counted(number, singular) == expected


def test_an_irregular_plural_can_be_given():
    assert noun(2, "match", "matches") == "matches" and noun(1, "match", "matches") == "match"


def test_a_one_hour_course_with_one_question_reads_in_the_singular(app, client):
    from tests.learning.helpers import QUESTIONS, complete_all_lessons, make_course, make_reader

    with app.app_context():
        course = make_course(
            "one-hour",
            ce_hours="1",
            questions=QUESTIONS[:1],
            attempts_per_day=1,
            pass_mark=100,
        )
    user_id = make_reader(app, "member", client, course)
    with app.app_context():
        complete_all_lessons(user_id, course)
    page = client.get("/courses/one-hour").get_data(as_text=True)
    assert "</strong> CE hour</span>" in page and "CE hours</span>" not in page
    assert "<span>1 question</span>" in page and "up to 1 attempt a day" in page
    quiz = client.get("/courses/one-hour/quiz").get_data(as_text=True)
    assert "<span>1 question</span>" in quiz and "You can make 1 attempt in any 24 hours" in quiz

"""Catalog admin, quizzes: each course's final quiz, its questions and their answers.

The rules (one quiz per course, answers, positions) and the audit entries are learning's
actions; these views build the forms.
"""

from __future__ import annotations

from markupsafe import Markup, escape
from wtforms.validators import DataRequired, NumberRange, Optional

from campus.admin.base import InlineRows
from campus.admin.catalog import CourseCatalogView
from campus.learning import actions
from campus.learning.models import QUESTION_KINDS, Choice, Question, Quiz


class QuizView(CourseCatalogView):
    """Each course's final quiz: pass mark, daily attempts and how many questions each draws."""

    column_list = (
        "course",
        "title",
        "pass_mark_percent",
        "attempts_per_day",
        "questions_per_attempt",
        "questions",
    )
    column_labels = {
        "pass_mark_percent": "Pass mark %",
        "attempts_per_day": "Attempts a day",
        "questions_per_attempt": "Drawn per attempt",
        "questions": "Bank",
    }
    column_formatters = {
        "questions": lambda v, c, m, n: len(m.questions),
        "questions_per_attempt": lambda v, c, m, n: m.drawn_count(),
    }
    form_columns = (
        "course",
        "title",
        "instructions",
        "pass_mark_percent",
        "attempts_per_day",
        "questions_per_attempt",
    )
    form_args = {
        "questions_per_attempt": {
            "label": "Questions drawn per attempt",
            "validators": [
                Optional(),
                NumberRange(1, 500, "Draw between 1 and 500 questions per attempt."),
            ],
            "description": "Each attempt draws this many questions from the bank, spread over "
            "their objectives, in a new order with the answers shuffled. Leave empty to use "
            "every question; a bank at least twice this size keeps attempts different.",
        },
        "course": {"validators": [DataRequired("Choose the course.")], "get_label": "title"},
        "title": {"validators": [DataRequired("Give the quiz a title.")]},
        "pass_mark_percent": {
            "label": "Pass mark (%)",
            "validators": [
                DataRequired("Enter the pass mark in percent."),
                NumberRange(1, 100, "The pass mark must be between 1 and 100 percent."),
            ],
        },
        "attempts_per_day": {
            "validators": [
                DataRequired("Enter how many attempts a day are allowed."),
                NumberRange(1, 50, "Allow between 1 and 50 attempts a day."),
            ]
        },
    }
    unique_messages = {"course": "That course already has a quiz: edit it instead."}

    def __init__(self, session, **kwargs) -> None:
        super().__init__(Quiz, session, **kwargs)

    def save(self, form, model, before: dict | None, actor) -> None:
        actions.save_quiz(model, before=before, actor=actor)


class ChoiceInline(InlineRows):
    """Answer options, edited inside their question."""

    form_columns = ("id", "text", "is_correct")
    form_label = "Answer"
    form_args = {
        "text": {"validators": [DataRequired("An answer needs text.")]},
        "is_correct": {"label": "Correct"},
    }


class QuestionView(CourseCatalogView):
    """Quiz questions and their answers; every question needs a correct answer."""

    column_list = ("quiz", "position", "prompt", "objective", "kind", "choices")
    column_default_sort = [("quiz_id", False), ("position", False)]
    column_filters = ("kind",)
    column_searchable_list = ("prompt",)
    column_formatters = {
        "quiz": lambda v, c, m, n: m.quiz.course.title,
        "kind": lambda v, c, m, n: QUESTION_KINDS.get(m.kind, m.kind),
        "choices": lambda v, c, m, n: Markup("<br>").join(
            Markup("✔ " if ch.is_correct else "· ") + escape(ch.text) for ch in m.choices
        ),
    }
    column_formatters_export = {
        "choices": lambda v, c, m, n: "; ".join(
            ("(right) " if ch.is_correct else "") + ch.text for ch in m.choices
        ),
    }
    form_columns = ("quiz", "position", "prompt", "kind", "objective", "explanation", "choices")
    form_choices = {"kind": list(QUESTION_KINDS.items())}
    form_args = {
        "quiz": {"validators": [DataRequired("Choose the quiz.")]},
        "position": {
            "validators": [Optional(), NumberRange(min=1, message="Positions start at 1.")],
            "description": "Order within the quiz; leave empty to add it at the end.",
        },
        "prompt": {"validators": [DataRequired("Write the question.")]},
        "explanation": {"description": "Shown after the student passes."},
        "objective": {
            "description": "The learning objective or module it tests: draws spread over these, "
            "and a student who misses it is told to revisit it."
        },
    }
    form_widget_args = {
        "prompt": {"rows": 3},
        "explanation": {"rows": 3},
        "position": {"required": False},  # empty means "at the end"
    }
    inline_models = (ChoiceInline(Choice),)

    def __init__(self, session, **kwargs) -> None:
        super().__init__(Question, session, **kwargs)

    def scaffold_form(self):
        form_class = super().scaffold_form()
        form_class.quiz.kwargs["get_label"] = lambda quiz: f"{quiz.course.title} — {quiz.title}"
        return form_class

    def save(self, form, model, before: dict | None, actor) -> None:
        actions.save_question(model, before=before, actor=actor)

    def delete_action(self, model, actor) -> None:
        actions.delete_question(model, actor=actor)

"""Catalog admin: courses, approvals, modules, lessons, quizzes, questions and choices.

Lesson and course Markdown is rendered (and sanitized) by learning's own save hooks the moment
the source is set, so what an admin types is stored once as safe HTML.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import flash
from flask_admin.actions import action
from flask_admin.contrib.sqla.validators import Unique
from flask_admin.form import BaseForm
from flask_admin.model.form import InlineFormAdmin
from markupsafe import Markup, escape
from sqlalchemy import func, inspect, select, update
from wtforms import SelectMultipleField, StringField
from wtforms.validators import (
    DataRequired,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from campus.accounts.models import PROFESSIONS
from campus.admin.base import AuditedModelView, select_choices
from campus.admin.services import record, snapshot
from campus.extensions import db
from campus.learning.models import (
    DELIVERY_TYPES,
    LEVELS,
    QUESTION_KINDS,
    BoardApproval,
    Choice,
    Course,
    CourseProfession,
    Enrollment,
    Lesson,
    Module,
    Question,
    Quiz,
)
from campus.learning.rendering import VideoURLError, video_embed_url
from campus.models.base import utcnow

WARN_DAYS = 60
SLUG = Regexp(r"^[a-z0-9]+(?:-[a-z0-9]+)*$", message="Use lower-case words joined by hyphens.")
MARKDOWN = {"class": "markdown-editor", "rows": 14}


def _today() -> date:
    return utcnow().date()


def approval_badge(approval: BoardApproval, today: date | None = None) -> Markup:
    """Label an approval's validity: in force, expiring soon (60 days) or expired."""
    today = today or _today()
    if approval.valid_until is None:
        return Markup('<span class="badge badge-ok">no end date</span>')
    days = (approval.valid_until - today).days
    if days < 0:
        return Markup(f'<span class="badge badge-danger">expired {approval.valid_until}</span>')
    if days <= WARN_DAYS:
        return Markup(
            f'<span class="badge badge-warn">expires in {days} day{"s" if days != 1 else ""}</span>'
        )
    return Markup(f'<span class="badge badge-ok">until {approval.valid_until}</span>')


def _approvals_column(view, context, model, name) -> Markup:
    if not model.approvals:
        return Markup('<span class="muted">none</span>')
    return Markup("<br>").join(
        Markup(f"{escape(a.board)} {escape(a.approval_number)} ") + approval_badge(a)
        for a in model.approvals
    )


def _status_column(view, context, model, name) -> Markup:
    css = "badge-ok" if model.status == "published" else "badge-muted"
    return Markup(f'<span class="badge {css}">{escape(model.status)}</span>')


def _position_taken(model_cls, model, **scope) -> Any:
    stmt = select(model_cls).where(model_cls.position == model.position)
    for column, value in scope.items():
        stmt = stmt.where(getattr(model_cls, column) == value)
    if model.id is not None:
        stmt = stmt.where(model_cls.id != model.id)
    with db.session.no_autoflush:
        return db.session.scalar(stmt.limit(1))


def _next_position(model_cls, **scope) -> int:
    stmt = select(func.coalesce(func.max(model_cls.position), 0))
    for column, value in scope.items():
        stmt = stmt.where(getattr(model_cls, column) == value)
    with db.session.no_autoflush:
        return (db.session.scalar(stmt) or 0) + 1


class CatalogView(AuditedModelView):
    """Shared settings of the catalog views."""

    # Messages of the automatic unique check, per field.
    unique_messages: dict[str, str] = {}

    def scaffold_form(self):
        form_class = super().scaffold_form()
        for name, message in self.unique_messages.items():
            field = getattr(form_class, name, None)
            for validator in (field.kwargs.get("validators") or []) if field else []:
                if isinstance(validator, Unique):
                    validator.message = message
        return form_class


class ApprovalInline(InlineFormAdmin):
    """Board approvals edited inside their course."""

    # A plain form: the CSRF token belongs to the page's form, not to every inline row.
    form_base_class = BaseForm

    form_columns = ("id", "board", "approval_number", "valid_until")
    form_args = {
        "board": {"validators": [DataRequired("Name the board (e.g. NCBTMB).")]},
        "approval_number": {"validators": [DataRequired("Enter the approval number.")]},
    }


def _check_approvals(approvals, today: date) -> None:
    """Refuse a new or changed approval whose end date has already passed."""
    for approval in approvals:
        if approval.valid_until is None or approval.valid_until >= today:
            continue
        state = inspect(approval)
        changed = state.transient or state.pending or state.attrs.valid_until.history.added
        if changed:
            raise ValidationError(
                f"The {approval.board or 'board'} approval ends on {approval.valid_until}, which "
                "is in the past. Enter the current approval's end date."
            )


def check_publishable(course: Course) -> None:
    """Refuse to publish a course that students could not complete."""
    problems = []
    with db.session.no_autoflush:
        lesson_count = (
            db.session.scalar(select(func.count()).where(Lesson.course_id == course.id))
            if course.id
            else 0
        )
        quiz = course.quiz
        questions = list(quiz.questions) if quiz is not None else []
    if not lesson_count:
        problems.append("at least one lesson")
    if not questions:
        problems.append("a final quiz with questions")
    elif any(not any(c.is_correct for c in q.choices) for q in questions):
        problems.append("a correct answer for every quiz question")
    if problems:
        raise ValidationError(
            "A course needs " + " and ".join(problems) + " before it can be published. "
            "Save it as a draft until then."
        )


class CourseView(CatalogView):
    """Courses: details, audience, CE hours, board approvals, draft / published."""

    column_list = ("title", "status", "ce_hours", "delivery_type", "topic", "approvals")
    column_labels = {"ce_hours": "CE hours", "delivery_type": "Delivery", "approvals": "Approvals"}
    column_searchable_list = ("title", "slug", "topic")
    column_filters = ("status", "delivery_type", "level", "topic")
    column_default_sort = ("title", False)
    column_formatters = {
        "approvals": _approvals_column,
        "status": _status_column,
        "delivery_type": lambda v, c, m, n: DELIVERY_TYPES.get(m.delivery_type, m.delivery_type),
    }
    column_details_exclude_list = ("description_html",)
    form_columns = (
        "title",
        "slug",
        "status",
        "summary",
        "description",
        "objectives",
        "presenters",
        "presenter_bio",
        "ce_hours",
        "delivery_type",
        "level",
        "topic",
        "cover_image_url",
        "written_for",
        "approvals",
    )
    form_choices = {
        "delivery_type": list(DELIVERY_TYPES.items()),
        "level": list(LEVELS.items()),
        "status": [("draft", "Draft"), ("published", "Published")],
    }
    form_args = {
        "slug": {"validators": [DataRequired(), SLUG]},
        "ce_hours": {
            "label": "CE hours",
            "validators": [
                DataRequired("Enter the CE hours (more than 0)."),
                NumberRange(min=0.25, max=100, message="CE hours must be between 0.25 and 100."),
            ],
        },
        "summary": {"validators": [DataRequired("Write a one-line summary.")]},
        "topic": {"validators": [DataRequired("Name the topic (the catalog groups by it).")]},
        "description": {"description": "Markdown. Rendered and sanitized when you save."},
        "cover_image_url": {
            "validators": [
                Optional(),
                Regexp(r"^https://[^\s\"'<>]+$", message="Use an https:// address for the image."),
            ]
        },
        "objectives": {"description": "One learning objective per line."},
        "presenters": {"description": 'One "Name, credentials" per line.'},
    }
    form_widget_args = {
        "description": MARKDOWN,
        "objectives": {"rows": 4},
        "presenters": {"rows": 3},
        "presenter_bio": {"rows": 4},
    }
    form_extra_fields = {
        "written_for": SelectMultipleField(
            "Written for",
            choices=select_choices(PROFESSIONS.items()),
            widget=ListWidget(prefix_label=False),
            option_widget=CheckboxInput(),
        )
    }
    inline_models = (ApprovalInline(BoardApproval),)
    unique_messages = {"slug": "Another course already uses this slug: pick another."}

    def __init__(self, session, **kwargs) -> None:
        super().__init__(Course, session, **kwargs)

    def on_form_prefill(self, form, id) -> None:
        course = self.get_one(id)
        form.written_for.data = course.professions
        today = _today()
        for approval in course.approvals:
            if approval.valid_until and (approval.valid_until - today).days <= WARN_DAYS:
                word = "expired" if approval.valid_until < today else "expires"
                flash(
                    f"The {approval.board} approval {approval.approval_number} {word} on "
                    f"{approval.valid_until}: renew it with the board.",
                    "warning",
                )

    def validate_change(self, form, model, is_created: bool) -> None:
        _check_approvals(model.approvals, _today())
        wanted = set(form.written_for.data or [])
        model.audience = [a for a in model.audience if a.profession in wanted] + [
            CourseProfession(profession=p)
            for p in sorted(wanted - {a.profession for a in model.audience})
        ]
        if model.status == "published":
            db.session.flush()
            check_publishable(model)
            model.published_at = model.published_at or utcnow()

    def validate_delete(self, model) -> None:
        enrolled = db.session.scalar(
            select(func.count()).select_from(Enrollment).where(Enrollment.course_id == model.id)
        )
        if enrolled:
            raise ValidationError(
                f"{model.title} has {enrolled} enrollment{'s' if enrolled != 1 else ''}, so it "
                "cannot be deleted (students keep their progress and certificates). Unpublish "
                "it instead: set its status to Draft."
            )

    def _set_status(self, ids, status: str) -> None:
        done = 0
        try:
            for course in db.session.scalars(select(Course).where(Course.id.in_(ids))):
                if course.status == status:
                    continue
                before = snapshot(course)
                course.status = status
                if status == "published":
                    check_publishable(course)
                    course.published_at = course.published_at or utcnow()
                db.session.flush()
                action_name = "publish" if status == "published" else "unpublish"
                record(action_name, course, before=before, after=snapshot(course))
                done += 1
            db.session.commit()
        except ValidationError as exc:
            db.session.rollback()
            flash(str(exc), "error")
            return
        flash(f"{done} course{'s' if done != 1 else ''} set to {status}.", "success")

    @action("publish", "Publish", "Publish the selected courses?")
    def action_publish(self, ids) -> None:
        self._set_status([int(i) for i in ids], "published")

    @action("unpublish", "Unpublish (draft)", "Take the selected courses out of the catalog?")
    def action_unpublish(self, ids) -> None:
        self._set_status([int(i) for i in ids], "draft")


class ApprovalView(CatalogView):
    """Every board approval, soonest to expire first."""

    column_list = ("course", "board", "approval_number", "valid_until")
    column_default_sort = ("valid_until", False)
    column_filters = ("board", "valid_until", "course.title")
    column_searchable_list = ("board", "approval_number")
    column_formatters = {"valid_until": lambda v, c, m, n: approval_badge(m)}
    form_columns = ("course", "board", "approval_number", "valid_until")
    form_args = {
        "course": {"validators": [DataRequired("Choose the course.")], "get_label": "title"},
        "board": {"validators": [DataRequired("Name the board (e.g. NCBTMB).")]},
        "approval_number": {"validators": [DataRequired("Enter the approval number.")]},
    }

    def __init__(self, session, **kwargs) -> None:
        super().__init__(BoardApproval, session, **kwargs)

    def validate_change(self, form, model, is_created: bool) -> None:
        _check_approvals([model], _today())


class ModuleView(CatalogView):
    """Modules of each course, in position order."""

    column_list = ("course", "position", "title", "lessons")
    column_default_sort = [("course_id", False), ("position", False)]
    column_filters = ("course.title",)
    column_searchable_list = ("title",)
    column_formatters = {"lessons": lambda v, c, m, n: len(m.lessons)}
    form_columns = ("course", "position", "title", "summary")
    form_widget_args = {"position": {"required": False}}  # empty means "at the end"
    form_args = {
        "course": {"validators": [DataRequired("Choose the course.")], "get_label": "title"},
        "position": {
            "validators": [Optional(), NumberRange(min=1, message="Positions start at 1.")],
            "description": "Order within the course; leave empty to add it at the end.",
        },
        "title": {"validators": [DataRequired("Give the module a title.")]},
    }

    def __init__(self, session, **kwargs) -> None:
        super().__init__(Module, session, **kwargs)

    def validate_change(self, form, model, is_created: bool) -> None:
        course_id = model.course.id
        if model.position is None:
            model.position = _next_position(Module, course_id=course_id)
        taken = _position_taken(Module, model, course_id=course_id)
        if taken is not None:
            raise ValidationError(
                f"Position {model.position} is already taken by module “{taken.title}” in this "
                "course. Pick a free position, or move that module first."
            )
        if model.id is not None:
            # Lessons keep a copy of their module's place so the course order is one ORDER BY.
            db.session.execute(
                update(Lesson)
                .where(Lesson.module_id == model.id)
                .values(module_position=model.position, course_id=course_id)
            )


class LessonView(CatalogView):
    """Lessons: Markdown body (sanitized on save), optional video, order within the module."""

    column_list = ("course", "module", "position", "title", "estimated_minutes")
    column_labels = {"estimated_minutes": "Minutes"}
    column_default_sort = [("course_id", False), ("module_position", False), ("position", False)]
    column_filters = ("course.title", "module.title")
    column_searchable_list = ("title",)
    column_formatters = {
        "module": lambda v, c, m, n: f"{m.module_position}. {m.module.title}",
    }
    column_details_exclude_list = ("body_html",)
    form_columns = (
        "module",
        "position",
        "title",
        "body_markdown",
        "video_url",
        "estimated_minutes",
    )
    form_extra_fields = {
        "video_url": StringField(
            "Video link",
            validators=[Optional()],
            description="A YouTube or Vimeo link (embedded privacy-friendly), or empty.",
        )
    }
    form_args = {
        "module": {
            "validators": [DataRequired("Choose the module.")],
            "description": "The course and module the lesson belongs to.",
        },
        "position": {
            "validators": [Optional(), NumberRange(min=1, message="Positions start at 1.")],
            "description": "Order within the module; leave empty to add it at the end.",
        },
        "title": {"validators": [DataRequired("Give the lesson a title.")]},
        "body_markdown": {"label": "Lesson (Markdown)"},
        "estimated_minutes": {
            "validators": [
                DataRequired("Estimate the minutes."),
                NumberRange(min=1, max=600, message="Minutes must be between 1 and 600."),
            ]
        },
    }
    form_widget_args = {"body_markdown": MARKDOWN, "position": {"required": False}}

    def __init__(self, session, **kwargs) -> None:
        super().__init__(Lesson, session, **kwargs)

    def _module_label(self, module: Module) -> str:
        return f"{module.course.title} — {module.position}. {module.title}"

    def scaffold_form(self):
        form_class = super().scaffold_form()
        form_class.module.kwargs["get_label"] = self._module_label
        return form_class

    def on_form_prefill(self, form, id) -> None:
        form.video_url.data = self.get_one(id).video_embed_url or ""

    def validate_change(self, form, model, is_created: bool) -> None:
        try:
            model.video_embed_url = video_embed_url(form.video_url.data)
        except VideoURLError as exc:
            raise ValidationError(f"Video link: {exc}") from None
        module = model.module
        model.course_id = module.course_id
        model.module_position = module.position
        if model.position is None:
            model.position = _next_position(Lesson, module_id=module.id)
        taken = _position_taken(Lesson, model, module_id=module.id)
        if taken is not None:
            raise ValidationError(
                f"Position {model.position} is already taken by lesson “{taken.title}” in this "
                "module. Pick a free position, or move that lesson first."
            )


class QuizView(CatalogView):
    """Each course's final quiz: pass mark and daily attempts."""

    column_list = ("course", "title", "pass_mark_percent", "attempts_per_day", "questions")
    column_labels = {"pass_mark_percent": "Pass mark %", "attempts_per_day": "Attempts a day"}
    column_formatters = {"questions": lambda v, c, m, n: len(m.questions)}
    form_columns = ("course", "title", "instructions", "pass_mark_percent", "attempts_per_day")
    form_args = {
        "course": {"validators": [DataRequired("Choose the course.")], "get_label": "title"},
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

    def validate_change(self, form, model, is_created: bool) -> None:
        with db.session.no_autoflush:
            other = db.session.scalar(
                select(Quiz).where(Quiz.course_id == model.course.id, Quiz.id != (model.id or 0))
            )
        if other is not None:
            raise ValidationError("That course already has a quiz: edit it instead.")


class ChoiceInline(InlineFormAdmin):
    """Answer options, edited inside their question."""

    form_base_class = BaseForm

    form_columns = ("id", "text", "is_correct")
    form_label = "Answer"
    form_args = {
        "text": {"validators": [DataRequired("An answer needs text.")]},
        "is_correct": {"label": "Correct"},
    }


class QuestionView(CatalogView):
    """Quiz questions and their answers; every question needs a correct answer."""

    column_list = ("quiz", "position", "prompt", "kind", "choices")
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
    form_columns = ("quiz", "position", "prompt", "kind", "explanation", "choices")
    form_choices = {"kind": list(QUESTION_KINDS.items())}
    form_args = {
        "quiz": {"validators": [DataRequired("Choose the quiz.")]},
        "position": {
            "validators": [Optional(), NumberRange(min=1, message="Positions start at 1.")],
            "description": "Order within the quiz; leave empty to add it at the end.",
        },
        "prompt": {"validators": [DataRequired("Write the question.")]},
        "explanation": {"description": "Shown after the student passes."},
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

    def validate_change(self, form, model, is_created: bool) -> None:
        choices = [c for c in model.choices if c.text and c.text.strip()]
        if len(choices) < 2:
            raise ValidationError("A question needs at least two answers.")
        correct = sum(1 for c in choices if c.is_correct)
        if correct == 0:
            raise ValidationError("Mark at least one answer as correct.")
        if model.kind == "single" and correct > 1:
            raise ValidationError(
                "A “choose one” question can have only one correct answer: mark one, or make it "
                "a “choose every correct answer” question."
            )
        quiz = model.quiz
        if model.position is None:
            model.position = _next_position(Question, quiz_id=quiz.id)
        taken = _position_taken(Question, model, quiz_id=quiz.id)
        if taken is not None:
            raise ValidationError(
                f"Position {model.position} is already taken by another question in this quiz."
            )
        # Number the answers in the order shown; park them first so the swap never collides.
        with db.session.no_autoflush:
            for index, choice in enumerate(model.choices, start=1):
                choice.position = -index
        db.session.flush()
        for index, choice in enumerate(model.choices, start=1):
            choice.position = index

    def validate_delete(self, model) -> None:
        course = model.quiz.course
        remaining = len(model.quiz.questions) - 1
        if course.status == "published" and remaining < 1:
            raise ValidationError(
                "This is the last question of a published course's quiz. Add another question "
                "or unpublish the course first."
            )


def add_views(admin, session) -> None:
    """Add the catalog views under "Catalog"."""
    cat = "Catalog"
    admin.add_view(
        CourseView(session, name="Courses", category=cat, endpoint="admin_courses", url="courses")
    )
    admin.add_view(
        ModuleView(session, name="Modules", category=cat, endpoint="admin_modules", url="modules")
    )
    admin.add_view(
        LessonView(session, name="Lessons", category=cat, endpoint="admin_lessons", url="lessons")
    )
    admin.add_view(
        QuizView(session, name="Quizzes", category=cat, endpoint="admin_quizzes", url="quizzes")
    )
    admin.add_view(
        QuestionView(
            session,
            name="Quiz questions",
            category=cat,
            endpoint="admin_questions",
            url="questions",
        )
    )
    admin.add_view(
        ApprovalView(
            session,
            name="Board approvals",
            category=cat,
            endpoint="admin_approvals",
            url="approvals",
        )
    )

"""Catalog admin: courses, approvals, modules, lessons, quizzes, questions and choices.

The forms are here; the rules, the positions and the audit entries are learning's actions
(`campus.learning.actions`), which every save, delete, publish and unpublish goes through.
Lesson and course Markdown is rendered (and sanitized) by the models the moment it is set.
"""

from __future__ import annotations

from flask import flash, g, url_for
from flask_admin.actions import action
from flask_admin.contrib.sqla.validators import Unique
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import select
from wtforms import SelectMultipleField, StringField
from wtforms.validators import (
    DataRequired,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from campus import dates
from campus.accounts.models import PROFESSIONS
from campus.admin.approval_fields import WARN_DAYS, ApprovalInline, approvals_column
from campus.admin.base import AuditedModelView, select_choices
from campus.admin.conflicts import GuardedEdits
from campus.extensions import db
from campus.learning import actions
from campus.learning.access import LearningError
from campus.learning.keeping import refusal
from campus.learning.models import (
    DELIVERY_TYPES,
    LEVELS,
    SUBJECTS,
    BoardApproval,
    Course,
    Lesson,
    Module,
)
from campus.programs.actions import check_unpublish, programs_listing

SLUG = Regexp(r"^[a-z0-9]+(?:-[a-z0-9]+)*$", message="Use lower-case words joined by hyphens.")
# A widget's "class" replaces Flask-Admin's form-control (its full width): keep both.
MARKDOWN = {"class": "form-control markdown-editor", "rows": 14}


def _title_column(view, context, model, name) -> Markup:
    url = url_for("admin_outline.index", course_id=model.id)
    return Markup(f'<a href="{url}" title="Open the course outline">{escape(model.title)}</a>')


def _warn(message: str | None) -> None:
    if message:
        flash(message, "warning")


def _status_column(view, context, model, name) -> Markup:
    css = "badge-ok" if model.status == "published" else "badge-muted"
    return Markup(f'<span class="badge {css}">{escape(model.status)}</span>')


class CatalogView(GuardedEdits, AuditedModelView):
    """Shared settings of the catalog and library views."""

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


class CourseCatalogView(CatalogView):
    """A view of a course's parts: every save and delete is one of learning's actions."""

    def save(self, form, model, before: dict | None, actor) -> None:
        """Save through the learning action for this kind of object (it applies the rules)."""
        raise NotImplementedError(f"{type(self).__name__} names no save action")

    def delete_action(self, model, actor) -> None:
        """Delete through learning's actions (they log the deletion)."""
        actions.delete(model, actor=actor)

    def on_model_change(self, form, model, is_created: bool) -> None:
        before = None if is_created else g.pop("admin_audit_before", None)
        try:
            self.save(form, model, before, current_user._get_current_object())
        except LearningError as exc:
            raise ValidationError(exc.message) from None

    def delete_model(self, model) -> bool:
        try:
            self.delete_action(model, current_user._get_current_object())
            db.session.commit()
        except LearningError as exc:
            db.session.rollback()
            flash(exc.message, "error")
            return False
        except Exception as exc:
            # As Flask-Admin's own delete does: a sentence for the admin, the details logged.
            db.session.rollback()
            self.handle_view_exception(exc)
            return False
        self.after_model_delete(model)
        return True


class CourseView(CourseCatalogView):
    """Courses: details, audience, CE hours, board approvals, draft / published."""

    column_list = ("title", "status", "ce_hours", "delivery_type", "topic", "approvals")
    column_labels = {"ce_hours": "CE hours", "delivery_type": "Delivery", "approvals": "Approvals"}
    column_searchable_list = ("title", "slug", "topic")
    column_filters = ("status", "delivery_type", "level", "topic")
    column_default_sort = ("title", False)
    column_formatters = {
        "title": _title_column,
        "approvals": approvals_column,
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
        "subjects",
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
        "presenters": {
            "description": (
                'One "Name, credentials" per line: the instructors who taught the course, '
                "who sign its certificates beside the signatory."
            )
        },
    }
    form_widget_args = {
        "description": MARKDOWN,
        # A list of checkboxes, not a one-line input box the boxes would spill out of.
        "written_for": {"class": "checkbox-list"},
        "subjects": {"class": "checkbox-list"},
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
        ),
        # Matched against renewal rules' required subjects (campus.licenses.tracker).
        "subjects": SelectMultipleField(
            "Subjects covered",
            choices=select_choices(SUBJECTS.items()),
            widget=ListWidget(prefix_label=False),
            option_widget=CheckboxInput(),
            description="Tick a subject only when the course is approved as that subject.",
        ),
    }
    inline_models = (ApprovalInline(BoardApproval),)
    unique_messages = {"slug": "Another course already uses this slug: pick another."}

    def __init__(self, session, **kwargs) -> None:
        super().__init__(Course, session, **kwargs)

    def on_form_prefill(self, form, id) -> None:
        course = self.get_one(id)
        form.written_for.data = course.professions
        today = dates.today()
        for approval in course.approvals:
            if (
                approval.valid_until
                and (approval.valid_until - today).days <= WARN_DAYS
                and not approval.renewed  # its successor is entered already
            ):
                word = "expired" if approval.valid_until < today else "expires"
                flash(
                    f"The {approval.board} approval {approval.approval_number} {word} on "
                    f"{approval.valid_until}: renew it with the board.",
                    "warning",
                )

    def save(self, form, model, before: dict | None, actor) -> None:
        if (before or {}).get("status") == "published" and model.status != "published":
            _warn(check_unpublish(model, before))
        actions.save_course(
            model, before=before, actor=actor, professions=form.written_for.data or []
        )

    def delete_action(self, model, actor) -> None:
        if listing := programs_listing(model.id):
            # The database would take it out of each program's requirements, unlogged.
            raise refusal(
                f"{model.title} is a course of {', '.join(listing)}, so it cannot be deleted: "
                "take it out of the program first, or set its status to Draft."
            )
        actions.delete_course(model, actor=actor)

    def _set_status(self, ids, status: str) -> None:
        change = actions.publish if status == "published" else actions.unpublish
        actor = current_user._get_current_object()
        done = 0
        try:
            warnings = []
            for course in db.session.scalars(select(Course).where(Course.id.in_(ids))):
                if status != "published" and course.status == "published":
                    warnings.append(check_unpublish(course))
                done += change(course, actor=actor)
            db.session.commit()
        except LearningError as exc:
            db.session.rollback()
            flash(exc.message, "error")
            return
        for warning in warnings:
            _warn(warning)
        flash(f"{done} course{'s' if done != 1 else ''} set to {status}.", "success")

    @action("publish", "Publish", "Publish the selected courses?")
    def action_publish(self, ids) -> None:
        self._set_status([int(i) for i in ids], "published")

    @action("unpublish", "Unpublish (draft)", "Take the selected courses out of the catalog?")
    def action_unpublish(self, ids) -> None:
        self._set_status([int(i) for i in ids], "draft")


class ModuleView(CourseCatalogView):
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

    def save(self, form, model, before: dict | None, actor) -> None:
        actions.save_module(model, before=before, actor=actor)


class LessonView(CourseCatalogView):
    """Lessons: Markdown body (sanitized on save), optional video, order within the module."""

    column_list = ("course", "module", "position", "title", "estimated_minutes")
    column_labels = {"estimated_minutes": "Minutes"}
    column_default_sort = [("course_id", False), ("module_position", False), ("position", False)]
    column_filters = ("course.title", "module.title")
    column_searchable_list = ("title",)
    column_formatters = {
        "module": lambda v, c, m, n: f"{m.module_position}. {m.module.title}",
    }
    column_details_exclude_list = ("body_html", "transcript_html")
    form_columns = (
        "module",
        "position",
        "title",
        "body_markdown",
        "video_url",
        "transcript",
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
        "transcript": {
            "label": "Video transcript (Markdown)",
            "description": "What the video shows and says, for those who cannot watch or hear "
            "it. Required for a lesson with a video before its course is published.",
        },
        "estimated_minutes": {
            "validators": [
                DataRequired("Estimate the minutes."),
                NumberRange(min=1, max=600, message="Minutes must be between 1 and 600."),
            ]
        },
    }
    form_widget_args = {
        "body_markdown": MARKDOWN,
        "transcript": MARKDOWN,
        "position": {"required": False},
    }

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

    def save(self, form, model, before: dict | None, actor) -> None:
        actions.save_lesson(model, before=before, actor=actor, video_url=form.video_url.data)


def add_views(admin, session) -> None:
    """Add the catalog views under "Catalog"."""
    from campus.admin.approvals import ApprovalView
    from campus.admin.outline import CourseOutlineView
    from campus.admin.quizzes import QuestionView, QuizView

    cat = "Catalog"
    admin.add_view(
        CourseOutlineView(
            name="Course outline", category=cat, endpoint="admin_outline", url="course-outline"
        )
    )
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

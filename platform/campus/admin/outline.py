"""A course on one page: modules, lessons and quiz as a tree, reordering, student previews.

The edits themselves stay on the course, module, lesson and quiz forms; this page links to
them and moves modules and lessons through learning's actions, which audit every move.
"""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_admin import expose
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from campus.admin.approval_fields import approval_badge
from campus.admin.base import AdminPage
from campus.admin.forms import ActionForm, MoveForm
from campus.extensions import db
from campus.learning import actions
from campus.learning.models import Course, Lesson, Module, Quiz


class CourseOutlineView(AdminPage):
    """/admin/course-outline/<id>/: one course as a tree of its parts."""

    def is_visible(self) -> bool:
        return False  # opened from the course list, not the menu

    def _course_or_404(self, course_id: int) -> Course:
        course = db.session.scalar(
            select(Course)
            .where(Course.id == course_id)
            .options(
                selectinload(Course.modules).selectinload(Module.lessons),
                selectinload(Course.approvals),
                selectinload(Course.quiz).selectinload(Quiz.questions),
            )
        )
        if course is None:
            abort(404)
        return course

    @expose("/")
    def pick(self):
        """Send a bare outline address to the course list, where each title opens its outline."""
        return redirect(url_for("admin_courses.index_view"))

    @expose("/<int:course_id>/")
    def index(self, course_id: int):
        """Show the course with its modules, lessons and quiz, each with edit and preview links."""
        course = self._course_or_404(course_id)
        return self.render(
            "admin/campus/course_outline.html",
            course=course,
            approval_badge=approval_badge,
            move_form=MoveForm(),
            action_form=ActionForm(),
        )

    @expose("/<int:course_id>/move", methods=("POST",))
    def move(self, course_id: int):
        """Move a module or lesson of this course one place up or down."""
        course = self._course_or_404(course_id)
        form = MoveForm()
        back = url_for(".index", course_id=course.id)
        if not form.validate_on_submit():
            flash("Nothing was moved: the request was not understood.", "error")
            return redirect(back)
        item: Module | Lesson | None
        if form.kind.data == "module":
            item = db.session.get(Module, form.item_id.data)
        else:
            item = db.session.get(Lesson, form.item_id.data)
        if item is None or item.course_id != course.id:
            flash(f"Nothing was moved: that {form.kind.data} is not in this course.", "error")
            return redirect(back)
        step = -1 if form.direction.data == "up" else 1
        actor = current_user._get_current_object()
        if isinstance(item, Module):
            moved = actions.move_module(item, step, actor=actor)
        else:
            moved = actions.move_lesson(item, step, actor=actor)
        if moved:
            db.session.commit()
            flash(f"“{item.title}” moved {form.direction.data}.", "success")
        else:
            flash(f"“{item.title}” is already at the {'top' if step < 0 else 'bottom'}.", "info")
        return redirect(f"{back}#{form.kind.data}-{item.id}")

"""Directory moderation: find a profile, hide it with a reason (emailed), unhide it.

Hiding and unhiding are `campus.directory.actions` (the change, the email, the audit entry);
the admin adds the fresh-password check.
"""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_admin import expose
from flask_login import current_user
from markupsafe import Markup, escape

from campus.admin.base import AuditedModelView
from campus.admin.refusals import details_again, flash_form_refusals
from campus.directory import actions
from campus.directory.forms import ReasonForm
from campus.directory.models import DirectoryProfile
from campus.directory.services import DirectoryError
from campus.extensions import db
from campus.templating import format_date


def _status(view, context, model, name) -> Markup:
    if model.hidden_at is not None:
        return Markup('<span class="badge badge-danger">hidden by moderator</span>')
    if model.published_at is not None:
        return Markup('<span class="badge badge-ok">published</span>')
    return Markup('<span class="badge badge-muted">private</span>')


def _name(view, context, model, name) -> Markup:
    url = url_for("directory.profile", slug=model.slug)
    if not model.is_listed:
        return Markup(escape(model.display_name))
    return Markup(f'<a href="{url}">{escape(model.display_name)}</a>')


class DirectoryProfileView(AuditedModelView):
    """Every directory profile: search, read, hide with a reason, unhide."""

    can_create = can_edit = can_delete = False
    column_list = ("display_name", "user", "city", "state", "zip_code", "status", "updated_at")
    column_labels = {"user": "Member", "zip_code": "ZIP", "display_name": "Name"}
    column_default_sort = ("updated_at", True)
    column_searchable_list = ("display_name", "practice_name", "slug", "zip_code", "user.email")
    column_filters = ("published_at", "hidden_at", "state")
    column_formatters = {
        "status": _status,
        "display_name": _name,
        "user": lambda v, c, m, n: m.user.email,
        "updated_at": lambda v, c, m, n: format_date(m.updated_at, "%Y-%m-%d"),
    }
    details_template = "admin/campus/directory_profile_details.html"
    sensitive_views = ("hide",)

    def search_placeholder(self) -> str:
        return "Name, practice, ZIP or member email"

    def __init__(self, session, **kwargs) -> None:
        super().__init__(DirectoryProfile, session, **kwargs)

    def render(self, template, **kwargs):
        kwargs.setdefault("reason_form", ReasonForm(prefix="hide"))
        return super().render(template, **kwargs)

    def _profile(self, profile_id: int) -> DirectoryProfile:
        profile = db.session.get(DirectoryProfile, profile_id)
        if profile is None:
            abort(404)
        return profile

    @expose("/<int:profile_id>/hide", methods=("POST",))
    def hide(self, profile_id: int):
        """Hide a profile with a reason emailed to the practitioner (fresh password needed)."""
        profile = self._profile(profile_id)
        back = redirect(url_for(".details_view", id=profile_id))
        form = ReasonForm(prefix="hide")
        if not form.validate_on_submit():
            flash_form_refusals("Nothing changed", form)
            return details_again(self, profile, reason_form=form)
        try:
            actions.hide_profile(
                profile, form.reason.data or "", actor=current_user._get_current_object()
            )
            db.session.commit()
        except DirectoryError as exc:
            db.session.rollback()
            flash(exc.message, "error")
            return back
        flash(f"{profile.display_name} is hidden; we emailed them the reason.", "success")
        return back

    @expose("/<int:profile_id>/unhide", methods=("POST",))
    def unhide(self, profile_id: int):
        """Lift the moderator's hiding of a profile."""
        profile = self._profile(profile_id)
        back = redirect(url_for(".details_view", id=profile_id))
        try:
            actions.unhide_profile(profile, actor=current_user._get_current_object())
            db.session.commit()
        except DirectoryError as exc:
            db.session.rollback()
            flash(exc.message, "error")
            return back
        flash(f"{profile.display_name} is no longer hidden by a moderator.", "success")
        return back


def add_views(admin, session) -> None:
    """Add the directory moderation view."""
    admin.add_view(
        DirectoryProfileView(session, name="Directory", endpoint="admin_directory", url="directory")
    )

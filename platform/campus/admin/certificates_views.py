"""Certificates admin: search, read the frozen data and history, revoke with a reason, reissue.

Revoking and reissuing are `campus.certificates.actions` (their rules, history, audit entry and
the reissue task); the admin adds the fresh-password check.
"""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_admin import expose
from flask_login import current_user
from markupsafe import Markup, escape

from campus.admin.base import AuditedModelView
from campus.admin.forms import CertificateChangeForm
from campus.admin.refusals import details_again, flash_form_refusals
from campus.admin.services import AdminActionError
from campus.certificates import actions as certificate_actions
from campus.certificates.models import Certificate, printed_date_of
from campus.certificates.services import CertificateError, find
from campus.extensions import db
from campus.templating import format_date

STATUS_CSS = {"issued": "badge-ok", "revoked": "badge-danger", "failed": "badge-warn"}


def _status(view, context, model, name) -> Markup:
    css = STATUS_CSS.get(model.status, "badge-muted")
    return Markup(f'<span class="badge {css}">{escape(model.status_label)}</span>')


def _member(view, context, model, name) -> Markup:
    url = url_for("admin_members.member", user_id=model.user_id)
    return Markup(f'<a href="{url}">{escape(model.user.email)}</a>')


def change_certificate(
    certificate_id: int, action: str, reason: str, shown_code: str | None = None
) -> Certificate:
    """Revoke or reissue a certificate through the certificates' action (which logs it).

    `shown_code` is the code on the page the admin acted from: a code retired since is refused.
    """
    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None:
        raise AdminActionError("There is no such certificate.")
    if shown_code:
        found = find(shown_code)
        if found is None or found.certificate.id != certificate.id:
            raise AdminActionError("That code is not this certificate's.")
    change = certificate_actions.revoke if action == "revoke" else certificate_actions.reissue
    try:
        return change(
            shown_code or certificate.code, reason, actor=current_user._get_current_object()
        )
    except CertificateError as exc:
        raise AdminActionError(exc.message) from exc


class CertificateView(AuditedModelView):
    """Every certificate: find it by code, member or course; revoke or reissue it."""

    can_create = can_edit = can_delete = False
    column_list = ("code", "user", "course", "status", "ce_hours", "completed_at", "issued_at")
    column_labels = {"user": "Member", "ce_hours": "CE hours", "completed_at": "Completed"}
    column_default_sort = ("created_at", True)
    column_searchable_list = ("code", "user.email", "user.full_name")
    column_filters = ("status", "issued_at", "completed_at")
    column_formatters = {
        "status": _status,
        "user": _member,
        "course": lambda v, c, m, n: (m.data or {}).get("course_title", "—"),
        # The day the certificate prints, not the moment's day on today's calendar.
        "completed_at": lambda v, c, m, n: format_date(
            printed_date_of(m.data, m.completed_at), "%Y-%m-%d"
        ),
        "issued_at": lambda v, c, m, n: (
            format_date(m.issued_at, "%Y-%m-%d") if m.issued_at else "—"
        ),
    }

    def search_placeholder(self) -> str:
        return "Code, member name or email"

    details_template = "admin/campus/certificate_details.html"
    sensitive_views = ("revoke", "reissue")

    def __init__(self, session, **kwargs) -> None:
        super().__init__(Certificate, session, **kwargs)

    def render(self, template, **kwargs):
        model = kwargs.get("model")
        shown = model.code if isinstance(model, Certificate) else None
        kwargs.setdefault("revoke_form", CertificateChangeForm(prefix="revoke", code=shown))
        kwargs.setdefault("reissue_form", CertificateChangeForm(prefix="reissue", code=shown))
        # Issued, or being reissued: a reissue not drawn (or given up) does not block it.
        revocable = isinstance(model, Certificate) and certificate_actions.revocable(model)
        kwargs.setdefault("revocable", revocable)
        return super().render(template, **kwargs)

    def _change(self, certificate_id: int, action: str):
        certificate = db.session.get(Certificate, certificate_id)
        if certificate is None:
            abort(404)
        form = CertificateChangeForm(prefix=action)
        back = redirect(url_for(".details_view", id=certificate_id))
        if not form.validate_on_submit():
            flash_form_refusals("Nothing changed", form)
            return details_again(self, certificate, **{f"{action}_form": form})
        try:
            certificate = change_certificate(
                certificate_id, action, form.reason.data, form.code.data
            )
            db.session.commit()
        except AdminActionError as exc:
            db.session.rollback()
            flash(str(exc), "error")
            return back
        if action == "revoke":
            flash(
                f"Certificate {certificate.code} is revoked; its verification page says so.",
                "success",
            )
        else:
            flash(f"The certificate was reissued as {certificate.code}.", "success")
        return back

    @expose("/<int:certificate_id>/revoke", methods=("POST",))
    def revoke(self, certificate_id: int):
        """Revoke a certificate with a reason (fresh password needed)."""
        return self._change(certificate_id, "revoke")

    @expose("/<int:certificate_id>/reissue", methods=("POST",))
    def reissue(self, certificate_id: int):
        """Reissue a certificate under a new code (fresh password needed)."""
        return self._change(certificate_id, "reissue")


def add_views(admin, session) -> None:
    """Add the certificates view."""
    admin.add_view(
        CertificateView(
            session, name="Certificates", endpoint="admin_certificates", url="certificates"
        )
    )

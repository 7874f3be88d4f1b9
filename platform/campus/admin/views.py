"""The dashboard, the password confirmation step and the audit log."""

from __future__ import annotations

import json
import re
from datetime import datetime

from flask import flash, redirect, request, url_for
from flask_admin import AdminIndexView, expose
from flask_login import current_user
from markupsafe import Markup, escape

from campus.accounts.access import code_checks, password_checks
from campus.admin import charts, dashboard, security
from campus.admin.base import AdminPage, AuditedModelView, CampusFilterConverter, SecureMixin
from campus.admin.forms import ConfirmPasswordForm
from campus.admin.models import AuditEntry
from campus.extensions import limiter
from campus.templating import format_money
from campus.throttling import by_user, failed, setting


class DashboardView(SecureMixin, AdminIndexView):
    """/admin/: the figures that run the business, as charts."""

    @expose("/")
    def index(self):
        """Show the dashboard."""
        board = dashboard.build()
        chart = {
            "members": charts.bar_chart(
                board.new.months,
                [
                    ("New members", board.new.values, "series-a"),
                    ("Churned members", board.churned.values, "series-b"),
                ],
                "New and churned members per month",
            )
        }
        if board.enrollments is not None:
            chart["learning"] = charts.bar_chart(
                board.enrollments.months,
                [
                    ("Enrollments", board.enrollments.values, "series-a"),
                    ("Completions", board.completions.values, "series-c"),
                ],
                "Enrollments and completions per month",
            )
            chart["ce_hours"] = charts.line_chart(
                board.ce_hours.months,
                board.ce_hours.values,
                "CE hours delivered per month",
                "series-c",
                whole=False,  # hours come in halves and quarters
            )
        if board.certificates is not None:
            chart["certificates"] = charts.line_chart(
                board.certificates.months,
                board.certificates.values,
                "Certificates issued per month",
                "series-d",
            )
        if board.leads is not None:
            chart["leads"] = charts.hbar_chart(
                [(title, count) for _slug, title, count in board.leads], "Leads per download"
            )
        approval_badge = None
        if board.enrollments is not None:
            from campus.admin.approval_fields import approval_badge
        return self.render(
            "admin/campus/dashboard.html",
            approval_badge=approval_badge,
            board=board,
            chart=chart,
            mrr=format_money(board.mrr_cents),
        )


class ConfirmView(AdminPage):
    """Re-enter the password (and a code) before sensitive actions (valid for ten minutes)."""

    def is_visible(self) -> bool:
        return False

    @expose("/", methods=("GET", "POST"))
    @limiter.limit(
        setting("ADMIN_CONFIRM_RATE_LIMIT"), key_func=by_user, methods=["POST"], deduct_when=failed
    )
    @password_checks  # and the budgets every form that checks a password or a code shares
    @code_checks
    def index(self):
        """Ask for the admin's password and code, and remember the confirmation."""
        from campus.extensions import db

        form = ConfirmPasswordForm()
        target = security.safe_next(request.args.get("next"), url_for("admin.index"))
        if form.validate_on_submit():
            user = current_user._get_current_object()
            wrong = security.confirm(user, form.password.data, form.code.data)
            db.session.commit()  # the outcome's audit entry, refused or accepted
            if wrong == "password":
                form.password.errors.append("That is not your password.")
            elif wrong == "code":
                form.code.errors.append("That code is not right. Enter the current code.")
            else:
                security.mark_fresh()
                flash("Thanks. Sensitive actions are open for the next ten minutes.", "success")
                return redirect(target)
        status = 422 if form.is_submitted() else 200
        return self.render("admin/campus/confirm.html", form=form, target=target), status


def _json_block(value) -> Markup:
    if value is None:
        return Markup('<span class="muted">—</span>')
    text = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)
    return Markup(f'<pre class="json" tabindex="0">{escape(text)}</pre>')


def _when(moment: datetime) -> Markup:
    """An entry's time in UTC for the list: the date and the time may wrap apart, never within."""
    # A narrow column otherwise broke it as "2026-12-" / "05" / "17:40:01" / "UTC".
    return Markup(
        '<span class="keep-together">{}</span> <span class="keep-together">{}</span>'
    ).format(moment.strftime("%Y-%m-%d"), moment.strftime("%H:%M:%S UTC"))


def _action(name: str) -> Markup:
    """An entry's action for the list, free to wrap after each "_" or "." of its name."""
    # As one word "program_credential_issue_again" set the column's width and pushed the
    # Summary past the table's box at 1280 px; <wbr> breaks it only between its words.
    return Markup("<wbr>").join(re.split(r"(?<=[_.])", name))


def wrapped_addresses(text: str | None) -> Markup:
    """Text for the list whose email addresses wrap only after their "@", a "." or a "-"."""
    # The cell's `overflow-wrap: anywhere` broke an address mid-name ("campus.examp" / "le");
    # each part is kept whole and <wbr> offers a break only between parts.
    if not text:
        return Markup("")
    pieces = []
    for token in re.split(r"(\S+@\S+)", text):
        if "@" not in token:
            pieces.append(escape(token))
            continue
        parts = [p for p in re.split(r"(?<=[@.-])(?=.)", token) if p]
        pieces.append(
            Markup("<wbr>").join(
                Markup('<span class="keep-together">{}</span>').format(p) for p in parts
            )
        )
    return Markup("").join(pieces)


class AuditLogView(AuditedModelView):
    """Every admin change: who, what, when, before and after; read-only."""

    can_create = can_edit = can_delete = False
    filter_converter = CampusFilterConverter(utc=True)  # the log shows its times in UTC
    column_default_sort = ("created_at", True)
    column_list = (
        "created_at",
        "actor_email",
        "ip_address",
        "action",
        "object_type",
        "object_id",
        "summary",
    )
    column_labels = {
        "created_at": "When",
        "actor_email": "By",
        "ip_address": "From",
        "object_type": "Object",
        "object_id": "Id",
    }
    column_filters = (
        "action",
        "object_type",
        "object_id",
        "actor_email",
        "ip_address",
        "created_at",
    )
    column_searchable_list = ("summary", "actor_email", "object_id", "ip_address")
    column_details_list = (
        "created_at",
        "actor_email",
        "ip_address",
        "action",
        "object_type",
        "object_id",
        "summary",
        "before",
        "after",
    )
    column_formatters = {
        "created_at": lambda v, c, m, n: _when(m.created_at),
        "action": lambda v, c, m, n: _action(m.action),
        "actor_email": lambda v, c, m, n: wrapped_addresses(m.actor_email),
        "summary": lambda v, c, m, n: wrapped_addresses(m.summary),
    }
    column_formatters_detail = {
        "before": lambda v, c, m, n: _json_block(m.before),
        "after": lambda v, c, m, n: _json_block(m.after),
        "created_at": lambda v, c, m, n: m.created_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
    }

    def __init__(self, session, **kwargs) -> None:
        super().__init__(AuditEntry, session, **kwargs)

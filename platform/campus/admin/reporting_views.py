"""Reporting admin: every completion reported to CE Broker (status, resend) and the roster file.

Resending is `campus.reporting.actions.resend` (its rules and audit entry); the admin adds the
fresh-password check. The roster download is a bulk read of members' licenses, so it needs the
fresh password like every export, and writes its own audit entry.
"""

from __future__ import annotations

from datetime import datetime

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.sqla.filters import FilterEqual
from flask_login import current_user
from markupsafe import Markup, escape
from werkzeug.wrappers import Response

from campus import dates
from campus.admin.base import AdminPage, AuditedModelView
from campus.admin.refusals import flash_refusal
from campus.audit import record
from campus.daterange import DateRangeError, parse_range
from campus.extensions import db
from campus.reporting import actions as reporting_actions
from campus.reporting import reading, sending, superseded
from campus.reporting.models import STATUSES, ReportedCompletion, withdrawal_due_clause
from campus.reporting.services import ReportingError
from campus.templating import counted, format_date

STATUS_CSS = {
    "accepted": "badge-ok",
    "rejected": "badge-danger",
    "failed": "badge-danger",
    "cancelled": "badge-muted",
    "not_configured": "badge-warn",
}


def _status(view, context, model, name) -> Markup:
    css = STATUS_CSS.get(model.status, "badge-muted")
    label = model.status.replace("_", " ")
    badge = Markup(f'<span class="badge {css}">{escape(label)}</span>')
    if model.unanswered_at is not None and model.status in ("pending", "sent", "failed"):
        # A send went unanswered: CE Broker may hold it, whatever the tries since have said.
        badge += Markup(' <span class="badge badge-warn">may be held</span>')
    if model.moved_at is not None:
        # Reissued for a license in another state: this board is not the licensee's any more.
        badge += Markup(' <span class="badge badge-muted">license moved</span>')
    if model.withdrawal_pending:
        badge += Markup(' <span class="badge badge-danger">withdrawal due</span>')
    if model.superseded_due_at is not None:
        # Accepted under a license number since corrected: that record is still on it.
        numbers = ", ".join(superseded.numbers_due(model))
        badge += Markup(
            f' <span class="badge badge-danger">withdrawal due under {escape(numbers)}</span>'
        )
    if model.withdrawn_at is not None and not model.withdrawal_pending:
        badge += Markup(' <span class="badge badge-muted">withdrawn</span>')
    return badge


class WithdrawalFilter(FilterEqual):
    """Completions with a record a board may still hold (due), or those marked withdrawn."""

    def apply(self, query, value, alias=None):
        if value == "withdrawn":
            return query.filter(ReportedCompletion.withdrawn_at.is_not(None))
        return query.filter(withdrawal_due_clause())

    def operation(self):
        return "is"


def _certificate(view, context, model, name) -> Markup:
    url = url_for("admin_certificates.details_view", id=model.certificate_id)
    return Markup(f'<a href="{url}">{escape(model.certificate.code)}</a>')


def _member(view, context, model, name) -> Markup:
    user = model.certificate.user
    url = url_for("admin_members.member", user_id=user.id)
    return Markup(f'<a href="{url}">{escape(user.email)}</a>')


# The fields a send carried, as the details page names them.
_SENT_LABELS = {
    "first_name": "First name",
    "last_name": "Last name",
    "license_number": "License number",
    "profession_code": "Profession code",
    "jurisdiction": "Jurisdiction",
    "course_title": "Course",
    "course_number": "Course number",
    "completed_on": "Completed on",
    "ce_hours": "CE hours",
    "certificate_code": "Certificate",
}


def _sent(view, context, model, name) -> Markup:
    if not model.sent:
        return Markup('<span class="muted">not sent yet</span>')
    rows = "".join(
        f"<dt>{escape(label)}</dt><dd>{escape(model.sent.get(key) or '')}</dd>"
        for key, label in _SENT_LABELS.items()
    )
    return Markup(f'<dl class="facts sent-record">{rows}</dl>')


def _superseded(view, context, model, name) -> Markup:
    rows = ""
    for held in model.superseded or []:
        number = (held.get("sent") or {}).get("license_number") or "(none)"
        withdrawn = str(held.get("withdrawn_at") or "")[:10]
        state = f"withdrawn {withdrawn}" if withdrawn else "withdrawal due"
        replaced = str(held.get("superseded_at") or "")[:10]
        rows += f"<dt>{escape(number)}</dt><dd>{escape(state)} (replaced {escape(replaced)})</dd>"
    return Markup(f'<dl class="facts">{rows}</dl>') if rows else Markup("")


def _when(value: datetime | None) -> str:
    # On the provider's clock, named, as the other admin lists date their moments.
    return format_date(value, "%Y-%m-%d %H:%M %Z") if value else ""


class ReportView(AuditedModelView):
    """Every completion queued for a tracking system: filter by status, resend what failed."""

    can_create = can_edit = can_delete = False
    column_details_list = (
        "certificate",
        "member",
        "system",
        "jurisdiction",
        "status",
        "attempts",
        "reason",
        "last_error",
        "reference",
        "sent_at",
        "unanswered_at",
        "sent",
        "answered_at",
        "moved_at",
        "withdrawal_due_at",
        "withdrawn_at",
        "superseded",
    )
    column_list = (
        "certificate",
        "member",
        "jurisdiction",
        "status",
        "attempts",
        "reason",
        "last_error",
        "updated_at",
    )
    column_labels = {
        "reason": "Reason",
        "last_error": "Last error",
        "updated_at": "Updated",
        "sent_at": "Last sent",
        "unanswered_at": "Unanswered since",
        "sent": "What was sent",
        "answered_at": "Answered",
        "moved_at": "License moved to another state",
        "withdrawal_due_at": "Withdrawal due",
        "withdrawn_at": "Withdrawn",
        "superseded": "Held under corrected license numbers",
    }
    column_default_sort = ("updated_at", True)
    column_searchable_list = ("certificate.code",)
    column_filters = (
        FilterEqual(ReportedCompletion.status, "Status", options=[(s, s) for s in STATUSES]),
        WithdrawalFilter(
            ReportedCompletion.withdrawal_due_at,
            "Withdrawal",
            options=[("due", "due"), ("withdrawn", "withdrawn")],
        ),
        "jurisdiction",
    )
    column_formatters = {
        "status": _status,
        "sent": _sent,
        "certificate": _certificate,
        "member": _member,
        "last_error": lambda v, c, m, n: (m.last_error or "")[:120],
        "updated_at": lambda v, c, m, n: _when(m.updated_at),
    }
    # The details page: the whole error, and every moment as the list writes it.
    column_formatters_detail = {
        "status": _status,
        "sent": _sent,
        "superseded": _superseded,
        "certificate": _certificate,
        "member": _member,
        **{
            name: lambda v, c, m, n: _when(getattr(m, n))
            for name in (
                "sent_at",
                "unanswered_at",
                "answered_at",
                "moved_at",
                "withdrawal_due_at",
                "withdrawn_at",
            )
        },
    }
    details_template = "admin/campus/report_details.html"
    sensitive_actions = ("resend", "withdrawn")

    def __init__(self, session, **kwargs) -> None:
        super().__init__(ReportedCompletion, session, **kwargs)

    def search_placeholder(self) -> str:
        return "Certificate code"

    def _each(self, ids, change, done: str, refused_as: str) -> None:
        """Apply an action to each selected report on its own; flash what was done and refused."""
        actor = current_user._get_current_object()
        count, refused = 0, []
        for report_id in ids:
            try:
                with db.session.begin_nested():
                    change(int(report_id), actor=actor)
                count += 1
            except ReportingError as exc:
                refused.append(exc.message)
        db.session.commit()
        if count:
            flash(f"{counted(count, 'completion')} {done}.", "success")
        for message in dict.fromkeys(refused):
            flash_refusal(refused_as, message)

    @action("resend", "Resend", "Send the selected completions to CE Broker again?")
    def action_resend(self, ids) -> None:
        self._each(ids, reporting_actions.resend, "queued to be sent again", "Not resent")

    @action(
        "withdrawn",
        "Mark withdrawn",
        "Mark what CE Broker should no longer hold of the selected completions (revoked, or "
        "under a corrected license number) as withdrawn? Withdraw it in CE Broker's provider "
        "site first: nothing is sent from here.",
    )
    def action_withdrawn(self, ids) -> None:
        self._each(ids, reporting_actions.mark_withdrawn, "marked withdrawn", "Not marked")


class RosterView(AdminPage):
    """The roster file CE Broker accepts for upload, for any range of completion dates."""

    fresh_views = ("download",)

    @expose("/")
    def index(self):
        """Show the date range form and what reporting is set up to do."""
        start, end = parse_range(None, None, dates.today())
        adapter = sending.adapter("cebroker")
        return self.render(
            "admin/campus/reporting_roster.html",
            start=request.args.get("from", start.isoformat()),
            end=request.args.get("to", end.isoformat()),
            configured=adapter.configured(),
            endpoint=getattr(adapter, "endpoint", ""),
        )

    @expose("/roster.xml")
    def download(self):
        """Download the CE Broker roster (XML) of the completions in a date range."""
        today = dates.today()
        try:
            start, end = parse_range(request.args.get("from"), request.args.get("to"), today)
        except DateRangeError as err:
            flash(err.message, "error")
            return redirect(url_for(".index"))
        roster, count = reading.roster("cebroker", start, end)
        record(
            "export",
            object_type="ReportedCompletion",
            summary=(
                f"exported the CE Broker roster {start.isoformat()} to {end.isoformat()}: "
                f"{count - len(roster.left_out)} completions"
                + (f", {len(roster.left_out)} left out" if roster.left_out else "")
            ),
        )
        db.session.commit()
        body = roster.content
        if roster.left_out:
            # Said inside the file, where whoever uploads it will look.
            note = "".join(f"\n  {code}: {reason}" for code, reason in roster.left_out)
            comment = f"<!-- Left out of this roster:{note.replace('--', '- -')}\n-->\n"
            head, _, rest = body.partition(b"\n")
            body = head + b"\n" + comment.encode() + rest
        return Response(
            body,
            mimetype=roster.mimetype,
            headers={
                "Content-Disposition": f"attachment;filename={roster.filename}",
                "Cache-Control": "no-store",
            },
        )


def add_views(admin, session) -> None:
    """Add the report list and the roster page."""
    admin.add_view(
        ReportView(
            session,
            name="CE Broker reports",
            endpoint="admin_reports",
            url="reports",
            category="CE Broker",
        )
    )
    admin.add_view(
        RosterView(
            name="Roster file",
            endpoint="admin_roster",
            url="/admin/reports/roster",
            category="CE Broker",
        )
    )

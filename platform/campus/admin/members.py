"""Members: search, the member's page, comp grants, disabling and verification emails."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import abort, flash, g, redirect, url_for
from flask_admin import expose
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import func, or_, select

from campus.accounts.addresses import search_forms
from campus.accounts.models import PROFESSIONS, User
from campus.accounts.roles import RoleError
from campus.admin import services
from campus.admin.base import AuditedModelView
from campus.admin.forms import ActionForm, CompForm
from campus.admin.member_roles import MemberRoleViews
from campus.admin.models import AuditEntry
from campus.admin.refusals import flash_form_refusals
from campus.admin.search_terms import like_pattern
from campus.admin.services import installed
from campus.admin.views import wrapped_addresses
from campus.billing import actions as billing_actions
from campus.billing.access import membership_state, subscription_grants_access
from campus.billing.models import CompMembership, StripeCustomer, Subscription, WebhookEvent
from campus.billing.services import BillingError
from campus.extensions import db
from campus.models.base import utcnow
from campus.templating import format_date


@dataclass(frozen=True)
class HistoryItem:
    """One line of a member's membership history."""

    at: datetime
    kind: str  # subscription | comp
    title: str
    detail: str
    status: str


def membership_history(user: User) -> list[HistoryItem]:
    """The member's subscriptions and comp grants, newest first."""
    items = []
    for sub in db.session.scalars(select(Subscription).where(Subscription.user_id == user.id)):
        detail = []
        if sub.current_period_end:
            detail.append(f"period ends {format_date(sub.current_period_end)}")
        if sub.cancel_at_period_end:
            detail.append("cancels at period end")
        if sub.ended_at:
            detail.append(f"ended {format_date(sub.ended_at)}")
        items.append(
            HistoryItem(
                sub.created_at,
                "subscription",
                f"Stripe subscription {sub.stripe_subscription_id}",
                ", ".join(detail),
                sub.status,
            )
        )
    for comp in db.session.scalars(select(CompMembership).where(CompMembership.user_id == user.id)):
        if comp.revoked_at:
            status, note = "ended", f"ended early {format_date(comp.revoked_at)}"
        else:
            status, note = "comp", f"until {format_date(comp.ends_at)}"
        items.append(
            HistoryItem(comp.created_at, "comp", f"Comp membership: {comp.reason}", note, status)
        )
    return sorted(items, key=lambda item: item.at, reverse=True)


def webhook_events_of(user: User, limit: int = 50) -> list[WebhookEvent]:
    """Stored Stripe events that mention the member's customer or subscriptions."""
    ids = [
        *db.session.scalars(
            select(StripeCustomer.stripe_customer_id).where(StripeCustomer.user_id == user.id)
        ),
        *db.session.scalars(
            select(Subscription.stripe_subscription_id).where(Subscription.user_id == user.id)
        ),
    ]
    if not ids:
        return []
    # Quoted so "cus_1" never matches "cus_12".
    conditions = [WebhookEvent.payload.contains(f'"{value}"') for value in ids]
    return list(
        db.session.scalars(
            select(WebhookEvent)
            .where(or_(*conditions))
            .order_by(WebhookEvent.created.desc())
            .limit(limit)
        )
    )


def certificates_of(user: User) -> list:
    """The member's certificates, if the certificates feature is installed."""
    if not installed("certificates"):
        return []
    from campus.certificates import models

    certificate = getattr(models, "Certificate", None)
    if certificate is None:
        return []
    order = getattr(certificate, "issued_at", None) or certificate.id
    return list(
        db.session.scalars(
            select(certificate).where(certificate.user_id == user.id).order_by(order.desc())
        )
    )


STATUS_LABELS = {
    "active": "Active",
    "trialing": "Trial",
    "past_due": "Past due",
    "comp": "Comp",
    "canceled": "Canceled",
    "unpaid": "Unpaid",
    "incomplete": "Incomplete",
    "incomplete_expired": "Expired checkout",
    "paused": "Paused",
    "none": "No membership",
}


@dataclass(frozen=True)
class ListedStatus:
    """A member's membership as the members list shows it."""

    status: str
    has_access: bool
    until: datetime | None


def membership_statuses(user_ids: list[int]) -> dict[int, ListedStatus]:
    """Each listed member's membership, decided as membership_state does, in two queries."""
    now = utcnow()
    subs: dict[int, list[Subscription]] = {}
    for sub in db.session.scalars(
        select(Subscription)
        .where(Subscription.user_id.in_(user_ids))
        .order_by(Subscription.created_at.desc(), Subscription.id.desc())
    ):
        subs.setdefault(sub.user_id, []).append(sub)
    comps: dict[int, CompMembership] = {}
    for comp in db.session.scalars(
        select(CompMembership)
        .where(
            CompMembership.user_id.in_(user_ids),
            CompMembership.revoked_at.is_(None),
            CompMembership.starts_at <= now,
            CompMembership.ends_at > now,
        )
        .order_by(CompMembership.ends_at)
    ):
        comps[comp.user_id] = comp  # ordered by end: the latest-ending grant wins
    statuses = {}
    for user_id in user_ids:
        mine = subs.get(user_id, [])
        granting = [sub for sub in mine if subscription_grants_access(sub, now)]
        shown = granting[0] if granting else (mine[0] if mine else None)
        grant = comps.get(user_id)
        if shown is not None and (granting or grant is None):
            statuses[user_id] = ListedStatus(shown.status, bool(granting), shown.current_period_end)
        elif grant is not None:
            statuses[user_id] = ListedStatus("comp", True, grant.ends_at)
        else:
            statuses[user_id] = ListedStatus("none", False, None)
    return statuses


def _membership(view, context, model, name) -> Markup:
    statuses = g.get("member_statuses")
    if statuses is None or model.id not in statuses:
        statuses = g.member_statuses = membership_statuses([model.id])
    state = statuses[model.id]
    css = "badge-ok" if state.has_access else "badge-muted"
    if state.status in ("past_due", "unpaid"):
        css = "badge-warn" if state.has_access else "badge-danger"
    label = escape(STATUS_LABELS.get(state.status, state.status))
    until = (
        f" until {format_date(state.until, '%Y-%m-%d')}" if state.until and state.has_access else ""
    )
    return Markup(f'<span class="badge {css}">{label}</span>{escape(until)}')


def _member_link(view, context, model, name) -> Markup:
    """The member's address, linking to their page, wrapping only between its parts."""
    # The Email cell's `overflow-wrap: anywhere` broke a long address at any letter.
    url = url_for(".member", user_id=model.id)
    return Markup('<a href="{}">{}</a>').format(url, wrapped_addresses(model.email))


def _flag(value) -> Markup:
    if value:
        return Markup(f'<span class="badge badge-ok">{format_date(value, "%Y-%m-%d")}</span>')
    return Markup('<span class="badge badge-muted">no</span>')


def _audit_of(user: User, *, by_staff: bool, limit: int = 30) -> list[AuditEntry]:
    """The latest log entries about a member: their own and the system's, or those of others.

    The log about an account holds the member's own sign-ins and changes, what happened with
    nobody signed in (failed sign-ins, emailed links, billing), and what staff changed. Kept
    apart, an admin's change is not buried under a month of sign-ins. An entry whose admin's
    account was deleted since still counts as theirs: it keeps their email.
    """
    # Coalesced, so that a NULL actor makes the test false rather than unknown both ways.
    own = or_(func.coalesce(AuditEntry.actor_id, 0) == user.id, AuditEntry.actor_email == "system")
    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.object_type == "User", AuditEntry.object_id == str(user.id))
            .where(~own if by_staff else own)
            .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
            .limit(limit)
        )
    )


class MemberView(MemberRoleViews, AuditedModelView):
    """Search members by name or email; open a member's page."""

    can_create = can_edit = can_delete = False
    can_view_details = False
    column_list = (
        "email",
        "full_name",
        "membership",
        "role",
        "profession",
        "email_verified_at",
        "disabled_at",
        "created_at",
    )
    column_labels = {
        "full_name": "Name",
        "email_verified_at": "Verified",
        "disabled_at": "Disabled",
        "created_at": "Joined",
    }
    column_searchable_list = ("email", "full_name")
    column_filters = ("role", "profession", "email_verified_at", "disabled_at", "created_at")
    column_default_sort = ("created_at", True)
    column_formatters = {
        "email": _member_link,
        "membership": _membership,
        "profession": lambda v, c, m, n: PROFESSIONS.get(m.profession, m.profession),
        "email_verified_at": lambda v, c, m, n: _flag(m.email_verified_at),
        "disabled_at": lambda v, c, m, n: (
            Markup(
                f'<span class="badge badge-danger">{format_date(m.disabled_at, "%Y-%m-%d")}</span>'
            )
            if m.disabled_at
            else ""
        ),
        "created_at": lambda v, c, m, n: format_date(m.created_at, "%Y-%m-%d"),
    }

    def search_placeholder(self) -> str:
        return "Name or email"

    def _apply_search(self, query, count_query, joins, count_joins, search):
        """Match each word in a name, or in any form an address may be stored in."""
        for term in search.split():
            found = or_(
                *(
                    column.ilike(like_pattern(form))
                    for form in search_forms(term)
                    for column in (User.email, User.full_name)
                )
            )
            query = query.filter(found)
            count_query = count_query.filter(found) if count_query is not None else None
        return query, count_query, joins, count_joins

    def get_list(self, *args, **kwargs):
        """Fetch a page of members and, in two more queries, their membership statuses."""
        count, rows = super().get_list(*args, **kwargs)
        g.member_statuses = membership_statuses([row.id for row in rows])
        return count, rows

    sensitive_views = ("comp", "end_comp", "disable", "enable", "set_role")

    def __init__(self, session, **kwargs) -> None:
        kwargs.setdefault("url", "members")
        super().__init__(User, session, **kwargs)

    def _member_or_404(self, user_id: int) -> User:
        user = db.session.get(User, user_id)
        if user is None:
            abort(404)
        return user

    @expose("/<int:user_id>/")
    def member(self, user_id: int):
        """Show a member: profile, membership and its history, events, learning, certificates."""
        user = self._member_or_404(user_id)
        enrollments, study_time = [], []
        if installed("learning"):
            from campus.learning.reports import enrollment_rows

            enrollments = enrollment_rows(user)
            from campus.admin.ce_records import time_logs

            study_time = time_logs(user)
        licenses = []
        if installed("licenses"):
            from campus.licenses.services import licenses_for

            licenses = licenses_for(user.id)
        activity, admin_changes = _audit_of(user, by_staff=False), _audit_of(user, by_staff=True)
        return self.render(
            "admin/campus/member.html",
            member=user,
            profession=PROFESSIONS.get(user.profession, user.profession),
            state=membership_state(user),
            history=membership_history(user),
            events=webhook_events_of(user),
            enrollments=enrollments,
            study_time=study_time,
            licenses=licenses,
            certificates=certificates_of(user),
            has_certificates=installed("certificates"),
            activity=activity,
            admin_changes=admin_changes,
            comp_form=CompForm(),
            action_form=ActionForm(),
        )

    def _back(self, user: User):
        return redirect(url_for(".member", user_id=user.id))

    def _run(self, user: User, change, success: str):
        try:
            change()
            db.session.commit()
        except (services.AdminActionError, BillingError, RoleError) as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            flash(success, "success")
        return self._back(user)

    @expose("/<int:user_id>/comp", methods=("POST",))
    def comp(self, user_id: int):
        """Grant a comp membership (fresh password needed)."""
        user = self._member_or_404(user_id)
        form = CompForm()
        if not form.validate_on_submit():
            flash_form_refusals("The comp membership was not granted", form)
            return self._back(user)
        return self._run(
            user,
            lambda: billing_actions.grant_comp(
                user,
                days=form.days.data,
                reason=form.reason.data,
                actor=current_user._get_current_object(),
            ),
            f"{user.email} has a comp membership for {form.days.data} days.",
        )

    @expose("/<int:user_id>/end-comp", methods=("POST",))
    def end_comp(self, user_id: int):
        """End the member's comp membership now (fresh password needed)."""
        user = self._member_or_404(user_id)
        return self._run(
            user,
            lambda: billing_actions.end_comp(user, actor=current_user._get_current_object()),
            "The comp membership has ended.",
        )

    @expose("/<int:user_id>/disable", methods=("POST",))
    def disable(self, user_id: int):
        """Disable the account and sign it out everywhere (fresh password needed)."""
        user = self._member_or_404(user_id)
        return self._run(
            user,
            lambda: services.set_disabled(user, True),
            f"{user.email} is disabled and signed out everywhere.",
        )

    @expose("/<int:user_id>/enable", methods=("POST",))
    def enable(self, user_id: int):
        """Re-enable a disabled account (fresh password needed)."""
        user = self._member_or_404(user_id)
        return self._run(
            user, lambda: services.set_disabled(user, False), f"{user.email} can sign in again."
        )

    @expose("/<int:user_id>/resend-verification", methods=("POST",))
    def resend_verification(self, user_id: int):
        """Email the member a new verification link."""
        user = self._member_or_404(user_id)
        return self._run(
            user,
            lambda: services.resend_verification(user),
            f"A new verification link is on its way to {user.email}.",
        )

"""Billing admin: the Stripe webhook event log (filters, payload, replay) and comp grants."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from flask import abort, flash, g, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.sqla.filters import FilterEqual
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import select

from campus.accounts.models import User
from campus.admin import security
from campus.admin.base import AuditedModelView
from campus.admin.forms import ActionForm
from campus.billing import actions as billing_actions
from campus.billing.models import CompMembership, StripeCustomer, Subscription, WebhookEvent
from campus.billing.subscriptions import id_of
from campus.extensions import db
from campus.integers import id_from
from campus.templating import format_date

STATUS_CSS = {
    "processed": "badge-ok",
    "ignored": "badge-muted",
    "failed": "badge-danger",
    "received": "badge-warn",
    "processing": "badge-warn",
}


def _status(view, context, model, name) -> Markup:
    css = STATUS_CSS.get(model.status, "badge-muted")
    return Markup(f'<span class="badge {css}">{escape(model.status)}</span>')


def _created(view, context, model, name) -> str:
    return datetime.fromtimestamp(model.created, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _payload(view, context, model, name) -> Markup:
    try:
        text = json.dumps(json.loads(model.payload), indent=2, sort_keys=True)
    except ValueError:
        text = model.payload
    return Markup(f'<pre class="json" tabindex="0">{escape(text)}</pre>')


def _references(payload: str) -> tuple[str | None, str | None, int | None]:
    """The customer, subscription and user (checkout reference) an event's object names."""
    try:
        obj = json.loads(payload)["data"]["object"]
    except (ValueError, KeyError, TypeError):
        return None, None, None
    if not isinstance(obj, dict):
        return None, None, None
    kind = obj.get("object")
    customer = id_of(obj.get("id")) if kind == "customer" else id_of(obj.get("customer"))
    subscription = (
        id_of(obj.get("id")) if kind == "subscription" else id_of(obj.get("subscription"))
    )
    ref = obj.get("client_reference_id")
    return customer, subscription, id_from(ref)


def event_members(rows: list[WebhookEvent]) -> dict[int, User]:
    """The member each event belongs to (by customer, subscription or checkout reference)."""
    refs = {row.id: _references(row.payload) for row in rows}
    customers = {c for c, _s, _u in refs.values() if c}
    subscriptions = {s for _c, s, _u in refs.values() if s}
    by_customer: dict[str, int] = {}
    if customers:
        by_customer.update(
            db.session.execute(
                select(StripeCustomer.stripe_customer_id, StripeCustomer.user_id).where(
                    StripeCustomer.stripe_customer_id.in_(customers)
                )
            ).all()
        )
    by_subscription: dict[str, int] = {}
    if subscriptions or customers:
        for sub_id, cus_id, user_id in db.session.execute(
            select(
                Subscription.stripe_subscription_id,
                Subscription.stripe_customer_id,
                Subscription.user_id,
            ).where(
                Subscription.stripe_subscription_id.in_(subscriptions)
                | Subscription.stripe_customer_id.in_(customers)
            )
        ).all():
            by_subscription[sub_id] = user_id
            by_customer.setdefault(cus_id, user_id)
    owners = {
        row_id: by_subscription.get(s or "") or by_customer.get(c or "") or u
        for row_id, (c, s, u) in refs.items()
    }
    wanted = {user_id for user_id in owners.values() if user_id}
    users = (
        {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(wanted)))}
        if wanted
        else {}
    )
    return {row_id: users[uid] for row_id, uid in owners.items() if uid in users}


def _member(view, context, model, name) -> Markup | str:
    members = g.get("event_members")
    if members is None or model.id not in members:
        members = event_members([model])
    user = members.get(model.id)
    if user is None:
        return ""
    url = url_for("admin_members.member", user_id=user.id)
    return Markup(f'<a href="{url}">{escape(user.email)}</a>')


class FailedFilter(FilterEqual):
    """Only events that failed (yes) or everything else (no)."""

    def apply(self, query, value, alias=None):
        if value == "1":
            return query.filter(WebhookEvent.status == "failed")
        return query.filter(WebhookEvent.status != "failed")

    def operation(self):
        return "is"


class WebhookEventView(AuditedModelView):
    """Every Stripe event as received: filter, read the payload, replay."""

    can_create = can_edit = can_delete = False
    column_list = (
        "created",
        "stripe_event_id",
        "type",
        "member",
        "status",
        "attempts",
        "reason",
        "last_error",
    )
    column_labels = {"stripe_event_id": "Event", "created": "Stripe time", "last_error": "Error"}
    column_default_sort = ("created", True)
    column_searchable_list = ("stripe_event_id", "type")
    column_filters = (
        "type",
        FilterEqual(WebhookEvent.status, "Status", options=[(s, s) for s in STATUS_CSS]),
        FailedFilter(WebhookEvent.status, "Failed", options=[("1", "yes"), ("0", "no")]),
        "attempts",
    )
    column_formatters = {
        "status": _status,
        "created": _created,
        "member": _member,
        "last_error": lambda v, c, m, n: (m.last_error or "")[:120],
    }
    column_details_list = (
        "stripe_event_id", "type", "member", "status", "reason", "attempts", "last_error",
        "created", "processed_at", "livemode", "payload",
    )  # fmt: skip
    column_formatters_detail = {
        "payload": _payload, "status": _status, "created": _created, "member": _member,
    }  # fmt: skip
    details_template = "admin/campus/webhook_details.html"
    sensitive_views = ("replay",)
    sensitive_actions = ("replay",)

    def __init__(self, session, **kwargs) -> None:
        super().__init__(WebhookEvent, session, **kwargs)

    def get_list(self, *args, **kwargs):
        """Fetch a page of events and, in a few more queries, the members they belong to."""
        count, rows = super().get_list(*args, **kwargs)
        g.event_members = event_members(list(rows))
        return count, rows

    def render(self, template, **kwargs):
        kwargs.setdefault("action_form", ActionForm())
        return super().render(template, **kwargs)

    @expose("/<int:event_id>/replay", methods=("POST",))
    def replay(self, event_id: int):
        """Process a stored event again (fresh password needed)."""
        if not ActionForm().validate_on_submit():
            abort(400)
        row = db.session.get(WebhookEvent, event_id)
        if row is None:
            flash("There is no such event.", "error")
            return redirect(url_for(".index_view"))
        billing_actions.replay_event(row, actor=current_user._get_current_object())
        db.session.commit()
        db.session.refresh(row)
        flash(f"Event {row.stripe_event_id} was replayed: it is now {row.status}.", "success")
        back = url_for(".details_view", id=row.id)
        return redirect(security.safe_next(request.form.get("next"), back))

    @action("replay", "Replay", "Process the selected events again?")
    def action_replay(self, ids) -> None:
        count = 0
        actor = current_user._get_current_object()
        for event_id in ids:
            row = db.session.get(WebhookEvent, int(event_id))
            if row is not None:
                billing_actions.replay_event(row, actor=actor)
                count += 1
        db.session.commit()
        flash(f"{count} event{'s' if count != 1 else ''} replayed.", "success")


class CompMembershipView(AuditedModelView):
    """Every comp grant (grant and end them from the member's page)."""

    can_create = can_edit = can_delete = False
    column_list = ("user", "starts_at", "ends_at", "revoked_at", "reason")
    column_labels = {"user": "Member", "revoked_at": "Ended early"}
    column_default_sort = ("starts_at", True)
    column_searchable_list = ("reason",)
    column_filters = ("starts_at", "ends_at", "revoked_at")
    column_formatters = {
        "user": lambda v, c, m, n: Markup(
            f'<a href="{url_for("admin_members.member", user_id=m.user_id)}">'
            f"{escape(m.user.email)}</a>"
        ),
        "starts_at": lambda v, c, m, n: format_date(m.starts_at, "%Y-%m-%d"),
        "ends_at": lambda v, c, m, n: format_date(m.ends_at, "%Y-%m-%d"),
        "revoked_at": lambda v, c, m, n: (
            format_date(m.revoked_at, "%Y-%m-%d") if m.revoked_at else ""
        ),
    }

    def __init__(self, session, **kwargs) -> None:
        super().__init__(CompMembership, session, **kwargs)


def add_views(admin, session) -> None:
    """Add the billing views under "Billing"."""
    admin.add_view(
        WebhookEventView(
            session,
            name="Webhook events",
            category="Billing",
            endpoint="admin_webhooks",
            url="webhooks",
        )
    )
    admin.add_view(
        CompMembershipView(
            session,
            name="Comp memberships",
            category="Billing",
            endpoint="admin_comps",
            url="comps",
        )
    )

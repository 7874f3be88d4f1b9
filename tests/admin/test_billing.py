"""Billing admin: the webhook event log, its filters and payload, and replaying events."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests import support
from tests.admin import helpers


def _filter_arg(app, endpoint: str, name: str, operation: str | None = None) -> str:
    """The query argument Flask-Admin gives a list filter (its position decides the name)."""
    for admin in app.extensions["admin"]:
        for view in admin._views:
            if view.endpoint == endpoint:
                for index, flt in enumerate(view._filters):
                    if str(flt.name) == name and (
                        operation is None or flt.operation() == operation
                    ):
                        return f"flt0_{view.get_filter_arg(index, flt)}"
    raise AssertionError(f"no filter {name} on {endpoint}")


def test_the_event_log_filters_by_failure_status_and_type(app, client):
    failed = helpers.make_event(app, status="failed", event_type="invoice.payment_failed")
    done = helpers.make_event(app, status="processed", event_type="invoice.paid")
    ignored = helpers.make_event(app, status="ignored", event_type="charge.refunded")
    helpers.sign_in_admin(app, client)
    ids = {}
    with app.app_context():
        from campus.billing.models import WebhookEvent
        from campus.extensions import db

        for row_id in (failed, done, ignored):
            ids[row_id] = db.session.get(WebhookEvent, row_id).stripe_event_id
    everything = client.get("/admin/webhooks/").get_data(as_text=True)
    assert all(event in everything for event in ids.values())

    arg = _filter_arg(app, "admin_webhooks", "Failed")
    only_failed = client.get(f"/admin/webhooks/?{arg}=1").get_data(as_text=True)
    assert ids[failed] in only_failed and ids[done] not in only_failed
    arg = _filter_arg(app, "admin_webhooks", "Status")
    only_ignored = client.get(f"/admin/webhooks/?{arg}=ignored").get_data(as_text=True)
    assert ids[ignored] in only_ignored and ids[failed] not in only_ignored
    by_type = client.get("/admin/webhooks/?search=invoice.paid").get_data(as_text=True)
    assert ids[done] in by_type and ids[ignored] not in by_type


def test_the_payload_is_shown_escaped(app, client):
    row = helpers.make_event(app, obj={"id": "in_1", "object": "invoice", "note": "<b>hi</b>"})
    helpers.sign_in_admin(app, client)
    html = client.get(f"/admin/webhooks/details/?id={row}").get_data(as_text=True)
    assert "&#34;note&#34;: &#34;&lt;b&gt;hi&lt;/b&gt;&#34;" in html or "&lt;b&gt;hi" in html
    assert "<b>hi</b>" not in html
    assert "Replay this event" in html


def _subscription_event(sub, status: str, created: int) -> dict:
    from campus.billing.stripe_api import SIMULATED_PRICE_ID

    return {
        "id": sub.stripe_subscription_id,
        "object": "subscription",
        "customer": sub.stripe_customer_id,
        "status": status,
        "cancel_at_period_end": False,
        "items": {
            "data": [
                {"price": {"id": SIMULATED_PRICE_ID}, "current_period_end": created + 86400 * 30}
            ]
        },
    }


def test_replaying_a_failed_event_applies_it_and_is_audited(app, client):
    from campus.billing.models import Subscription, WebhookEvent
    from campus.billing.stripe_api import SIMULATED_PRICE_ID
    from campus.extensions import db

    with app.app_context():
        user = support.create_user()
        sub = support.make_member(user.id, "active", price_id=SIMULATED_PRICE_ID)
        obj = _subscription_event(sub, "past_due", 1_790_000_000)
        sub_pk = sub.id
    row_id = helpers.make_event(
        app, status="failed", event_type="customer.subscription.updated", obj=obj
    )
    helpers.sign_in_admin(app, client)
    response = helpers.post(client, f"/admin/webhooks/{row_id}/replay", {}, follow_redirects=True)
    assert response.status_code == 200
    with app.app_context():
        row = db.session.get(WebhookEvent, row_id)
        assert row.status == "processed" and row.last_error is None and row.attempts == 2
        assert db.session.get(Subscription, sub_pk).status == "past_due"
    assert any("was replayed: it is now processed" in m for m in helpers.flashes(response))
    (entry,) = helpers.audit_entries(app, action="replay")
    assert entry.object_type == "WebhookEvent" and entry.object_id == str(row_id)
    assert entry.before["status"] == "failed" and entry.after["status"] == "received"
    assert "payload" not in entry.before


@pytest.mark.parametrize("back", ["/\\evil.example", "//evil.example", "/.//evil.example"])
def test_a_replay_goes_back_only_to_a_page_of_this_site(app, client, back):
    row_id = helpers.make_event(app, status="failed")
    helpers.sign_in_admin(app, client)
    response = helpers.post(client, f"/admin/webhooks/{row_id}/replay", {"next": back})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/admin/webhooks/details/?id={row_id}")


def test_replaying_an_event_that_is_not_stored_says_so_and_changes_nothing(app, client):
    row_id = helpers.make_event(app, status="failed")
    helpers.sign_in_admin(app, client)
    response = helpers.post(client, "/admin/webhooks/999999/replay", {}, follow_redirects=True)
    assert "There is no such event." in helpers.flashes(response)
    unsigned = client.post(f"/admin/webhooks/{row_id}/replay", data={})  # no CSRF token
    assert unsigned.status_code == 400
    assert helpers.audit_entries(app) == []


def test_replaying_needs_a_fresh_password(app, client):
    from campus.billing.models import WebhookEvent
    from campus.extensions import db

    row_id = helpers.make_event(app, status="failed")
    helpers.sign_in_admin(app, client, fresh=False)
    response = helpers.post(client, f"/admin/webhooks/{row_id}/replay", {})
    assert response.status_code == 302 and "/admin/confirm/" in response.headers["Location"]
    bulk = helpers.post(
        client, "/admin/webhooks/action/", {"action": "replay", "rowid": [str(row_id)]}
    )
    assert bulk.status_code == 302 and "/admin/confirm/" in bulk.headers["Location"]
    with app.app_context():
        assert db.session.get(WebhookEvent, row_id).status == "failed"
    assert helpers.audit_entries(app) == []


def test_bulk_replay_processes_each_selected_event(app, client):
    from campus.billing.models import WebhookEvent
    from campus.extensions import db

    first = helpers.make_event(app, status="failed", event_type="charge.refunded")
    second = helpers.make_event(app, status="failed", event_type="charge.refunded")
    helpers.sign_in_admin(app, client)
    response = helpers.post(
        client, "/admin/webhooks/action/", {"action": "replay", "rowid": [str(first), str(second)]}
    )
    assert response.status_code == 302
    with app.app_context():
        statuses = db.session.scalars(select(WebhookEvent.status).order_by(WebhookEvent.id)).all()
    # Campus does not use refunds: processing records them as ignored instead of failing.
    assert statuses == ["ignored", "ignored"]
    assert len(helpers.audit_entries(app, action="replay")) == 2


def test_the_event_log_shows_the_member_each_event_belongs_to(app, client):
    with app.app_context():
        ana = support.create_user(email="ana@example.com")
        sub = support.make_member(ana.id, "active", stripe_customer_id="cus_ana")
        ben = support.create_user(email="ben@example.com")
        ana_id, ben_id, sub_id = ana.id, ben.id, sub.stripe_subscription_id
    by_subscription = helpers.make_event(
        app,
        event_type="customer.subscription.updated",
        obj={"id": sub_id, "object": "subscription", "customer": "cus_ana"},
    )
    by_checkout = helpers.make_event(
        app,
        event_type="checkout.session.completed",
        obj={"id": "cs_1", "object": "checkout.session", "client_reference_id": str(ben_id)},
    )
    unknown = helpers.make_event(app, obj={"id": "in_9", "object": "invoice", "customer": "cus_x"})
    helpers.sign_in_admin(app, client)
    html = client.get("/admin/webhooks/").get_data(as_text=True)
    with app.app_context():
        from campus.billing.models import WebhookEvent
        from campus.extensions import db

        event = {
            i: db.session.get(WebhookEvent, i).stripe_event_id
            for i in (by_subscription, by_checkout, unknown)
        }

    def row_of(event_id: str) -> str:
        return html[html.index(event_id) :].split("</tr>", 1)[0]

    assert f'/admin/members/{ana_id}/">ana@example.com</a>' in row_of(event[by_subscription])
    assert f'/admin/members/{ben_id}/">ben@example.com</a>' in row_of(event[by_checkout])
    assert "@example.com" not in row_of(event[unknown])
    details = client.get(f"/admin/webhooks/details/?id={by_subscription}").get_data(as_text=True)
    assert "ana@example.com" in details


@pytest.mark.parametrize("rowids", [["abc"], ["2147483648"], ["99999999999999999999"], ["1", "x"]])
def test_a_list_action_on_ids_no_row_can_have_is_refused(app, client, rowids):
    from campus.billing.models import WebhookEvent
    from campus.extensions import db

    row_id = helpers.make_event(app, status="failed")
    helpers.sign_in_admin(app, client)
    response = helpers.post(
        client,
        "/admin/webhooks/action/",
        {"action": "replay", "rowid": [str(row_id), *rowids]},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "Choose the records from the list." in helpers.flashes(response)
    with app.app_context():
        assert db.session.get(WebhookEvent, row_id).status == "failed"


@pytest.mark.parametrize(
    "value", ["2147483648", "-2147483649", "9223372036854775807", "1,2147483648"]
)
def test_a_number_filter_past_the_columns_range_is_dropped(app, client, value):
    helpers.make_event(app, status="failed")
    helpers.sign_in_admin(app, client)
    view = next(
        v
        for v in app.extensions["admin"][0]._views
        if getattr(v, "endpoint", "") == "admin_webhooks"
    )
    kinds = {str(f.operation()): i for i, f in enumerate(view._filters) if f.name == "Attempts"}
    for kind in ("equals", "greater than", "in list"):
        response = client.get(f"/admin/webhooks/?flt0_{kinds[kind]}={value}")
        assert response.status_code == 200, kind
        assert "invoice.created" in response.get_data(as_text=True)  # the list, unfiltered


def test_a_replay_goes_back_to_the_event_under_the_path_prefix(_database):
    # Served under a prefix, the page to go back to must hold it: the bare path would send
    # the admin, after the replay, to a page of whatever else the host serves.
    app = support.make_app(PROXY_FIX_X_PREFIX=1)
    client = app.test_client()
    prefixed = {"X-Forwarded-Prefix": "/campus"}
    try:
        row = helpers.make_event(app)
        helpers.sign_in_admin(app, client)
        page = client.get(f"/admin/webhooks/details/?id={row}", headers=prefixed)
        assert f'name="next" value="/campus/admin/webhooks/details/?id={row}"' in page.text
        token = support.csrf_token(client, f"/admin/webhooks/details/?id={row}")
        replayed = client.post(
            f"/admin/webhooks/{row}/replay",
            data={"csrf_token": token, "next": f"/campus/admin/webhooks/details/?id={row}"},
            headers=prefixed,
        )
        assert replayed.location == f"/campus/admin/webhooks/details/?id={row}"
    finally:
        support.clean_database(app)

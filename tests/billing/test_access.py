"""The paid-access rule of DESIGN.md §4."""

from datetime import timedelta

import pytest

from campus.billing.access import has_paid_access, membership_state
from campus.extensions import db
from campus.models.base import utcnow
from tests.support import create_user, grant_comp, make_member


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("active", True),
        ("trialing", True),
        ("incomplete", False),
        ("incomplete_expired", False),
        ("unpaid", False),
        ("canceled", False),
        ("paused", False),
    ],
)
def test_access_follows_the_subscription_status(app, status, expected):
    with app.app_context():
        user = create_user()
        make_member(user.id, status)
        assert has_paid_access(user) is expected


@pytest.mark.parametrize(("days_past_due", "expected"), [(0, True), (6, True), (8, False)])
def test_past_due_keeps_access_only_within_the_grace_period(app, days_past_due, expected):
    with app.app_context():
        user = create_user()
        make_member(user.id, "past_due", past_due_since=utcnow() - timedelta(days=days_past_due))
        assert has_paid_access(user) is expected


def test_cancel_at_period_end_keeps_access_until_the_period_ends(app):
    with app.app_context():
        user = create_user()
        end = utcnow() + timedelta(days=3)
        make_member(user.id, "active", cancel_at_period_end=True, current_period_end=end)
        assert has_paid_access(user)
        assert not has_paid_access(user, now=end + timedelta(seconds=1))
        state = membership_state(user)
        assert state.cancel_at_period_end and state.current_period_end == end


def test_comp_membership_gives_access_until_it_ends_or_is_revoked(app):
    with app.app_context():
        user = create_user()
        assert not has_paid_access(user)
        comp = grant_comp(user.id, days=10)
        assert has_paid_access(user)
        assert membership_state(user).status == "comp"
        assert not has_paid_access(user, now=utcnow() + timedelta(days=11))
        comp.revoked_at = utcnow()
        db.session.commit()
        assert not has_paid_access(user)


def _me_has_access(app, *, totp: bool, second_factor: bool, paying: bool = False) -> bool:
    """What /api/v1/me says of an admin's access, signed in as the arguments say."""
    from tests.support import enable_totp, sign_in_directly

    client = app.test_client()
    with app.app_context():
        user_id = create_user(role="admin").id
        if totp:
            enable_totp(user_id)
        if paying:
            make_member(user_id, "active")
        sign_in_directly(client, user_id, second_factor=second_factor)
    return client.get("/api/v1/me").get_json()["membership"]["has_access"]


def test_admins_have_access_past_the_second_factor(app):
    assert _me_has_access(app, totp=True, second_factor=True)


@pytest.mark.parametrize("totp", [True, False], ids=["factor-on", "no-factor"])
def test_an_admin_with_the_password_alone_has_access_as_any_member(app, totp):
    assert not _me_has_access(app, totp=totp, second_factor=False)
    assert _me_has_access(app, totp=totp, second_factor=False, paying=True)


def test_an_admins_second_factor_says_nothing_of_another_admins_access(app):
    """Asked about another admin, the viewer's session is not that admin's standing."""
    from campus.accounts.models import User
    from tests.support import enable_totp, sign_in_directly

    client = app.test_client()
    with app.app_context():
        viewer_id, other_id = create_user(role="admin").id, create_user(role="admin").id
        enable_totp(viewer_id)
        enable_totp(other_id)
        sign_in_directly(client, viewer_id, second_factor=True)
    with client:
        client.get("/api/v1/me")
        assert has_paid_access(db.session.get(User, viewer_id))
        assert not has_paid_access(db.session.get(User, other_id))


def test_an_admin_has_no_access_of_the_role_outside_a_request(app):
    with app.app_context():
        assert not has_paid_access(create_user(role="admin"))


def test_anonymous_has_no_access(app):
    from flask_login import AnonymousUserMixin

    with app.app_context():
        assert not has_paid_access(AnonymousUserMixin())
        assert not has_paid_access(None)


def test_an_ended_subscription_mirrored_after_the_live_one_does_not_hide_it(app):
    # The sync found an old, ended subscription only after the member's current one, whose
    # payment is now overdue: the member must be asked for the payment, not told it ended.
    from campus.billing.access import payment_hold

    with app.app_context():
        user = create_user()
        make_member(user.id, "past_due", past_due_since=utcnow() - timedelta(days=30))
        make_member(user.id, "canceled", current_period_end=utcnow() - timedelta(days=400))
        state = membership_state(user)
        assert (state.status, state.has_access) == ("past_due", False)
        assert payment_hold(user).kind == "unpaid"

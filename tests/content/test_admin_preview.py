"""An admin previews drafts and paid articles only with the admin's own standing.

As in /admin/: the role, a second factor on the account and a session that passed it. An admin
signed in with the password alone (or calling with an API token) reads as any member does.
"""

from __future__ import annotations

import pytest

from tests import support
from tests.api.helpers import bearer, make_token
from tests.content.helpers import make_article


def _admin(
    app, client, *, totp: bool = True, second_factor: bool = False, paying: bool = False
) -> int:
    """Sign in an admin on the client; with a second factor passed or the password alone."""
    with app.app_context():
        user_id = support.create_user(role="admin").id
        if totp:
            support.enable_totp(user_id)
        if paying:
            support.make_member(user_id, "active")
        support.sign_in_directly(client, user_id, second_factor=second_factor)
    return user_id


@pytest.fixture
def articles(app):
    with app.app_context():
        make_article(slug="in-draft", visibility="public", status="draft", title="Draft title")
        make_article(slug="for-members", visibility="paid", title="Paid title")


def _reads(client, headers=None) -> dict[str, object]:
    """What a reader gets of the draft and of the paid article, on the page and in the API."""
    paid_page = client.get("/articles/for-members").get_data(as_text=True)
    paid_api = client.get("/api/v1/articles/for-members", headers=headers).get_data(as_text=True)
    return {
        "draft_page": client.get("/articles/in-draft").status_code,
        "draft_api": client.get("/api/v1/articles/in-draft", headers=headers).status_code,
        "draft_listed": "Draft title" in client.get("/articles/").get_data(as_text=True),
        "paid_page": "gatedwordformembers" in paid_page,
        "paid_api": "gatedwordformembers" in paid_api,
    }


MEMBER = {
    "draft_page": 404,
    "draft_api": 404,
    "draft_listed": False,
    "paid_page": False,
    "paid_api": False,
}


@pytest.mark.parametrize("totp", [True, False], ids=["factor-on", "no-factor"])
def test_an_admin_signed_in_with_the_password_alone_reads_as_a_member(app, client, articles, totp):
    _admin(app, client, totp=totp, second_factor=False)
    assert _reads(client) == MEMBER


def test_an_admin_with_a_membership_and_the_password_alone_reads_paid_not_drafts(
    app, client, articles
):
    _admin(app, client, second_factor=False, paying=True)
    assert _reads(client) == {**MEMBER, "paid_page": True, "paid_api": True}


def test_an_admins_api_token_reads_as_a_member(app, client, articles):
    user_id = _admin(app, app.test_client(), second_factor=True)
    with app.app_context():
        raw = make_token(user_id)
    headers = bearer(raw)
    assert client.get("/api/v1/articles/in-draft", headers=headers).status_code == 404
    paid = client.get("/api/v1/articles/for-members", headers=headers).get_data(as_text=True)
    assert "previewwordformembers" in paid and "gatedwordformembers" not in paid


def test_an_admin_past_the_second_factor_previews_drafts_and_paid_articles(app, client, articles):
    _admin(app, client, second_factor=True)
    assert _reads(client) == {
        "draft_page": 200,
        "draft_api": 200,
        "draft_listed": True,
        "paid_page": True,
        "paid_api": True,
    }

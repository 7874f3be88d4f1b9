"""What an admin typed before the password confirmation is still in the form after it."""

from __future__ import annotations

import html
import re

from tests import support
from tests.admin import helpers
from tests.admin.helpers import sign_in_admin
from tests.directory.helpers import make_profile

BASE = "http://localhost"


def _confirm(client, back: str):
    return helpers.post(client, f"/admin/confirm/?next={back}", helpers.confirm_fields(client))


def _textarea(page_html: str, name: str) -> str:
    found = re.search(
        rf'<textarea[^>]*name="{re.escape(name)}"[^>]*>(.*?)</textarea>', page_html, re.S
    )
    assert found is not None, f"no textarea {name}"
    return html.unescape(found.group(1)).strip()


def _input(page_html: str, name: str) -> str:
    found = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', page_html)
    assert found is not None, f"no input {name}"
    value = re.search(r'value="([^"]*)"', found.group(0))
    return html.unescape(value.group(1)) if value else ""


def test_a_reason_typed_before_the_confirmation_is_in_the_form_after_it(app, client):
    with app.app_context():
        profile = make_profile("10001", user=support.create_user(email="pat@example.org"))
        profile_id, slug = profile.id, profile.slug
    sign_in_admin(app, client, fresh=False)
    page = f"/admin/directory/details/?id={profile_id}"
    asked = helpers.post(
        client,
        f"/admin/directory/{profile_id}/hide",
        {"hide-reason": "Claims a license <b>she</b> does not hold"},
        headers={"Referer": BASE + page},
    )
    assert asked.status_code == 302 and "/admin/confirm" in asked.headers["Location"]
    confirmed = _confirm(client, page)
    assert confirmed.status_code == 302 and confirmed.headers["Location"] == page
    back = client.get(page)
    assert _textarea(back.text, "hide-reason") == "Claims a license <b>she</b> does not hold"
    # Nothing was done yet: the admin sees the reason and repeats the action.
    assert app.test_client().get(f"/directory/{slug}").status_code == 200
    # Kept for that one return only.
    assert _textarea(client.get(page).text, "hide-reason") == ""


def test_the_comp_forms_days_and_reason_are_kept(app, client):
    with app.app_context():
        member_id = support.create_user(email="guest@example.com").id
    sign_in_admin(app, client, fresh=False)
    page = f"/admin/members/{member_id}/"
    helpers.post(
        client,
        f"/admin/members/{member_id}/comp",
        {"days": "90", "reason": "Guest instructor"},
        headers={"Referer": BASE + page},
    )
    _confirm(client, page)
    back = client.get(page).text
    assert _input(back, "days") == "90" and _input(back, "reason") == "Guest instructor"


def test_kept_fields_go_back_to_their_own_page_only(app, client):
    with app.app_context():
        member_id = support.create_user(email="guest@example.com").id
        other_id = support.create_user(email="other@example.com").id
    sign_in_admin(app, client, fresh=False)
    page = f"/admin/members/{member_id}/"
    helpers.post(
        client,
        f"/admin/members/{member_id}/comp",
        {"days": "90", "reason": "Guest instructor"},
        headers={"Referer": BASE + page},
    )
    _confirm(client, "/admin/")
    other = client.get(f"/admin/members/{other_id}/").text
    assert _input(other, "reason") == "" and _input(other, "days") == "30"


def test_a_password_or_token_typed_in_the_form_is_not_kept(app, client):
    from campus.admin import security

    with app.test_request_context(
        "/admin/x", method="POST", data={"password": "hunter2", "csrf_token": "t", "reason": "r"}
    ):
        from flask import session

        security.keep_typed_fields("/admin/members/1/")
        kept = session[security.KEPT_KEY]["fields"]
    assert kept == [["reason", "r"]]

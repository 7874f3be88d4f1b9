"""Members admin: search, the member's page, comp grants, disabling, verification emails."""

from __future__ import annotations

import re

from sqlalchemy import select

from tests import support
from tests.admin import helpers


def _unwrapped(html: str) -> str:
    """The page without the spans and <wbr> an address in the list wraps at."""
    return re.sub(r'<span class="keep-together">([^<]*)</span>|<wbr>', r"\1", html)


def _member(app, **fields) -> int:
    with app.app_context():
        return support.create_user(**fields).id


def _paid(app, user_id: int) -> bool:
    from campus.accounts.models import User
    from campus.billing.access import membership_state
    from campus.extensions import db

    with app.app_context():
        return membership_state(_SignedIn(db.session.get(User, user_id))).has_access


class _SignedIn:
    """A user row seen as signed in (what the access rule expects)."""

    is_authenticated = True

    def __init__(self, user) -> None:
        self.id, self.is_admin = user.id, user.is_admin


def test_members_are_found_by_name_or_email(app, client):
    _member(app, email="harper.kim@example.com", full_name="Harper Kim")
    _member(app, email="rowan@example.com", full_name="Rowan Silva")
    helpers.sign_in_admin(app, client)
    by_name = _unwrapped(client.get("/admin/members/?search=harper").get_data(as_text=True))
    assert "harper.kim@example.com" in by_name and "rowan@example.com" not in by_name
    by_email = _unwrapped(
        client.get("/admin/members/?search=rowan%40example").get_data(as_text=True)
    )
    assert "rowan@example.com" in by_email and "harper.kim@example.com" not in by_email


def test_an_exact_search_ending_in_a_backslash_is_a_search(app, client):
    """An exact search ("=x") may end in a backslash: it is text, not PostgreSQL's LIKE escape."""
    from urllib.parse import quote

    from tests.programs.helpers import make_program

    _member(app, email="sam@example.com", full_name="Sam\\")
    with app.app_context():
        make_program(slug="c-drive", title="C:\\")
    helpers.sign_in_admin(app, client)
    exact = client.get("/admin/members/?search=" + quote("=sam\\"))
    assert exact.status_code == 200 and "sam@example.com" in _unwrapped(exact.text)
    nobody = client.get("/admin/members/?search=" + quote("=x\\"))
    assert nobody.status_code == 200 and "sam@example.com" not in _unwrapped(nobody.text)
    # The lists without a search of their own: Flask-Admin's, through the same terms.
    programs = client.get("/admin/programs/?search=" + quote("=c:\\"))
    assert programs.status_code == 200 and "c-drive" in programs.text
    # A text filter's "contains" reads its value the same way (filter 0: the role contains).
    filtered = client.get("/admin/members/?flt0_0=" + quote("=\\"))
    assert filtered.status_code == 200


def test_a_member_is_found_by_any_form_of_their_address(app, client):
    import unicodedata
    from urllib.parse import quote

    # Stored in one form (the domain as xn--), or in the form typed before there was one.
    _member(app, email="kim@xn--bcher-kva.example", full_name="Kim Lee")
    _member(app, email=unicodedata.normalize("NFD", "josé@example.com"), full_name="Jo Sé")
    _member(app, email="rowan@example.com", full_name="Rowan Silva")
    helpers.sign_in_admin(app, client)
    by_idn = client.get("/admin/members/?search=" + quote("Kim@Bücher.example")).text
    assert "Kim Lee" in by_idn and "Rowan Silva" not in by_idn
    composed = unicodedata.normalize("NFC", "josé@example.com")
    by_accent = client.get("/admin/members/?search=" + quote(composed)).text
    assert "Jo Sé" in by_accent and "Rowan Silva" not in by_accent
    by_part = client.get("/admin/members/?search=" + quote(composed[:4])).text
    assert "Jo Sé" in by_part and "Rowan Silva" not in by_part


def test_the_member_page_shows_profile_membership_history_events_and_learning(app, client):
    from tests.learning.helpers import enroll_directly, make_course

    with app.app_context():
        user = support.create_user(full_name="Mia Member", license_number="LMT-42")
        sub = support.make_member(user.id, "active", stripe_customer_id="cus_mia")
        support.grant_comp(user.id, reason="Speaker at the spring conference")
        course = make_course("member-page-course")
        enroll_directly(user.id, course.id)
        user_id, sub_id = user.id, sub.stripe_subscription_id
    helpers.make_event(
        app,
        status="processed",
        event_type="customer.subscription.updated",
        obj={"id": sub_id, "object": "subscription", "customer": "cus_mia"},
    )
    helpers.make_event(app, status="processed", event_type="invoice.paid")  # someone else's
    helpers.sign_in_admin(app, client)
    html = client.get(f"/admin/members/{user_id}/").get_data(as_text=True)
    assert "Mia Member" in html and "LMT-42" in html
    assert "has access" in html
    assert f"Stripe subscription {sub_id}" in html
    assert "Comp membership: Speaker at the spring conference" in html
    assert "customer.subscription.updated" in html and "invoice.paid" not in html
    assert "Course member-page-course" in html and "0/3 lessons" in html


def test_the_membership_history_writes_its_dates_as_its_since_dates(app, client):
    # "since December 5, 2026 · until 2027-12-05": two ways of writing a date in one line.
    import re

    with app.app_context():
        user = support.create_user()
        support.make_member(user.id, "active", stripe_customer_id="cus_dates")
        support.grant_comp(user.id, reason="Speaker")
        user_id = user.id
    helpers.sign_in_admin(app, client)
    html = client.get(f"/admin/members/{user_id}/").get_data(as_text=True)
    history = re.search(r'<ul class="timeline">(.*?)</ul>', html, re.S).group(1)
    text = re.sub(r"<[^>]+>", " ", history)
    assert "until " in text and "period ends " in text
    assert not re.search(r"\d{4}-\d{2}-\d{2}", text), text


def test_granting_a_comp_needs_a_fresh_password(app, client):
    member_id = _member(app)
    helpers.sign_in_admin(app, client, fresh=False)
    response = helpers.post(
        client,
        f"/admin/members/{member_id}/comp",
        {"days": "30", "reason": "Guest instructor"},
        headers={"Referer": f"http://localhost/admin/members/{member_id}/"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == (f"/admin/confirm/?next=/admin/members/{member_id}/")
    assert not _paid(app, member_id)
    wrong = helpers.confirm_password(client, "not my password")
    assert wrong.status_code == 422 and "That is not your password." in helpers.flashes(wrong)
    right = helpers.confirm_password(client)
    assert right.status_code == 302 and right.headers["Location"] == "/admin/"
    response = helpers.post(
        client, f"/admin/members/{member_id}/comp", {"days": "30", "reason": "Guest instructor"}
    )
    assert response.status_code == 302
    assert _paid(app, member_id)


def test_admin_grants_and_ends_a_comp_membership_and_both_are_audited(app, client):
    member_id = _member(app, email="guest@example.com")
    admin_id = helpers.sign_in_admin(app, client)
    response = helpers.post(
        client,
        f"/admin/members/{member_id}/comp",
        {"days": "90", "reason": "Guest instructor"},
        follow_redirects=True,
    )
    assert "guest@example.com has a comp membership for 90 days." in helpers.flashes(response)
    assert _paid(app, member_id)
    response = helpers.post(
        client, f"/admin/members/{member_id}/end-comp", {}, follow_redirects=True
    )
    assert "The comp membership has ended." in helpers.flashes(response)
    assert not _paid(app, member_id)
    grant, end = helpers.audit_entries(app, object_type="User", object_id=str(member_id))
    assert (grant.action, grant.actor_id) == ("comp_grant", admin_id)
    assert grant.after["reason"] == "Guest instructor"
    assert end.action == "comp_end"
    assert end.before["comps"][0]["revoked_at"] is None
    assert end.after["comps"][0]["revoked_at"] is not None


def test_bad_comp_input_is_explained_and_changes_nothing(app, client):
    from campus.billing.models import CompMembership
    from campus.extensions import db

    member_id = _member(app)
    helpers.sign_in_admin(app, client)
    for data, message in (
        ({"days": "0", "reason": "x"}, "Days must be between 1 and 3660."),
        ({"days": "30", "reason": ""}, "Say why (it is kept in the log)."),
        ({"days": "soon", "reason": "x"}, "Not a valid integer value."),
    ):
        response = helpers.post(
            client, f"/admin/members/{member_id}/comp", data, follow_redirects=True
        )
        assert any(message in m for m in helpers.flashes(response)), helpers.flashes(response)
    nothing = helpers.post(
        client, f"/admin/members/{member_id}/end-comp", {}, follow_redirects=True
    )
    assert any("has no comp membership in force" in m for m in helpers.flashes(nothing))
    with app.app_context():
        assert db.session.scalar(select(CompMembership)) is None
    assert helpers.audit_entries(app) == []


def test_a_comp_reason_with_a_control_or_direction_character_is_refused(app, client):
    # One-line text an admin types is refused with these, as SECURITY.md says: the reason is
    # shown on the member's admin page and kept in the log, where "\u202e" turns it around.
    from campus.billing.models import CompMembership
    from campus.extensions import db

    member_id = _member(app)
    helpers.sign_in_admin(app, client)
    for reason in ("Guest \u202einstructor", "Guest\x1binstructor"):
        response = helpers.post(
            client,
            f"/admin/members/{member_id}/comp",
            {"days": "30", "reason": reason},
            follow_redirects=True,
        )
        assert any("text-direction character" in m for m in helpers.flashes(response)), (
            helpers.flashes(response)
        )
    with app.app_context():
        assert db.session.scalar(select(CompMembership)) is None
    assert helpers.audit_entries(app) == []


def test_a_disabled_account_is_signed_out_everywhere(app, client):
    with app.app_context():
        member = support.create_user(email="leaving@example.com")
        member_id = member.id
    member_client = app.test_client()
    support.login(member_client, "leaving@example.com")
    assert member_client.get("/account").status_code == 200
    helpers.sign_in_admin(app, client)
    response = helpers.post(
        client, f"/admin/members/{member_id}/disable", {}, follow_redirects=True
    )
    assert "leaving@example.com is disabled and signed out everywhere." in helpers.flashes(response)
    assert member_client.get("/account").status_code == 302  # the old session no longer works
    (entry,) = helpers.audit_entries(app, action="disable")
    assert entry.before["disabled_at"] is None and entry.after["disabled_at"] is not None
    assert "totp_secret" not in entry.after
    assert "password_hash" not in entry.after
    helpers.post(client, f"/admin/members/{member_id}/enable", {})
    # The member's own sign-in is logged too; the admin's actions are these two.
    assert [e.action for e in helpers.audit_entries(app) if e.action != "sign_in"] == [
        "disable",
        "enable",
    ]


def test_an_admin_cannot_disable_their_own_account(app, client):
    admin_id = helpers.sign_in_admin(app, client)
    response = helpers.post(client, f"/admin/members/{admin_id}/disable", {}, follow_redirects=True)
    assert "You cannot disable your own account." in helpers.flashes(response)
    assert client.get("/admin/").status_code == 200


def test_an_admin_cannot_disable_another_admin(app, client):
    # As with their role: a hijacked admin session must not lock the other admins out.
    from campus.accounts.models import User
    from campus.extensions import db

    other_id = _member(app, email="second.admin@example.com", role="admin")
    helpers.sign_in_admin(app, client)
    page = client.get(f"/admin/members/{other_id}/")
    assert page.status_code == 200 and "second.admin@example.com" in page.text
    assert f"/admin/members/{other_id}/disable" not in page.text
    response = helpers.post(client, f"/admin/members/{other_id}/disable", {}, follow_redirects=True)
    assert helpers.flashes(response) == [
        "second.admin@example.com is an admin: only the site's operator takes an admin's access "
        "away (flask set-role, to make the account a student first)."
    ]
    with app.app_context():
        assert db.session.get(User, other_id).disabled_at is None
    assert [e.action for e in helpers.audit_entries(app)] == []


def test_resending_verification_emails_a_new_link(app, client):
    member_id = _member(app, email="unverified@example.com", verified=False)
    helpers.sign_in_admin(app, client)
    response = helpers.post(
        client, f"/admin/members/{member_id}/resend-verification", {}, follow_redirects=True
    )
    assert "A new verification link is on its way to unverified@example.com." in helpers.flashes(
        response
    )
    (message,) = [m for m in support.outbox(app) if m["To"] == "unverified@example.com"]
    assert "/verify-email/" in support.body_of(message)
    assert [e.action for e in helpers.audit_entries(app)] == ["resend_verification"]
    verified = _member(app, email="done@example.com")
    response = helpers.post(
        client, f"/admin/members/{verified}/resend-verification", {}, follow_redirects=True
    )
    assert "done@example.com has already confirmed their address." in helpers.flashes(response)


def test_admin_forms_without_a_csrf_token_are_refused(app, client):
    member_id = _member(app)
    helpers.sign_in_admin(app, client)
    response = client.post(f"/admin/members/{member_id}/comp", data={"days": "30", "reason": "x"})
    assert response.status_code == 400
    assert not _paid(app, member_id)
    assert helpers.audit_entries(app) == []


def test_the_members_list_shows_each_members_membership_status(app, client):
    from datetime import timedelta

    from campus.models.base import utcnow

    with app.app_context():
        paying = support.create_user(email="paying@example.com").id
        support.make_member(paying, "active")
        comped = support.create_user(email="comped@example.com").id
        support.grant_comp(comped, days=10)
        lapsed = support.create_user(email="lapsed@example.com").id
        support.make_member(lapsed, "past_due", past_due_since=utcnow() - timedelta(days=30))
        support.create_user(email="browsing@example.com")
    helpers.sign_in_admin(app, client)
    html = _unwrapped(client.get("/admin/members/").get_data(as_text=True))
    rows = {
        email: html[html.index(f">{email}</a>") :].split("</tr>", 1)[0]
        for email in (
            "paying@example.com",
            "comped@example.com",
            "lapsed@example.com",
            "browsing@example.com",
        )
    }
    assert '<span class="badge badge-ok">Active</span>' in rows["paying@example.com"]
    assert '<span class="badge badge-ok">Comp</span> until' in rows["comped@example.com"]
    assert '<span class="badge badge-danger">Past due</span>' in rows["lapsed@example.com"]
    assert '<span class="badge badge-muted">No membership</span>' in rows["browsing@example.com"]


def test_the_member_page_keeps_the_members_own_activity_apart_from_admin_changes(app, client):
    with app.app_context():
        member_id = support.create_user(email="kai@example.com", verified=False).id
    support.post_form(app.test_client(), "/login", {"email": "kai@example.com", "password": "no"})
    support.login(app.test_client(), "kai@example.com")
    helpers.sign_in_admin(app, client)
    helpers.post(client, f"/admin/members/{member_id}/resend-verification", {})
    with app.app_context():
        from campus.admin.models import AuditEntry
        from campus.extensions import db

        # An admin whose account is gone since: the entry keeps their email, and stays theirs.
        db.session.add(
            AuditEntry(
                actor_id=None,
                actor_email="former.admin@example.com",
                action="update",
                object_type="User",
                object_id=str(member_id),
                summary="kai@example.com: profession",
            )
        )
        db.session.commit()
    html = client.get(f"/admin/members/{member_id}/").get_data(as_text=True)
    assert "<h2>Account activity</h2>" in html
    activity, admin = html.split("<h2>Account activity</h2>")[1].split("<h2>Admin changes</h2>")
    assert "kai@example.com: signed in with password" in activity and "by the member" in activity
    assert "password not accepted" in activity and "by system" in activity
    assert "resend_verification" not in activity and "former.admin" not in activity
    assert "resend_verification" in admin and "former.admin@example.com" in admin
    assert "signed in" not in admin and "No admin has changed" not in admin


def test_a_disabled_practitioners_profile_leaves_the_directory_until_enabled(app, client):
    from tests.directory.helpers import make_profile

    with app.app_context():
        member = support.create_user(full_name="Pat Disabled")
        slug = make_profile("10001", user=member, display_name="Pat Disabled").slug
        member_id = member.id
    visitor = app.test_client()
    assert visitor.get(f"/directory/{slug}").status_code == 200
    helpers.sign_in_admin(app, client)
    helpers.post(client, f"/admin/members/{member_id}/disable", {})
    assert visitor.get(f"/directory/{slug}").status_code == 404
    assert slug not in visitor.get("/directory/?zip=10001").text
    helpers.post(client, f"/admin/members/{member_id}/enable", {})
    assert visitor.get(f"/directory/{slug}").status_code == 200
    assert slug in visitor.get("/directory/?zip=10001").text


def test_a_comp_of_more_days_than_a_float_holds_is_refused_not_an_error(app, client):
    # WTForms' range check turns the number into a float: past about 10**308 that raised
    # OverflowError, a 500, before anything said the number is out of range.
    from campus.billing.models import CompMembership
    from campus.extensions import db

    member_id = _member(app)
    helpers.sign_in_admin(app, client)
    response = helpers.post(
        client, f"/admin/members/{member_id}/comp", {"days": "1" * 400, "reason": "x"}
    )
    assert response.status_code in (200, 302), response.status_code
    followed = client.get(f"/admin/members/{member_id}/")
    assert any("too large" in m for m in helpers.flashes(followed)), helpers.flashes(followed)
    with app.app_context():
        assert db.session.scalar(select(CompMembership)) is None
    assert helpers.audit_entries(app) == []


def test_an_address_in_the_members_list_wraps_only_between_its_parts(app, client):
    # The Email cell's `overflow-wrap: anywhere` broke "campus.examp" / "le".
    _member(app, email="ann-lee@campus.example", full_name="Ann Lee")
    helpers.sign_in_admin(app, client)
    html = client.get("/admin/members/?search=ann-lee").get_data(as_text=True)
    cell = re.search(r'<td class="col-email">\s*(<a [^>]*>.*?</a>)', html, re.S)
    assert cell, "no Email cell"
    assert re.sub(r"<a [^>]*>", "<a>", cell.group(1)) == (
        '<a><span class="keep-together">ann-</span><wbr><span class="keep-together">lee@</span>'
        '<wbr><span class="keep-together">campus.</span><wbr>'
        '<span class="keep-together">example</span></a>'
    )

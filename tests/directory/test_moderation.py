"""Moderators hide a profile with a reason (emailed, audited) and unhide it; students cannot."""

from __future__ import annotations

from tests import support
from tests.admin.helpers import audit_entries, sign_in_admin
from tests.directory.helpers import make_profile


def _profile(app, email="pat@example.org"):
    with app.app_context():
        user = support.create_user(email=email, full_name="Pat Practitioner")
        profile = make_profile("10001", user=user)
        return profile.id, profile.slug


def test_an_admin_hides_a_profile_with_a_reason_that_is_emailed(app, client):
    profile_id, slug = _profile(app)
    sign_in_admin(app, client)
    page = client.get(f"/admin/directory/details/?id={profile_id}")
    assert page.status_code == 200 and "Hide from the directory" in page.text
    response = support.post_form(
        client, f"/admin/directory/{profile_id}/hide", {"hide-reason": "Claims a fake license"}
    )
    assert response.status_code == 302
    visitor = app.test_client()
    assert visitor.get(f"/directory/{slug}").status_code == 404
    assert slug not in visitor.get("/directory/?zip=10001").text
    (mail,) = [m for m in support.outbox(app) if m["To"] == "pat@example.org"]
    assert "Claims a fake license" in support.body_of(mail)
    (entry,) = audit_entries(app, action="directory_hide")
    assert entry.object_id == str(profile_id) and "Claims a fake license" in entry.summary

    support.post_form(client, f"/admin/directory/{profile_id}/unhide")
    assert visitor.get(f"/directory/{slug}").status_code == 200
    assert [e.action for e in audit_entries(app, action="directory_unhide")] == ["directory_unhide"]


def test_hiding_needs_a_reason_and_a_fresh_password(app, client):
    profile_id, slug = _profile(app)
    sign_in_admin(app, client)
    empty = support.post_form(client, f"/admin/directory/{profile_id}/hide", {"hide-reason": ""})
    # The page again, the refusal under the Reason box (a screen below the top on a phone).
    assert empty.status_code == 422
    under = empty.text.split('id="hide-reason-msg"', 1)[1].split("</div>", 1)[0]
    assert "field-error" in under
    assert app.test_client().get(f"/directory/{slug}").status_code == 200
    stale = app.test_client()
    sign_in_admin(app, stale, fresh=False)
    response = support.post_form(
        stale, f"/admin/directory/{profile_id}/hide", {"hide-reason": "Spam"}
    )
    assert response.status_code == 302 and "/admin/confirm" in response.headers["Location"]
    assert app.test_client().get(f"/directory/{slug}").status_code == 200


def test_a_reason_of_zero_width_characters_alone_hides_nothing(app, client):
    # The practitioner would be emailed that their profile was hidden, for a blank reason.
    profile_id, slug = _profile(app)
    sign_in_admin(app, client)
    response = support.post_form(
        client,
        f"/admin/directory/{profile_id}/hide",
        {"hide-reason": "\u200b\u200d \u0301"},
        follow_redirects=True,
    )
    assert "Give the practitioner a reason." in response.text
    assert app.test_client().get(f"/directory/{slug}").status_code == 200
    assert not [m for m in support.outbox(app) if m["To"] == "pat@example.org"]
    assert not audit_entries(app, action="directory_hide")


def test_a_student_cannot_moderate(app, client):
    profile_id, slug = _profile(app)
    with app.app_context():
        student = support.create_user()
        support.sign_in_directly(client, student.id)
    response = support.post_form(
        client, f"/admin/directory/{profile_id}/hide", {"hide-reason": "Spam"}
    )
    assert response.status_code == 403
    assert app.test_client().get(f"/directory/{slug}").status_code == 200


def test_a_hidden_profile_cannot_be_republished_by_its_owner(app, client):
    from campus.directory import actions
    from campus.directory.models import DirectoryProfile
    from campus.extensions import db

    profile_id, slug = _profile(app)
    with app.app_context():
        profile = db.session.get(DirectoryProfile, profile_id)
        actions.hide_profile(profile, "Spam", actor=None)
        db.session.commit()
        support.sign_in_directly(client, profile.user_id)
    page = client.get("/directory/me").text
    assert "Hidden by a moderator" in page and "Spam" in page
    support.post_form(client, "/directory/me/unpublish")
    response = support.post_form(client, "/directory/me/publish", follow_redirects=True)
    assert "A moderator has hidden this profile" in response.text
    assert app.test_client().get(f"/directory/{slug}").status_code == 404


def test_hiding_twice_emails_and_logs_once_and_unhiding_a_listed_profile_changes_nothing(
    app, client
):
    from tests.admin.helpers import flashes

    profile_id, slug = _profile(app)
    sign_in_admin(app, client)
    hide = f"/admin/directory/{profile_id}/hide"
    support.post_form(client, hide, {"hide-reason": "Claims a fake license"})
    # A second moderator, or a second click, with another reason.
    again = support.post_form(client, hide, {"hide-reason": "Spam"}, follow_redirects=True)
    assert "This profile is already hidden." in flashes(again)
    assert len([m for m in support.outbox(app) if m["To"] == "pat@example.org"]) == 1
    (entry,) = audit_entries(app, action="directory_hide")
    assert "Claims a fake license" in entry.summary

    unhide = f"/admin/directory/{profile_id}/unhide"
    support.post_form(client, unhide)
    again = support.post_form(client, unhide, follow_redirects=True)
    assert "This profile is not hidden." in flashes(again)
    assert len(audit_entries(app, action="directory_unhide")) == 1
    assert app.test_client().get(f"/directory/{slug}").status_code == 200


def test_moderating_a_profile_that_does_not_exist_is_a_404(app, client):
    sign_in_admin(app, client)
    for path in ("/admin/directory/999999/hide", "/admin/directory/999999/unhide"):
        response = support.post_form(client, path, {"hide-reason": "Spam"})
        assert response.status_code == 404, path
    assert audit_entries(app, object_type="DirectoryProfile") == []

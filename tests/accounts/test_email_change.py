"""Changing the email: verified at the new address, announced (masked) at the old one."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from tests import support


def _member(app, email: str = "old@example.com"):
    with app.app_context():
        user = support.create_user(email=email, full_name="Robin Hale")
        return user.id


def _ask(client, new_email: str, password: str = support.DEFAULT_PASSWORD):
    return support.post_form(client, "/account/email", {"email": new_email, "password": password})


def _mail_to(app, address: str):
    return [m for m in support.outbox(app) if m["To"] == address]


def _page_without_token(response, address: str) -> str:
    """The page with the address and the (timestamped) CSRF token taken out."""
    html = response.get_data(as_text=True).replace(address, "X@")
    return re.sub(r'(name="csrf-token" content|name="csrf_token" value)="[^"]+"', "", html)


def _email_of(app, user_id: int) -> str:
    from campus.accounts.models import User
    from campus.extensions import db

    with app.app_context():
        return db.session.get_one(User, user_id).email


def test_the_email_changes_only_when_the_new_address_confirms(app, client):
    user_id = _member(app)
    support.login(client, "old@example.com")
    other_device = app.test_client()
    support.login(other_device, "old@example.com")
    page = _ask(client, "New@Example.com")
    assert page.status_code == 200 and "Check your inbox" in page.get_data(as_text=True)
    assert _email_of(app, user_id) == "old@example.com"
    [message] = _mail_to(app, "new@example.com")
    link = support.link_in(message)
    response = support.confirm_link(client, link)
    assert response.status_code == 302 and response.headers["Location"].endswith("/account")
    assert _email_of(app, user_id) == "new@example.com"
    # The old address is told, without the new address in full.
    [notice] = _mail_to(app, "old@example.com")
    body = support.body_of(notice)
    assert "n•••@e•••.com" in body and "new@example.com" not in body
    # This device stays signed in; the other one is signed out.
    assert client.get("/account").status_code == 200
    assert other_device.get("/account").status_code == 302
    # Signing in works with the new address only.
    fresh = app.test_client()
    support.login(fresh, "new@example.com")
    with app.app_context():
        from campus.audit import AuditEntry
        from campus.extensions import db

        actions = list(db.session.scalars(select(AuditEntry.action)))
        assert "email_change_requested" in actions and "email_changed" in actions


def test_opening_the_link_only_asks_and_the_button_changes_the_email(app, client):
    # Mail providers' scanners open every link in a message: opening it must change nothing.
    user_id = _member(app)
    support.login(client, "old@example.com")
    _ask(client, "new@example.com")
    link = support.link_in(_mail_to(app, "new@example.com")[0])
    for _ in range(2):
        page = client.get(link)
        assert page.status_code == 200
        assert "<strong>new@example.com</strong>" in page.text
        assert "instead of old@example.com" in page.text
        assert re.search(
            r'<form method="post">\s*<input name="csrf_token" type="hidden"', page.text
        )
        assert ">Confirm this address</button>" in page.text
    assert _email_of(app, user_id) == "old@example.com"
    assert _mail_to(app, "old@example.com") == []
    assert client.post(link).status_code == 400  # no form token: nothing changes
    assert _email_of(app, user_id) == "old@example.com"
    assert support.confirm_link(client, link).status_code == 302
    assert _email_of(app, user_id) == "new@example.com"


def test_mail_still_waiting_for_delivery_goes_to_the_new_address(app, client, monkeypatch):
    # The mail server was down (or the worker behind) when the member's comp email was queued;
    # by the time it goes out the member has moved to a new address: the old one, perhaps a
    # former employer's, must not get it.
    from campus.billing import actions
    from campus.extensions import db
    from campus.mail import services
    from campus.mail.tasks import sweep_unsent
    from campus.models.base import utcnow

    user_id = _member(app)
    with app.app_context(), monkeypatch.context() as outage:
        outage.setattr(services, "enqueue_after_commit", lambda *args: None)
        from campus.accounts.models import User

        actions.grant_comp(db.session.get(User, user_id), days=30, reason="speaker", actor=None)
        db.session.commit()
        later = utcnow() + timedelta(minutes=30)
    support.login(client, "old@example.com")
    _ask(client, "new@example.com")
    link = support.link_in(_mail_to(app, "new@example.com")[0])
    assert support.confirm_link(client, link).status_code == 302
    with time_machine.travel(later, tick=False), app.app_context():
        assert sweep_unsent() == 1
    comp = [m for m in support.outbox(app) if "complimentary" in m["Subject"]]
    assert [m["To"] for m in comp] == ["new@example.com"]
    # What was meant for the old address itself (the notice of the change) still goes there.
    assert [m["Subject"] for m in _mail_to(app, "old@example.com")] == [
        "Your Campus email address was changed"
    ]


def test_an_address_never_confirmed_leaves_the_mail_log_after_the_retention(app, client):
    """Mistyped, or someone else's: it never became an account's, like a download's address."""
    from campus.extensions import db
    from campus.mail.models import EmailMessage
    from campus.mail.tasks import erase_old_bodies_task

    _member(app)
    support.login(client, "old@example.com")
    _ask(client, "robin@exmaple.com")
    assert len(_mail_to(app, "robin@exmaple.com")) == 1
    days = app.config["MESSAGE_RETENTION_DAYS"]
    with time_machine.travel(timedelta(days=days + 1), tick=False), app.app_context():
        erase_old_bodies_task.delay().get()
        addresses = db.session.scalars(select(EmailMessage.to)).all()
    assert "robin@exmaple.com" not in addresses


def test_an_address_never_confirmed_leaves_the_account_once_its_link_is_long_dead(app, client):
    from campus.accounts.models import UserToken
    from campus.accounts.tasks import purge_ended_sessions
    from campus.extensions import db

    _member(app)
    support.login(client, "old@example.com")
    _ask(client, "robin@exmaple.com")
    with time_machine.travel(timedelta(days=40), tick=False), app.app_context():
        purge_ended_sessions.delay().get()
        kept = db.session.scalars(select(UserToken.new_email)).all()
    assert "robin@exmaple.com" not in kept


def test_a_link_works_once(app, client):
    user_id = _member(app)
    support.login(client, "old@example.com")
    _ask(client, "new@example.com")
    link = support.link_in(_mail_to(app, "new@example.com")[0])
    assert support.confirm_link(client, link).status_code == 302
    # Opened or pressed again, it says the address is the account's already, and does nothing.
    for again in (client.get(link), support.post_form(client, link)):
        assert again.status_code == 302 and again.headers["Location"].endswith("/account")
    page = client.get("/account").text
    assert "Your email address is already new@example.com." in page
    assert _email_of(app, user_id) == "new@example.com"


def test_an_expired_link_changes_nothing(app, client):
    user_id = _member(app)
    support.login(client, "old@example.com")
    _ask(client, "new@example.com")
    link = support.link_in(_mail_to(app, "new@example.com")[0])
    with app.app_context():
        from campus.models.base import utcnow

        later = utcnow() + timedelta(hours=24, minutes=1)
    with time_machine.travel(later, tick=False):
        support.login(client, "old@example.com")
        for response in (client.get(link), support.post_form(client, link)):
            assert response.status_code == 400 and "expired" in response.text
            assert "Confirm this address" not in response.text
    assert _email_of(app, user_id) == "old@example.com"


def test_only_the_newest_link_works(app, client):
    user_id = _member(app)
    support.login(client, "old@example.com")
    _ask(client, "first@example.com")
    _ask(client, "second@example.com")
    first = support.link_in(_mail_to(app, "first@example.com")[0])
    assert client.get(first).status_code == 400
    assert support.post_form(client, first).status_code == 400
    assert _email_of(app, user_id) == "old@example.com"
    second = support.link_in(_mail_to(app, "second@example.com")[0])
    assert support.confirm_link(client, second).status_code == 302
    assert _email_of(app, user_id) == "second@example.com"


def test_the_link_needs_the_account_that_asked(app, client):
    user_id = _member(app)
    support.login(client, "old@example.com")
    _ask(client, "new@example.com")
    link = support.link_in(_mail_to(app, "new@example.com")[0])
    stranger = app.test_client()
    anonymous = stranger.get(link)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    _member(app, "someone@example.com")
    support.login(stranger, "someone@example.com")
    for refused in (stranger.get(link), support.post_form(stranger, link)):
        assert refused.status_code == 400
        assert "not for the account you are signed in to. Log out" in refused.text
        assert "new@example.com" not in refused.text and "Confirm this address" not in refused.text
    assert stranger.get("/api/v1/me").get_json()["email"] == "someone@example.com"
    assert _email_of(app, user_id) == "old@example.com"


def test_a_taken_address_gets_the_same_answer_and_its_owner_a_note(app, client):
    user_id = _member(app)
    owner_id = _member(app, "taken@example.com")
    support.login(client, "old@example.com")
    taken = _ask(client, "taken@example.com")
    free = _ask(client, "free@example.com")
    assert taken.status_code == free.status_code == 200
    assert _page_without_token(taken, "taken@") == _page_without_token(free, "free@")
    [note] = _mail_to(app, "taken@example.com")
    assert "Nothing was changed" in support.body_of(note)
    assert "/account/email/confirm/" not in support.body_of(note)
    assert _email_of(app, user_id) == "old@example.com"
    assert _email_of(app, owner_id) == "taken@example.com"


def test_an_address_taken_before_the_link_is_followed_is_refused(app, client):
    user_id = _member(app)
    support.login(client, "old@example.com")
    _ask(client, "new@example.com")
    link = support.link_in(_mail_to(app, "new@example.com")[0])
    _member(app, "new@example.com")
    for response in (client.get(link), support.post_form(client, link)):
        assert response.status_code == 400 and "no longer available" in response.text
    assert _email_of(app, user_id) == "old@example.com"


@pytest.mark.parametrize(
    ("new_email", "password", "message"),
    [
        ("new@example.com", "wrong password", "Your password is not correct."),
        ("OLD@example.com", support.DEFAULT_PASSWORD, "That is already your email address."),
        ("not-an-address", support.DEFAULT_PASSWORD, "Enter a valid email address"),
    ],
)
def test_a_refused_request_sends_nothing(app, client, new_email, password, message):
    user_id = _member(app)
    support.login(client, "old@example.com")
    before = len(support.outbox(app))
    response = _ask(client, new_email, password)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert len(support.outbox(app)) == before
    assert _email_of(app, user_id) == "old@example.com"


def test_a_mask_shows_only_the_first_letters():
    from campus.accounts.email_change import mask_email

    assert mask_email("jane.doe@example.com") == "j•••@e•••.com"
    assert mask_email("a@b.co.uk") == "a•••@b•••.uk"


@pytest.mark.parametrize("how", ["reset", "change"])
def test_a_new_password_voids_an_email_change_link_still_out(app, client, how):
    # Someone who took the account asked to move it to their own address. The owner takes it
    # back with a new password; sent to the owner's signed-in browser later, the taker's link
    # would hand them the account again (their address, then a reset to it).
    user_id = _member(app)
    taker = app.test_client()
    support.login(taker, "old@example.com")
    _ask(taker, "taker@example.net")
    [message] = _mail_to(app, "taker@example.net")
    link = support.link_in(message)
    new = {"password": "a brand new secret", "confirm": "a brand new secret"}
    if how == "reset":
        support.post_form(client, "/password/reset", {"email": "old@example.com"})
        [reset] = [m for m in _mail_to(app, "old@example.com") if "Reset" in m["Subject"]]
        assert support.post_form(client, support.link_in(reset), new).status_code == 302
    else:
        support.login(client, "old@example.com")
        change = {"current_password": support.DEFAULT_PASSWORD, **new}
        assert support.post_form(client, "/account/password", change).status_code == 302
    for response in (client.get(link), support.post_form(client, link)):
        assert response.status_code == 400
        assert "already been used" in response.text
    assert _email_of(app, user_id) == "old@example.com"


def test_with_a_second_factor_on_the_email_change_takes_a_code_as_well(app, client):
    # The address is where a reset link goes: changed by whoever had the password and the
    # member's signed-in browser for a moment, it hands them the account's recovery.
    user_id = _member(app)
    with app.app_context():
        secret = support.enable_totp(user_id)
    support.login_with_code(client, "old@example.com", support.totp_code(secret))
    assert _ask(client, "new@example.com").status_code == 422
    wrong = {"email": "new@example.com", "password": support.DEFAULT_PASSWORD, "code": "000000"}
    assert support.post_form(client, "/account/email", wrong).status_code == 422
    assert _mail_to(app, "new@example.com") == []
    with app.app_context():
        from campus.audit import AuditEntry
        from campus.extensions import db

        actions = list(db.session.scalars(select(AuditEntry.action)))
        assert "email_change_refused" in actions and "email_change_requested" not in actions
    right = {**wrong, "code": support.totp_code(secret, steps=1)}
    assert support.post_form(client, "/account/email", right).status_code == 200
    assert len(_mail_to(app, "new@example.com")) == 1


def test_a_copy_of_this_devices_cookies_stops_working_after_the_email_changes(app, client):
    # As after a password change: whoever copied this browser's cookies could otherwise go on
    # in an account whose recovery address just moved, with every other device signed out.
    from campus.accounts.models import UserSession
    from campus.extensions import db

    _member(app)
    support.login(client, "old@example.com", remember="y")
    copied = {name: client.get_cookie(name).value for name in ("session", "remember_token")}
    _ask(client, "new@example.com")
    [message] = _mail_to(app, "new@example.com")
    assert support.confirm_link(client, support.link_in(message)).status_code == 302
    assert client.get("/api/v1/me").status_code == 200  # this browser goes on
    for name, value in copied.items():
        stolen = app.test_client()
        stolen.set_cookie(name, value)
        assert stolen.get("/api/v1/me").status_code == 401, name
    with app.app_context():
        (live,) = db.session.scalars(select(UserSession).where(UserSession.revoked_at.is_(None)))
        assert live.remembered

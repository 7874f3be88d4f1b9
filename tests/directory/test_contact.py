"""Contact through the directory: relayed by email, the address never shown, robots kept out."""

from __future__ import annotations

import pytest

from tests import support
from tests.directory.helpers import make_profile, message_fields

PRACTITIONER_EMAIL = "hidden.practitioner@example.org"


@pytest.fixture
def practitioner(app):
    with app.app_context():
        user = support.create_user(email=PRACTITIONER_EMAIL, full_name="Pat Practitioner")
        profile = make_profile("10001", user=user, display_name="Pat Practitioner")
        return profile.id, profile.slug


def _messages(app):
    from sqlalchemy import select

    from campus.directory.models import ContactMessage
    from campus.extensions import db

    with app.app_context():
        return list(db.session.scalars(select(ContactMessage)))


def _send(app, client, practitioner, **overrides):
    profile_id, slug = practitioner
    client.get(f"/directory/{slug}")  # a visitor opens the page (and its session) first
    return support.post_form(
        client, f"/directory/{slug}/contact", message_fields(app, profile_id, **overrides)
    )


def test_a_message_is_relayed_by_email_and_the_address_is_never_shown(app, client, practitioner):
    profile_id, slug = practitioner
    page = client.get(f"/directory/{slug}")
    assert PRACTITIONER_EMAIL not in page.text
    response = _send(app, client, practitioner)
    assert response.status_code == 302
    after = client.get(response.headers["Location"]).text
    assert "Your message is on its way to Pat Practitioner" in after
    # Said in the contact box, where the page opens (#contact); on a phone the top of the
    # page is screens away, and the visitor saw only the form again, emptied.
    box = after.split('id="contact"', 1)[1].split("</form>", 1)[0]
    assert "Your message is on its way to Pat Practitioner" in box
    assert 'class="flashes"' not in after
    assert PRACTITIONER_EMAIL not in after
    api = client.get("/api/v1/directory?zip=10001").get_data(as_text=True)
    assert slug in api and PRACTITIONER_EMAIL not in api

    sent = support.outbox(app)
    to_practitioner = [m for m in sent if m["To"] == PRACTITIONER_EMAIL]
    to_client = [m for m in sent if m["To"] == "casey@example.net"]
    assert len(to_practitioner) == 1 and len(to_client) == 1
    body = support.body_of(to_practitioner[0])
    assert "do you treat shoulder pain" in body and "casey@example.net" in body
    # The practitioner's Reply answers the client, as the body says it will.
    assert to_practitioner[0]["Reply-To"] == "casey@example.net"
    copy = to_client[0].as_string()
    assert PRACTITIONER_EMAIL not in copy and "Pat Practitioner" in copy
    assert to_client[0]["Reply-To"] is None
    (message,) = _messages(app)
    assert message.relayed_at is not None and message.sender_email == "casey@example.net"
    from campus.directory.models import DirectoryProfile
    from campus.extensions import db

    with app.app_context():
        assert db.session.get(DirectoryProfile, profile_id).messages_received == 1


def test_an_address_a_mail_reader_would_misread_is_relayed_without_a_reply_to(
    app, client, practitioner
):
    # "a,b@..." passes the form's loose check, but as a header it reads as two addresses.
    _send(app, client, practitioner, email="casey,other@example.net")
    (mail,) = [m for m in support.outbox(app) if m["To"] == PRACTITIONER_EMAIL]
    assert mail["Reply-To"] is None
    assert "casey,other@example.net" in support.body_of(mail)


def test_an_address_with_an_internationalised_domain_is_relayed_in_its_ascii_form(
    app, client, practitioner
):
    # In its own letters the domain needs a mail server that speaks SMTPUTF8 (smtplib refuses
    # to hand it to one that does not), and a header cannot carry it: the copy and the Reply
    # went nowhere. Its xn-- form is the same mailbox, and any server takes it.
    _send(app, client, practitioner, email="Casey@B\u00fccher.example")
    sent = support.outbox(app)
    (to_practitioner,) = [m for m in sent if m["To"] == PRACTITIONER_EMAIL]
    assert to_practitioner["Reply-To"] == "casey@xn--bcher-kva.example"
    assert [m["To"] for m in sent if m is not to_practitioner] == ["casey@xn--bcher-kva.example"]


@pytest.mark.parametrize(
    "typed",
    ["casey,other@example.net", "casey@example.net,=?utf-8?q?stranger=40example.org?="],
)
def test_a_copy_goes_to_nobody_the_typed_address_does_not_name_alone(
    app, client, practitioner, typed
):
    from email.utils import getaddresses

    # The second reads, once its encoded word is decoded, as a list naming a stranger.
    _send(app, client, practitioner, email=typed)
    sent = support.outbox(app)
    # The envelope a mail server is handed: every address the To header reads as.
    recipients = [addr for m in sent for _name, addr in getaddresses([str(m["To"])])]
    assert recipients == [PRACTITIONER_EMAIL]
    assert typed in support.body_of(sent[0])


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("casey@example.net", "casey@example.net"),
        ("o'brien@example.ie", "o'brien@example.ie"),
        ("a,b@example.net", None),
        ("a(comment)@example.net", None),
        ("Casey <casey@example.net>", None),
        ("", None),
        (None, None),
    ],
)
def test_only_one_plain_address_becomes_a_reply_to(value, expected):
    from campus.mail.services import single_address

    assert single_address(value) == expected


def test_relaying_twice_sends_nothing_more(app, client, practitioner):
    _send(app, client, practitioner)
    (message,) = _messages(app)
    from campus.directory.tasks import relay_message

    with app.app_context():
        assert relay_message(message.id) is False
    assert len(support.outbox(app)) == 2


def test_a_filled_honeypot_looks_like_success_but_keeps_nothing(app, client, practitioner):
    response = _send(app, client, practitioner, homepage="http://spam.example")
    assert response.status_code == 302
    assert _messages(app) == [] and support.outbox(app) == []


def test_a_form_sent_back_faster_than_a_person_types_keeps_nothing(app, client, practitioner):
    from tests.directory.helpers import stamp_for

    profile_id, _slug = practitioner
    response = _send(app, client, practitioner, stamp=stamp_for(app, profile_id, seconds_ago=0.5))
    assert response.status_code == 302
    assert _messages(app) == []


def test_a_forged_or_borrowed_stamp_keeps_nothing(app, client, practitioner):
    from tests.directory.helpers import stamp_for

    _send(app, client, practitioner, stamp="forged")
    _send(app, client, practitioner, stamp=stamp_for(app, 999_999))
    assert _messages(app) == []


def test_an_expired_form_asks_to_send_again(app, client, practitioner):
    from tests.directory.helpers import stamp_for

    profile_id, _slug = practitioner
    response = _send(app, client, practitioner, stamp=stamp_for(app, profile_id, 3 * 3600))
    assert response.status_code == 422
    assert "The form expired" in response.text
    assert _messages(app) == []


def test_an_expired_form_says_so_in_the_contact_box_the_page_opens_at(app, client, practitioner):
    from tests.directory.helpers import stamp_for

    profile_id, _slug = practitioner
    response = _send(app, client, practitioner, stamp=stamp_for(app, profile_id, 3 * 3600))
    # The form is sent to ...#contact, so the page opens at the contact box: the reason is there.
    box = response.text.split('id="contact"', 1)[1]
    assert "The form expired" in box


def test_too_many_links_are_refused(app, client, practitioner):
    spam = "Cheap pills https://a.example https://b.example www.c.example"
    response = _send(app, client, practitioner, message=spam)
    assert response.status_code == 422
    assert "at most 2 links" in response.text
    assert _messages(app) == []


def test_a_bad_email_is_refused_with_a_message(app, client, practitioner):
    response = _send(app, client, practitioner, email="not-an-address")
    assert response.status_code == 422
    assert "Enter your email address" in response.text


def test_a_name_with_nothing_to_read_is_refused(app, client, practitioner):
    """Zero-width spaces passed: the practitioner was told that "" sent them a message."""
    response = _send(app, client, practitioner, name="\u200b\u200b")
    assert response.status_code == 422
    assert "Tell the practitioner your name" in response.text
    assert _messages(app) == []


@pytest.mark.parametrize("message", ["\u200b" * 12, "\u200d\u0301" * 6 + "\n" * 4])
def test_a_message_with_nothing_to_read_is_refused(app, client, practitioner, message):
    """Ten zero-width spaces passed as "a few words": the practitioner got an empty message."""
    response = _send(app, client, practitioner, message=message)
    assert response.status_code == 422
    assert "Write a few words" in response.text
    assert _messages(app) == []


def test_the_practitioner_can_turn_contact_off(app, client, practitioner):
    from campus.directory.models import DirectoryProfile
    from campus.extensions import db

    profile_id, slug = practitioner
    with app.app_context():
        db.session.get(DirectoryProfile, profile_id).contact_enabled = False
        db.session.commit()
    page = client.get(f"/directory/{slug}").text
    assert "not taking messages through the directory" in page
    assert f"/directory/{slug}/contact" not in page
    response = _send(app, client, practitioner)
    assert response.status_code == 409
    assert _messages(app) == []


def test_messages_are_limited_per_address(app, client, practitioner):
    app.config["CONTACT_ADDRESS_RATE_LIMIT"] = "2 per hour"
    statuses = [
        _send(
            app, client, practitioner, message=f"Do you treat shoulder pain? Question {n}."
        ).status_code
        for n in range(3)
    ]
    assert statuses == [302, 302, 429]
    assert len(_messages(app)) == 2


def test_messages_are_limited_per_practitioner_whoever_sends(app, practitioner):
    app.config["CONTACT_PROFILE_RATE_LIMIT"] = "2 per hour"
    statuses = []
    for n in range(3):
        visitor = app.test_client()
        statuses.append(
            _send(
                app,
                visitor,
                practitioner,
                environ_overrides={"REMOTE_ADDR": f"198.51.100.{n + 1}"},
            ).status_code
        )
    assert statuses == [302, 302, 429]


def test_refused_and_robot_forms_do_not_close_a_practitioner_to_clients(app, practitioner):
    # Every post counted against the practitioner's budget, refused or not: a few robots
    # (their honeypot filled, nothing kept) or forms sent without an address used it up, and
    # real clients were turned away with 429 for the rest of the day.
    app.config["CONTACT_PROFILE_RATE_LIMIT"] = "2 per hour"
    profile_id, slug = practitioner
    sent = iter(range(1, 100))

    def send(**overrides) -> int:
        visitor, address = app.test_client(), {"REMOTE_ADDR": f"198.51.100.{next(sent)}"}
        visitor.get(f"/directory/{slug}", environ_overrides=address)
        fields = message_fields(app, profile_id, **overrides)
        url = f"/directory/{slug}/contact"
        return support.post_form(visitor, url, fields, environ_overrides=address).status_code

    refused = [send(homepage="http://spam.example"), send(email=""), send(homepage="x")]
    assert refused == [302, 422, 302]  # a robot is told what a person would be
    # The practitioner's limit still holds for the messages they receive.
    asked = [send(message=f"Do you treat shoulder pain? Question {n}.") for n in range(3)]
    assert asked == [302, 302, 429]
    assert len(_messages(app)) == 2


def test_no_message_to_a_hidden_profile(app, client, practitioner):
    from campus.directory import actions
    from campus.directory.models import DirectoryProfile
    from campus.extensions import db

    profile_id, slug = practitioner
    with app.app_context():
        actions.hide_profile(db.session.get(DirectoryProfile, profile_id), "Spam", actor=None)
        db.session.commit()
    response = support.post_form(
        client, f"/directory/{slug}/contact", message_fields(app, profile_id)
    )
    assert response.status_code == 404
    assert _messages(app) == []


def test_the_log_of_a_message_names_no_sender_even_one_signed_in(app, client, practitioner):
    from sqlalchemy import select

    from campus.audit import AuditEntry
    from campus.extensions import db

    with app.app_context():
        member = support.create_user(email="signed.in.client@example.com")
        support.sign_in_directly(client, member.id)
    assert _send(app, client, practitioner).status_code == 302
    with app.app_context():
        [entry] = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "directory_message")
        ).all()
        # Who wrote stays with the message, and leaves with it when messages are deleted.
        assert (entry.actor_id, entry.actor_email) == (None, "system")


def test_a_message_is_no_change_to_the_profile_for_the_sitemap_or_the_moderators(
    app, client, practitioner
):
    """Counted like an impression: the profile's last change (sitemap lastmod) stays put."""
    from datetime import timedelta

    import time_machine

    from campus.directory.models import DirectoryProfile
    from campus.extensions import db
    from campus.models.base import utcnow

    profile_id, _slug = practitioner
    with app.app_context():
        edited = db.session.get(DirectoryProfile, profile_id).updated_at
    with time_machine.travel(utcnow() + timedelta(days=3), tick=False):
        assert _send(app, client, practitioner).status_code == 302
        sitemap = client.get("/directory/sitemap.xml").text
    with app.app_context():
        profile = db.session.get(DirectoryProfile, profile_id)
        assert profile.messages_received == 1
        assert profile.updated_at == edited
    assert f"<lastmod>{edited:%Y-%m-%d}</lastmod>" in sitemap


def _page_stamp(html: str) -> str:
    import re

    (stamp,) = re.findall(r'name="stamp" type="hidden" value="([^"]+)"', html)
    return stamp


@pytest.mark.parametrize(
    "refused",
    [
        {"stamp": "expired"},  # "The form expired. Please send your message again."
        {"email": "casey@example"},  # a typo, put right in a second
        {"name": ""},  # a field left empty
    ],
)
def test_a_message_sent_again_at_once_from_the_refused_form_is_kept(
    app, client, practitioner, refused
):
    """The page the refusal came back on is sent again without a wait: a person, not a robot.

    It carried a stamp of the moment it was shown again, so sending it straight back (as the
    expired form asks) looked faster than a person types: "on its way", and nothing was kept.
    """
    from tests.directory.helpers import stamp_for

    profile_id, slug = practitioner
    if refused.get("stamp") == "expired":
        refused = {"stamp": stamp_for(app, profile_id, 3 * 3600)}
    response = _send(app, client, practitioner, **refused)
    assert response.status_code == 422 and _messages(app) == []
    again = support.post_form(
        client,
        f"/directory/{slug}/contact",
        message_fields(app, profile_id, stamp=_page_stamp(response.text)),
    )
    assert again.status_code == 302
    (message,) = _messages(app)
    assert message.sender_email == "casey@example.net"


def test_a_double_click_on_send_keeps_relays_and_counts_one_message(app, client, practitioner):
    from sqlalchemy import func, select

    from campus.audit import AuditEntry
    from campus.directory.models import DirectoryProfile
    from campus.extensions import db

    profile_id, slug = practitioner
    client.get(f"/directory/{slug}")
    form = message_fields(app, profile_id)
    # The same form twice (a double click, or sent again from the browser's history).
    statuses = [
        support.post_form(client, f"/directory/{slug}/contact", dict(form)).status_code
        for _ in range(2)
    ]
    assert statuses == [302, 302]
    assert len(_messages(app)) == 1
    assert [m["To"] for m in support.outbox(app)].count(PRACTITIONER_EMAIL) == 1
    with app.app_context():
        assert db.session.get(DirectoryProfile, profile_id).messages_received == 1
        logged = select(func.count()).where(AuditEntry.action == "directory_message")
        assert db.session.scalar(logged) == 1

"""Renewal reminders: 90, 30 and 7 days before expiry while hours are due, each sent once."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from campus.extensions import db
from campus.licenses.models import License, RenewalReminder
from campus.licenses.reminders import send_reminder, stop_token, threshold_for
from campus.licenses.tasks import send_renewal_reminders
from tests.licenses.helpers import add_license, import_shipped_rules
from tests.support import body_of, create_user, outbox, post_form


def _today() -> date:
    return datetime.now(UTC).date()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("s. 480.0415, F.S.", "s. 480.0415, F.S."),
        ("49 Pa. Code §20.32 (hours)", "49 Pa. Code §20.32 (hours)."),
        ("Is this the rule?", "Is this the rule?"),
        ("8 NYCRR §78.5 ", "8 NYCRR §78.5."),
        ("", ""),
    ],
)
def test_a_citation_ends_with_one_period(text, expected):
    from campus.templating import full_stop

    assert full_stop(text) == expected


@pytest.mark.parametrize(
    ("days_left", "threshold"),
    [(120, None), (91, None), (90, 90), (31, 90), (30, 30), (8, 30), (7, 7), (0, 7), (-1, None)],
)
def test_the_nearest_threshold_reached_is_the_one_sent(days_left, threshold):
    assert threshold_for(days_left) == threshold


def _member_with_license(days_left: int, **fields) -> int:
    import_shipped_rules()
    user = create_user(email="lee@example.com", full_name="Lee Park")
    return add_license(user.id, expires_on=_today() + timedelta(days=days_left), **fields).id


def _sent() -> int:
    return db.session.scalar(select(func.count()).select_from(RenewalReminder)) or 0


def test_one_license_whose_reminder_fails_holds_up_no_other(app, monkeypatch, caplog):
    from campus.licenses import tasks

    with app.app_context():
        first = _member_with_license(25)
        other = add_license(
            create_user(email="kim@example.com").id, expires_on=_today() + timedelta(days=25)
        ).id
        real = tasks.reminders.send_reminder

        def send(license_id: int) -> bool:
            if license_id == first:
                raise ValueError("a rule that cannot be weighed")
            return real(license_id)

        monkeypatch.setattr(tasks.reminders, "send_reminder", send)
        # Whichever comes first, every other license is reminded on this run, and the failure is
        # logged with the license it was about.
        assert send_renewal_reminders() == 1
        assert [r.license_id for r in db.session.scalars(select(RenewalReminder))] == [other]
    assert f"license {first}" in caplog.text


def test_a_reminder_goes_out_once_however_often_the_task_runs(app):
    with app.app_context():
        license_id = _member_with_license(25)
        assert send_renewal_reminders() == 1
        assert send_renewal_reminders() == 0
        assert send_reminder(license_id) is False
        assert _sent() == 1
        row = db.session.scalar(select(RenewalReminder))
        assert (row.days_before, row.cycle_ends_on) == (30, _today() + timedelta(days=25))
    (message,) = outbox(app)
    assert message["To"] == "lee@example.com"
    assert "Massage therapist, Florida: 24 CE hours still due" in message["Subject"]
    body = body_of(message)
    assert "For this renewal you still need 24 CE hours, including:" in body
    assert "Prevention of medical errors: 2 hours" in body
    assert "Human trafficking awareness: 1 hour\n" in body
    assert "Fla. Admin. Code R. 64B7-28.009" in body
    assert "s. 480.0415, F.S. Check with your board" in body and "F.S.." not in body
    assert "/account/licenses/reminders/stop/" in message["List-Unsubscribe"]
    assert "\n\n\n" not in body  # no doubled blank line where the course list would be


def test_each_threshold_is_sent_once_per_cycle(app):
    with app.app_context():
        license_id = _member_with_license(90)
        assert send_reminder(license_id, _today()) is True
        assert send_reminder(license_id, _today() + timedelta(days=1)) is False  # still 90
        assert send_reminder(license_id, _today() + timedelta(days=60)) is True  # 30 days left
        assert send_reminder(license_id, _today() + timedelta(days=84)) is True  # 6 days left
        assert send_reminder(license_id, _today() + timedelta(days=85)) is False
        db.session.commit()
        days = sorted(db.session.scalars(select(RenewalReminder.days_before)))
        assert days == [7, 30, 90]
        # The next cycle (a new expiry date) starts its reminders afresh.
        db.session.get(License, license_id).expires_on += timedelta(days=730)
        db.session.commit()
        assert send_reminder(license_id, _today() + timedelta(days=730)) is True


@pytest.mark.parametrize(
    ("days_left", "fields"),
    [
        (200, {}),  # too early
        (25, {"jurisdiction": "CA", "number": "12345"}),  # CAMTC: no CE required
        (25, {"jurisdiction": "OR", "number": "1"}),  # no rule on file
    ],
)
def test_no_reminder_without_hours_due_soon(app, days_left, fields):
    with app.app_context():
        _member_with_license(days_left, **fields)
        assert send_renewal_reminders() == 0
    assert outbox(app) == []


@pytest.mark.parametrize(("days_left", "when"), [(0, "today"), (1, "in 1 day")])
def test_a_reminder_on_the_last_days_says_when_in_words(app, days_left, when):
    with app.app_context():
        _member_with_license(days_left)
        assert send_renewal_reminders() == 1
    body = body_of(outbox(app)[0])
    assert f", {when}." in body and "0 days" not in body


def test_a_member_who_switched_reminders_off_gets_none(app):
    with app.app_context():
        license_id = _member_with_license(25)
        db.session.get(License, license_id).reminders = False
        db.session.commit()
        assert send_renewal_reminders() == 0


def test_the_emails_stop_link_switches_reminders_off_in_one_click(app, client):
    with app.app_context():
        license_id = _member_with_license(25)
        send_renewal_reminders()
    (message,) = outbox(app)
    path = re.search(r"https?://[^\s/]+(/account/licenses/reminders/stop/\S+)", body_of(message))
    assert path
    page = client.get(path.group(1))
    assert page.status_code == 200 and "Stop these reminders" in page.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(License, license_id).reminders is True  # a GET changes nothing
    r = client.post(path.group(1))  # a mail client's one-click POST: no cookie, no CSRF token
    assert r.status_code == 200 and "Reminders are off" in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(License, license_id).reminders is False


def test_the_stop_link_is_logged_as_the_links_doing_not_the_members(app, client):
    """A mail provider's one-click POST is not the member acting from their own address."""
    from campus.audit import AuditEntry

    with app.app_context():
        license_id = _member_with_license(25)
        send_renewal_reminders()
    (message,) = outbox(app)
    path = re.search(r"https?://[^\s/]+(/account/licenses/reminders/stop/\S+)", body_of(message))
    assert path
    r = client.post(path.group(1), environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert r.status_code == 200
    with app.app_context():
        [entry] = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "license_reminders")
        ).all()
        assert (entry.actor_id, entry.actor_email) == (None, "system")
        assert entry.ip_address is None
        assert entry.object_id == str(license_id)
        assert "signed link" in entry.summary


def test_a_forged_stop_link_changes_nothing(app, client):
    with app.app_context():
        license_id = _member_with_license(25)
        forged = stop_token(db.session.get_one(License, license_id))[:-2] + "xx"
    assert client.post(f"/account/licenses/reminders/stop/{forged}").status_code == 400
    assert post_form(client, "/account/licenses/reminders/stop/abc").status_code == 400
    with app.app_context():
        assert db.session.get(License, license_id).reminders is True


def test_a_license_added_after_another_was_removed_gets_its_own_reminder(app):
    from campus.licenses import actions

    with app.app_context():
        expires = _today() + timedelta(days=25)  # a state's common renewal date
        first_id = _member_with_license(25)
        assert send_renewal_reminders() == 1
        first_owner = db.session.get_one(License, first_id).user
        actions.remove_license(first_owner, first_id)
        db.session.commit()
        # Another member's license, renewing the same day (SQLite may hand out the same id).
        other = create_user(email="sam@example.com", full_name="Sam Reyes")
        add_license(other.id, number="MA99999", expires_on=expires)
        assert send_renewal_reminders() == 1
    assert [m["To"] for m in outbox(app)] == ["lee@example.com", "sam@example.com"]


def test_a_removed_licenses_stop_link_does_not_reach_the_license_that_took_its_id(app, client):
    from campus.licenses import actions

    with app.app_context():
        first_id = _member_with_license(25)
        send_renewal_reminders()
        actions.remove_license(db.session.get_one(License, first_id).user, first_id)
        db.session.commit()
        other = create_user(email="sam@example.com", full_name="Sam Reyes")
        # SQLite hands the highest id out again (PostgreSQL does not, so the row is given it
        # here): the first member's old link names the new row.
        reused = License(
            id=first_id,
            user_id=other.id,
            profession="massage_therapist",
            jurisdiction="FL",
            number="MA99999",
        )
        db.session.add(reused)
        db.session.commit()
        second_id = reused.id
    (message,) = outbox(app)
    path = re.search(r"https?://[^\s/]+(/account/licenses/reminders/stop/\S+)", body_of(message))
    assert path
    page = client.get(path.group(1))
    assert page.status_code == 400 and "Sam" not in page.get_data(as_text=True)
    assert client.post(path.group(1)).status_code == 400
    with app.app_context():
        assert db.session.get_one(License, second_id).reminders is True

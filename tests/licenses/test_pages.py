"""/account/licenses: list, add, edit, remove and reminders, each audited; the API lists them."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from campus.audit import AuditEntry
from campus.extensions import db
from campus.licenses.models import License
from tests.licenses.helpers import add_license
from tests.support import create_user, login, post_form

GOOD = {
    "profession": "massage_therapist",
    "jurisdiction": "FL",
    "number": "ma 12345",
    "expires_on": "2027-08-31",
}


def _licenses(app, user_id: int) -> list[tuple]:
    with app.app_context():
        return [
            (x.profession, x.jurisdiction, x.number, x.expires_on)
            for x in db.session.scalars(select(License).where(License.user_id == user_id))
        ]


def _actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


@pytest.fixture
def member(app, client):
    with app.app_context():
        uid = create_user(email="lee@example.com").id
    login(client, "lee@example.com")
    return uid


def test_a_member_adds_two_licenses_and_sees_them_on_the_page_and_profile(app, client, member):
    r = post_form(client, "/account/licenses", GOOD)
    assert r.status_code == 302
    second = {
        "profession": "physical_therapist",
        "jurisdiction": "TX",
        "number": "1234567",
        "expires_on": "",
    }
    assert post_form(client, "/account/licenses", second).status_code == 302
    assert _licenses(app, member) == [
        ("massage_therapist", "FL", "MA12345", date(2027, 8, 31)),
        ("physical_therapist", "TX", "1234567", None),
    ]
    assert _actions(app).count("license_added") == 2
    page = client.get("/account/licenses").get_data(as_text=True)
    assert "Massage therapist, Florida" in page and "Physical therapist, Texas" in page
    profile = client.get("/account").get_data(as_text=True)
    assert "MA12345" in profile and "Physical therapist, Texas" in profile


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("number", "12345", "A Florida massage therapist license number looks like MA12345"),
        ("number", "MA-12X", "Check the number on your license"),
        ("number", "", "Enter the license number"),
        ("number", "\u00a0\u2003", "Enter the license number as printed on your license"),
        ("number", "MA\u202e12345", "text-direction character"),
        ("jurisdiction", "ZZ", "Not a valid choice"),
        ("jurisdiction", "", "Choose the state or national credential"),
        ("profession", "astronaut", "Not a valid choice"),
        ("expires_on", "31/08/2027", "Not a valid date"),
        ("expires_on", "0999-01-01", "expiry date printed on your license"),
    ],
)
def test_bad_input_gets_a_clear_message_and_changes_nothing(
    app, client, member, field, value, message
):
    r = post_form(client, "/account/licenses", {**GOOD, field: value})
    assert r.status_code == 422
    assert message in r.get_data(as_text=True)
    assert _licenses(app, member) == []
    assert "license_added" not in _actions(app)


@pytest.mark.parametrize("number", ["\u0301", "\u0301\u0308", "-", "./"])
def test_a_number_with_no_letter_or_digit_is_refused_where_no_format_is_known(
    app, client, member, number
):
    # Alabama's numbers have no known format: only the number itself can be checked.
    r = post_form(client, "/account/licenses", {**GOOD, "jurisdiction": "AL", "number": number})
    assert r.status_code == 422
    assert "Enter the license number as printed on your license" in r.get_data(as_text=True)
    assert _licenses(app, member) == []
    assert "license_added" not in _actions(app)


@pytest.mark.parametrize(
    ("jurisdiction", "profession", "number", "ok"),
    [
        ("TX", "massage_therapist", "MT123456", True),
        ("TX", "massage_therapist", "123456", False),
        ("NY", "massage_therapist", "012345", True),
        ("NY", "physical_therapist", "12345", False),
        ("CA", "massage_therapist", "54321", True),
        ("CA", "physical_therapist", "PT 40123", True),
        ("NCBTMB", "massage_therapist", "123456-00", True),
        ("NCBTMB", "massage_therapist", "ABC", False),
        ("OR", "massage_therapist", "LMT-9 / 22", True),  # no known format: any plain number
        # Reported to CE Broker, which matches the full number Florida prints, letters and all.
        ("FL", "athletic_trainer", "AT1234", True),
        ("FL", "athletic_trainer", "1234", False),
        ("FL", "chiropractor", "ch 9876", True),
        ("FL", "chiropractor", "9876", False),
        # Another script's digits match Python's \d by default; no board prints them.
        ("FL", "massage_therapist", "MA\u0661\u0662\u0663\u0664\u0665", False),
        ("NY", "massage_therapist", "\uff10\uff11\uff12\uff13\uff14\uff15", False),
    ],
)
def test_numbers_follow_the_boards_known_format(
    app, client, member, jurisdiction, profession, number, ok
):
    data = {**GOOD, "jurisdiction": jurisdiction, "profession": profession, "number": number}
    r = post_form(client, "/account/licenses", data)
    assert r.status_code == (302 if ok else 422)
    assert len(_licenses(app, member)) == (1 if ok else 0)


def test_editing_and_removing_are_audited_and_keep_to_the_owner(app, client, member):
    with app.app_context():
        mine = add_license(member).id
        theirs = add_license(create_user(email="other@example.com").id, number="MA99999").id
    r = post_form(client, f"/account/licenses/{mine}/edit", {**GOOD, "number": "MA54321"})
    assert r.status_code == 302
    assert _licenses(app, member)[0][2] == "MA54321"
    assert client.get(f"/account/licenses/{theirs}/edit").status_code == 404
    assert post_form(client, f"/account/licenses/{theirs}/remove").status_code == 404
    assert post_form(client, f"/account/licenses/{theirs}/edit", GOOD).status_code == 404
    assert client.get("/account/licenses/99999999999999/edit").status_code == 404
    assert post_form(client, f"/account/licenses/{mine}/remove").status_code == 302
    assert _licenses(app, member) == []
    with app.app_context():
        assert db.session.get(License, theirs).number == "MA99999"
    assert _actions(app)[-2:] == ["license_updated", "license_removed"]


def test_a_bad_edit_changes_nothing(app, client, member):
    with app.app_context():
        mine = add_license(member).id
    r = post_form(client, f"/account/licenses/{mine}/edit", {**GOOD, "number": "12"})
    assert r.status_code == 422
    assert _licenses(app, member)[0][2] == "MA12345"


def test_removing_without_the_csrf_token_changes_nothing(app, client, member):
    with app.app_context():
        mine = add_license(member).id
    client.post(f"/account/licenses/{mine}/remove")
    assert len(_licenses(app, member)) == 1


def test_reminders_switch_off_and_on(app, client, member):
    with app.app_context():
        mine = add_license(member).id
    post_form(client, f"/account/licenses/{mine}/reminders", {"enabled": "0"})
    with app.app_context():
        assert db.session.get(License, mine).reminders is False
    post_form(client, f"/account/licenses/{mine}/reminders", {"enabled": "1"})
    with app.app_context():
        assert db.session.get(License, mine).reminders is True
    assert _actions(app).count("license_reminders") == 2


def test_the_pages_need_a_sign_in(client):
    r = client.get("/account/licenses")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_the_api_lists_the_members_licenses(app, client, member):
    with app.app_context():
        add_license(member, expires_on=date(2027, 8, 31))
        add_license(create_user(email="other@example.com").id, number="MA99999")
    body = client.get("/api/v1/me/licenses").get_json()
    assert body == {
        "licenses": [
            {
                "id": body["licenses"][0]["id"],
                "profession": "massage_therapist",
                "profession_label": "Massage therapist",
                "jurisdiction": "FL",
                "jurisdiction_label": "Florida",
                "number": "MA12345",
                "expires_on": "2027-08-31",
                "expired": False,
                "reminders": True,
                "reminders_active": True,
            }
        ]
    }
    me = client.get("/api/v1/me").get_json()
    assert (me["license_number"], me["license_state"]) == ("MA12345", "FL")


def test_the_api_says_no_reminders_go_out_for_an_expired_or_undated_license(app, client, member):
    from campus import dates

    with app.app_context():
        today = dates.today()
        add_license(member, "FL", expires_on=today - timedelta(days=1))
        add_license(member, "TX", expires_on=today)  # its last day: still reminded
        add_license(member, "NY")  # no expiry date: nothing to count back from
    shown = [
        (item["jurisdiction"], item["expired"], item["reminders"], item["reminders_active"])
        for item in client.get("/api/v1/me/licenses").get_json()["licenses"]
    ]
    assert shown == [
        ("FL", True, True, False),
        ("TX", False, True, True),
        ("NY", False, True, False),
    ]
    fields = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]["License"]
    assert {"expired", "reminders_active"} <= set(fields["properties"])


def test_the_api_answers_401_json_when_signed_out(client):
    r = client.get("/api/v1/me/licenses")
    assert r.status_code == 401
    assert r.get_json()["error"]["code"] == "unauthorized"


def test_the_openapi_document_describes_the_endpoint(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    responses = doc["paths"]["/api/v1/me/licenses"]["get"]["responses"]
    assert {"200", "401"} <= set(responses)


def test_a_license_added_by_a_double_click_is_added_once(app, client, member):
    assert post_form(client, "/account/licenses", GOOD).status_code == 302
    # The second click of a double click arrives once the first is saved.
    again = post_form(client, "/account/licenses", GOOD)
    assert again.status_code == 422
    assert "already on your account" in again.get_data(as_text=True)
    assert _licenses(app, member) == [("massage_therapist", "FL", "MA12345", date(2027, 8, 31))]
    assert _actions(app).count("license_added") == 1


def test_a_license_added_from_two_tabs_at_once_is_added_once(app, member, monkeypatch):
    from campus.accounts.models import User
    from campus.licenses import actions
    from tests import support
    from tests.learning.test_concurrency import _race

    # Each request has looked for the license on file before either is logged and committed.
    support.hold_in_pairs(monkeypatch, actions, "record")

    def add() -> int:
        user = db.session.get_one(User, member)
        fields = {**GOOD, "expires_on": date(2027, 8, 31)}
        return actions.add_license(user, **fields).id

    results, errors = _race(app, 2, add)
    assert len(results) == 1
    assert len(errors) == 1 and isinstance(errors[0], actions.LicenseError)
    assert _licenses(app, member) == [("massage_therapist", "FL", "MA12345", date(2027, 8, 31))]
    assert _actions(app).count("license_added") == 1


def test_an_edit_cannot_make_a_license_a_copy_of_another(app, client, member):
    with app.app_context():
        add_license(member)  # MA12345, Florida
        second = add_license(member, number="MA54321").id
    r = post_form(client, f"/account/licenses/{second}/edit", GOOD)
    assert r.status_code == 422
    assert "already on your account" in r.get_data(as_text=True)
    assert sorted(x[2] for x in _licenses(app, member)) == ["MA12345", "MA54321"]
    # Saving a license as it is stays possible: it is not a copy of itself.
    same = {**GOOD, "number": "MA54321"}
    assert post_form(client, f"/account/licenses/{second}/edit", same).status_code == 302


@pytest.mark.parametrize("invisible", ["\u200b", "\u00ad", "\u2060", "\ufeff", "\u200d"])
def test_invisible_characters_pasted_into_a_number_are_dropped(app, client, member, invisible):
    # Copied from a board's lookup page or a PDF: the number printed and reported to CE Broker
    # must be the one the board holds, and the same license is not on file twice.
    data = {**GOOD, "jurisdiction": "FL", "profession": "athletic_trainer"}
    r = post_form(client, "/account/licenses", {**data, "number": f"AT{invisible}1234"})
    assert r.status_code == 302
    assert [number for _p, _j, number, _e in _licenses(app, member)] == ["AT1234"]
    again = post_form(client, "/account/licenses", {**data, "number": "AT1234"})
    assert again.status_code == 422
    assert "already on your account" in again.get_data(as_text=True)


@pytest.mark.parametrize(
    "number", ["AT\uff11\uff12\uff13\uff14", "\u0661\u0662\u0663\u0664", "CH\u09e7\u09e8\u09e9"]
)
def test_digits_of_another_script_are_refused_where_no_format_is_known(app, client, member, number):
    # Florida athletic trainers and chiropractors are reported to CE Broker, which matches
    # the number against the board's record: 0-9 only.
    data = {**GOOD, "jurisdiction": "FL", "profession": "athletic_trainer", "number": number}
    r = post_form(client, "/account/licenses", data)
    assert r.status_code == 422
    assert "digits 0-9" in r.get_data(as_text=True)
    assert _licenses(app, member) == []


@pytest.mark.parametrize(
    "number",
    ["\uff2c\uff2d\uff34-9", "LMT-\u00b9\u00b2", "LMT-\u2460\u2461", "LMT-\u216b", "\u2116-12"],
)
def test_letters_and_digits_in_another_form_are_refused(app, client, member, number):
    # Fullwidth letters (a keyboard's wide mode), superscript, circled or Roman-numeral signs
    # look like the number printed on the license but are other characters: the certificate
    # printed them, and "LMT-9" typed later was taken for a second license.
    data = {**GOOD, "jurisdiction": "OR", "number": number}  # no known format: any plain number
    r = post_form(client, "/account/licenses", data)
    assert r.status_code == 422
    assert "letters A-Z and the digits 0-9" in r.get_data(as_text=True)
    assert _licenses(app, member) == []


def test_a_license_without_an_expiry_date_does_not_claim_its_reminders_are_on(app, client, member):
    # Reminders count back from the expiry date: without one none is ever sent.
    with app.app_context():
        add_license(member, "FL", "MA12345")
        add_license(member, "TX", "1234567", expires_on=date(2027, 8, 31))
    page = " ".join(client.get("/account/licenses").get_data(as_text=True).split())
    assert page.count("before expiry: <strong>on</strong>") == 1  # the dated one only
    assert "Renewal reminders need the expiry date: add it with Edit." in page


@pytest.mark.parametrize("ago", [1, 3 * 365])
def test_an_expired_license_says_so_and_that_no_reminders_are_sent(app, client, member, ago):
    from campus import dates
    from campus.licenses import reminders

    with app.app_context():
        today = dates.today()
        gone = add_license(member, "FL", "MA12345", expires_on=today - timedelta(days=ago)).id
        add_license(member, "TX", "1234567", expires_on=today)  # its last day: still reminded
        # What the reminder job does: an expired license is never a candidate, nor sent one.
        assert gone not in reminders.candidate_ids(today)
        assert reminders.send_reminder(gone, today) is False
        shown = dates.today() - timedelta(days=ago)
    page = " ".join(client.get("/account/licenses").get_data(as_text=True).split())
    assert page.count("before expiry: <strong>on</strong>") == 1  # the one still current
    assert f"expired {shown:%B} {shown.day}, {shown.year}" in page
    assert "No renewal reminders are sent for an expired license" in page
    assert page.count("Stop reminders") == 1
    # The account page lists licenses too, and says the same of the date.
    account = " ".join(client.get("/account").get_data(as_text=True).split())
    assert f"expired {shown:%B} {shown.day}, {shown.year}" in account
    assert f"expires {today:%B} {today.day}, {today.year}" in account


@pytest.mark.parametrize(
    "dash", ["\u2010", "\u2011", "\u2012", "\u2013", "\u2014", "\u2212", "\ufe63", "\uff0d"]
)
def test_a_dash_pasted_into_a_number_is_the_hyphen_the_board_prints(app, client, member, dash):
    # A board's lookup page or a PDF gives "123456-00" written with a non-breaking hyphen or an en
    # dash: it looks just like the example, was refused as not like "123456-00", and where no
    # format is known it was kept (and reported) as a number the board does not hold.
    data = {**GOOD, "jurisdiction": "NCBTMB", "number": f"123456{dash}00"}
    r = post_form(client, "/account/licenses", data)
    assert r.status_code == 302
    plain = {**GOOD, "jurisdiction": "ME", "number": f"MT{dash}1"}
    assert post_form(client, "/account/licenses", plain).status_code == 302
    assert sorted(number for _p, _j, number, _e in _licenses(app, member)) == [
        "123456-00",
        "MT-1",
    ]
    again = post_form(client, "/account/licenses", {**plain, "number": "MT-1"})
    assert again.status_code == 422
    assert "already on your account" in again.get_data(as_text=True)

"""The CE Broker adapter on its own: receipts, the message, which states report, settings."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from xml.etree import ElementTree as ET

import pytest

from campus.reporting.adapters import (
    Accepted,
    Completion,
    Rejected,
    TransientFailure,
    Unanswered,
)
from campus.reporting.cebroker import (
    CEBrokerAdapter,
    is_duplicate_answer,
    read_receipt,
    tracking_digits,
)
from campus.reporting.systems import jurisdiction_code, systems_for
from tests.reporting.fake_cebroker import PROVIDER_ID, UPLOAD_KEY

WRAP = '<string xmlns="https://webservices.cebroker.com/">{}</string>'


def _escaped(xml: str) -> str:
    return xml.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _completion(**fields) -> Completion:
    values = {
        "certificate_code": "ABCD-2345",
        "first_name": "Rosa",
        "last_name": "Delgado",
        "license_number": "MA12345",
        "profession_code": "MA",
        "jurisdiction": "FL",
        "course_title": "Neck & Shoulder <basics>",
        "course_number": "20-123456",
        "completed_on": date(2026, 3, 2),
        "ce_hours": Decimal("1.00"),
    }
    values.update(fields)
    return Completion(**values)


@pytest.mark.parametrize(
    ("receipt", "expected"),
    [
        (
            WRAP.format(
                _escaped(
                    '<rosters><roster><attendee id_roster="88" Message="" /></roster></rosters>'
                )
            ),
            Accepted("88"),
        ),
        (
            WRAP.format(
                _escaped(
                    '<rosters><roster><attendee ErrorCode="80" Message="Invalid license Number" />'
                    "</roster></rosters>"
                )
            ),
            Rejected("Invalid license Number (code 80)"),
        ),
        (
            WRAP.format(_escaped('<rosters Message="Invalid upload key" ErrorCode="10" />')),
            Rejected("Invalid upload key (code 10)", provider_fault=True),
        ),
        (
            WRAP.format(
                _escaped(
                    '<rosters><roster><attendee ErrorCode="81" '
                    'Message="Duplicate: course completion already reported" /></roster></rosters>'
                )
            ),
            Accepted("", already_held="Duplicate: course completion already reported (code 81)"),
        ),
        (
            WRAP.format(
                _escaped(
                    '<rosters Message="Invalid upload key" ErrorCode="10"><roster><attendee '
                    'Message="Duplicate record" /></roster></rosters>'
                )
            ),
            Rejected("Invalid upload key (code 10); Duplicate record", provider_fault=True),
        ),
        ("<html>Service Unavailable", TransientFailure("CE Broker's answer was not XML")),
        (WRAP.format("not xml"), TransientFailure("CE Broker's receipt was not XML")),
        (
            WRAP.format(_escaped("<rosters />")),
            TransientFailure("CE Broker's receipt named no attendee"),
        ),
    ],
    ids=[
        "accepted",
        "rejected",
        "bad-key",
        "duplicate",
        "duplicate-and-other-error",
        "not-xml",
        "inner-not-xml",
        "empty",
    ],
)
def test_receipts_read_as_accepted_rejected_or_transient(receipt, expected):
    assert read_receipt(receipt) == expected


@pytest.mark.parametrize(
    ("message", "duplicate"),
    [
        ("Duplicate course completion", True),
        ("This completion was already reported", True),
        ("Record already exists", False),  # too vague to count a completion as held
        ("License already on file for another licensee", False),
        ("Invalid license Number", False),
        ("Licensee already has an expired license", False),
        ("", False),
    ],
)
def test_duplicate_answers_are_recognised_by_their_wording(message, duplicate):
    assert is_duplicate_answer(message) is duplicate


def test_a_refused_connection_is_transient_and_a_late_answer_is_unanswered(fake_cebroker):
    refused = CEBrokerAdapter(PROVIDER_ID, UPLOAD_KEY, "http://127.0.0.1:9/nothing", 1)
    outcome = refused.submit(_completion())
    assert isinstance(outcome, TransientFailure) and "could not be reached" in outcome.error
    fake_cebroker.delay = 0.5
    slow = CEBrokerAdapter(PROVIDER_ID, UPLOAD_KEY, fake_cebroker.endpoint, 0.2)
    outcome = slow.submit(_completion())
    assert isinstance(outcome, Unanswered) and "TimeoutError" in outcome.error
    assert len(fake_cebroker.recorded) == 1


def test_the_message_escapes_text_and_uses_the_tracking_digits():
    adapter = CEBrokerAdapter("50-4321", "KEY", "http://127.0.0.1:9/", 1)
    root = ET.fromstring(adapter.message([_completion(last_name="O'Brien & <Sons>")]))
    assert root.get("id_parent_provider") == "4321"
    assert root.findtext("roster/id_course") == "123456"
    assert root.findtext("roster/attendees/attendee/last_name") == "O'Brien & <Sons>"
    assert root.findtext("roster/attendees/attendee/course_date") == "03/02/2026"


def test_a_completion_without_a_license_is_rejected_before_sending():
    adapter = CEBrokerAdapter("50-4321", "KEY", "http://127.0.0.1:9/", 1)
    outcome = adapter.submit(_completion(license_number=" "))
    assert outcome == Rejected("The certificate names no license number.")


def test_a_course_without_a_tracking_number_or_a_refused_request_is_the_providers_to_fix(
    fake_cebroker,
):
    from campus.reporting.cebroker import NO_TRACKING_NUMBER

    adapter = CEBrokerAdapter("50-4321", "KEY", "http://127.0.0.1:9/", 1)
    outcome = adapter.submit(_completion(course_number="NCBTMB 451"))
    assert outcome == Rejected(NO_TRACKING_NUMBER, provider_fault=True)
    # An endpoint that refuses the request outright (a wrong address, a key it will not take).
    wrong = CEBrokerAdapter(PROVIDER_ID, UPLOAD_KEY, fake_cebroker.endpoint + "x", 1)
    outcome = wrong.submit(_completion())
    assert outcome == Rejected("CE Broker refused the request (HTTP 404).", provider_fault=True)


@pytest.mark.parametrize(
    ("provider", "key", "configured"),
    [("50-4321", "KEY", True), ("4321", "KEY", True), ("", "KEY", False), ("50-4321", "", False),
     ("fifty", "KEY", False)],
)  # fmt: skip
def test_reporting_is_configured_only_with_a_provider_id_and_a_key(provider, key, configured):
    assert CEBrokerAdapter(provider, key, "http://x", 1).configured() is configured


def test_tracking_numbers_are_read_with_or_without_their_prefix():
    assert tracking_digits("20-123456", "20") == "123456"
    assert tracking_digits("123456", "20") == "123456"
    assert tracking_digits("50-123", "20") is None
    assert tracking_digits(None, "20") is None


def test_florida_uses_cebroker_and_names_each_professions_code():
    assert jurisdiction_code("Florida") == jurisdiction_code("fl") == "FL"
    [(system, florida)] = systems_for("FL")
    assert system.name == "CE Broker"
    assert florida.professions["massage_therapist"] == "MA"
    assert florida.professions["physical_therapist"] == "PT"
    assert "456.025" in florida.source
    assert systems_for("Maine") == [] and systems_for(None) == []


def test_production_does_not_require_cebroker_settings(app):
    from campus.preflight import production_problems
    from config import ProductionConfig

    assert not any("CEBROKER" in name for name in ProductionConfig.REQUIRED)
    config = {"REQUIRED": ProductionConfig.REQUIRED, "CEBROKER_PROVIDER_ID": None}
    assert not any("CEBROKER" in p for p in production_problems({**app.config, **config}))


def test_a_character_xml_cannot_hold_leaves_the_roster_readable_for_everyone_in_it():
    adapter = CEBrokerAdapter("50-4321", "KEY", "http://127.0.0.1:9/", 1)
    roster = adapter.roster(
        [
            _completion(last_name="Delgado\uffff", license_number="MA12345\ufffe"),
            _completion(certificate_code="EFGH-6789", first_name="Ana", last_name="Ruiz"),
        ],
        title="cebroker-roster",
    )
    attendees = ET.fromstring(roster.content).findall("roster/attendees/attendee")
    assert [a.findtext("last_name") for a in attendees] == ["Delgado", "Ruiz"]
    assert attendees[0].findtext("license") == "MA12345"

"""The provider's calendar (TIME_ZONE): completion, expiry and "today" are local dates, not UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import time_machine
from sqlalchemy import select

from campus import dates, preflight
from campus.extensions import db
from campus.templating import format_date

# 11:30 p.m. on New Year's Eve in California is 7:30 a.m. on New Year's Day in UTC.
PACIFIC_EVENING = datetime(2027, 1, 1, 7, 30, tzinfo=UTC)


def test_dates_follow_the_zone_of_the_setting(app, pacific):
    with app.app_context():
        assert dates.local_date(PACIFIC_EVENING) == date(2026, 12, 31)
        assert dates.day_start(date(2026, 12, 31)) == datetime(2026, 12, 31, 8, tzinfo=UTC)
        assert dates.days_between(date(2026, 12, 31), date(2026, 12, 31)) == (
            datetime(2026, 12, 31, 8, tzinfo=UTC),
            datetime(2027, 1, 1, 8, tzinfo=UTC),
        )
        with time_machine.travel(PACIFIC_EVENING, tick=False):
            assert dates.today() == date(2026, 12, 31)
        # A moment shown to people is on the provider's clock and names its zone.
        assert format_date(PACIFIC_EVENING, "%B %-d, %Y %H:%M %Z") == "December 31, 2026 23:30 PST"


def test_a_credential_is_valid_through_its_last_day_on_the_providers_calendar(app, client, pacific):
    from campus.programs import actions
    from campus.programs.models import Credential
    from tests.programs.helpers import candidate, ready_program, right_answers

    passed = datetime(2026, 3, 1, 17, tzinfo=UTC)  # 9 a.m. in California
    with app.app_context():
        program, courses = ready_program(validity_months=24, renewal_hours=4)
        user = candidate(courses, when=passed - timedelta(days=10))
        with time_machine.travel(passed, tick=False):
            sitting = actions.start_exam(user, program)
            actions.submit_exam(user, sitting, right_answers(sitting))
            db.session.commit()
        credential = db.session.scalars(select(Credential)).one()
        assert (credential.valid_from, credential.valid_until) == (
            date(2026, 3, 1),
            date(2028, 2, 29),
        )
        code = credential.code
    # 9 p.m. on its last day in California is already March 1 in UTC: still valid.
    with time_machine.travel(datetime(2028, 3, 1, 5, tzinfo=UTC), tick=False):
        body = client.get(f"/programs/verify/{code}.json").json
        assert body["status"] == "valid"
        assert body["credential"]["validUntil"] == "2028-03-01T07:59:59Z"
    with time_machine.travel(datetime(2028, 3, 1, 8, 30, tzinfo=UTC), tick=False):
        assert client.get(f"/programs/verify/{code}.json").json["status"] == "expired"


def test_an_unknown_time_zone_is_refused_with_the_setting_named():
    problems = preflight.setting_problems({"TIME_ZONE": "Mars/Olympus_Mons", "LOG_FORMAT": "text"})
    assert problems == [
        "TIME_ZONE='Mars/Olympus_Mons' is not an IANA time zone (such as America/New_York)"
    ]
    assert preflight.setting_problems({"TIME_ZONE": "", "LOG_FORMAT": "text"})
    assert not preflight.setting_problems({"TIME_ZONE": "America/Chicago", "LOG_FORMAT": "text"})


def test_the_footer_year_is_the_providers_on_new_years_eve(client, pacific):
    with time_machine.travel(PACIFIC_EVENING, tick=False):
        page = client.get("/").text
    assert "© 2026 " in page and "© 2027" not in page

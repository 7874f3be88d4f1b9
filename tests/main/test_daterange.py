"""One rule for every reporting range: real dates, in order, from 2000 to the end of next year."""

from __future__ import annotations

from datetime import date

import pytest

from campus.daterange import DateRangeError, parse_range

TODAY = date(2026, 7, 15)


def test_empty_range_is_this_year_to_today():
    assert parse_range(None, "", TODAY) == (date(2026, 1, 1), TODAY)


def test_range_may_end_on_the_last_day_of_next_year():
    assert parse_range("2000-01-01", "2027-12-31", TODAY) == (date(2000, 1, 1), date(2027, 12, 31))


@pytest.mark.parametrize(
    ("start", "end", "code", "message"),
    [
        ("2026-13-01", None, "bad_date", "Enter dates as YYYY-MM-DD"),
        ("yesterday", None, "bad_date", "Enter dates as YYYY-MM-DD"),
        ("2026-05-01", "2026-04-01", "bad_range", "on or before the end date"),
        ("1999-12-31", "2000-01-01", "bad_range", "between the year 2000 and next year"),
        ("2026-01-01", "2028-01-01", "bad_range", "between the year 2000 and next year"),
    ],
)
def test_bad_ranges_are_refused_with_a_clear_message(start, end, code, message):
    with pytest.raises(DateRangeError) as caught:
        parse_range(start, end, TODAY)
    assert caught.value.code == code and message in caught.value.message


def test_certificates_and_learning_share_the_rule(app, client):
    # The same range is refused by both reports with the same words.
    from tests import support

    with app.app_context():
        user = support.create_user()
        email = user.email
    support.login(client, email)
    query = "from=2026-01-01&to=2099-01-01"
    learning = client.get(f"/learning/?{query}")
    transcript = client.get(f"/certificates/transcript.csv?{query}")
    assert learning.status_code == transcript.status_code == 400
    for response in (learning, transcript):
        assert "between the year 2000 and next year" in response.get_data(as_text=True)

"""A completion counts in the period of the date its certificate prints, on every surface."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from xml.etree import ElementTree as ET

from tests.admin import helpers as admin
from tests.certificates.helpers import certificate_of, complete_course, student
from tests.learning.helpers import make_course
from tests.reporting.helpers import completion

# Printed as December 31 (issued under an earlier TIME_ZONE setting, a zone behind UTC), while
# the moment falls on January 1 on today's calendar (the suite's is UTC).
MOMENT = datetime(2026, 1, 1, 3, 0, tzinfo=UTC)
PRINTED = date(2025, 12, 31)


def _print_the_day_before(user_id: int) -> None:
    from campus.extensions import db
    from campus.learning.models import Enrollment

    certificate = certificate_of(user_id)
    certificate.completed_at = MOMENT
    certificate.data = {**certificate.data, "completion_date": PRINTED.isoformat()}
    db.session.get(Enrollment, certificate.enrollment_id).completed_at = MOMENT
    db.session.commit()


def test_hours_count_in_the_year_the_certificate_prints(app):
    from campus.accounts.models import User
    from campus.directory.credentials import recent_ce_hours
    from campus.extensions import db
    from campus.learning import credit, reports

    with app.app_context():
        course = make_course("year-end", ce_hours="3")
        user = student()
        complete_course(user.id, course)
        _print_the_day_before(user.id)
        member = db.session.get(User, user.id)
        old_year, new_year = (date(2025, 1, 1), PRINTED), (date(2026, 1, 1), date(2026, 12, 31))
        # The member dashboard's year hours and its range count.
        assert reports.ce_hours_between(member, *old_year) == Decimal("3.00")
        assert reports.ce_hours_between(member, *new_year) == Decimal("0.00")
        assert reports.completions_between(member, *old_year) == 1
        assert reports.completions_between(member, *new_year) == 0
        # Program renewals count certified and earned hours by the one function.
        for certified in (False, True):
            assert credit.earned_hours(user.id, *old_year, certified=certified) == Decimal("3.00")
            assert credit.earned_hours(user.id, *new_year, certified=certified) == Decimal("0.00")
        # The directory's last 24 months end on the day the certificate printed.
        assert recent_ce_hours(user.id, today=PRINTED)[0] == Decimal("3.00")


def test_the_roster_lists_a_completion_in_the_month_its_certificate_prints(app, client):
    c = completion(app, "fl-year-end", license_number="MA700", full_name="Nia Newyear")
    with app.app_context():
        _print_the_day_before(c.user_id)
    admin.sign_in_admin(app, client)
    for span, expected in (
        ("from=2025-12-01&to=2025-12-31", 1),
        ("from=2026-01-01&to=2026-01-31", 0),
    ):
        with client.get(f"/admin/reports/roster/roster.xml?{span}") as response:
            assert response.status_code == 200
            root = ET.fromstring(response.get_data(as_text=True))
        assert len(list(root.iter("attendee"))) == expected, span

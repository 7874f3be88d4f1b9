"""Dashboard figures against a fixture whose answers are known, on both database backends."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import time_machine
from sqlalchemy import select

from tests import support
from tests.admin import helpers

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


def _at(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 9, 30, tzinfo=UTC)


def _build_fixture(app) -> None:
    from campus.billing.models import CompMembership
    from campus.content.models import Download, Lead
    from campus.extensions import db
    from campus.learning.models import Enrollment
    from tests.learning.helpers import make_course

    with app.app_context():
        users = {name: support.create_user(email=f"{name}@example.com").id for name in "ABCDEFGHJ"}
        support.make_member(users["A"], "active", created_at=_at(6, 2))
        support.make_member(users["B"], "trialing", created_at=_at(5, 10))
        support.make_member(
            users["C"], "active", cancel_at_period_end=True, current_period_end=_at(6, 10),
            created_at=_at(1, 5),
        )  # fmt: skip
        support.make_member(
            users["D"], "canceled", ended_at=_at(6, 5), canceled_at=_at(6, 1), created_at=_at(2, 1)
        )
        support.make_member(users["E"], "past_due", past_due_since=_at(6, 13), created_at=_at(3, 3))
        support.make_member(users["F"], "past_due", past_due_since=_at(5, 1), created_at=_at(3, 4))
        for name, revoked in (("G", None), ("A", None), ("H", _at(6, 1))):
            db.session.add(
                CompMembership(
                    user_id=users[name], starts_at=_at(5, 1), ends_at=_at(9, 1), reason="t",
                    revoked_at=revoked,
                )
            )  # fmt: skip
        course = make_course("dash-course", ce_hours="2")
        db.session.add_all(
            [
                Enrollment(user_id=users["A"], course_id=course.id, enrolled_at=_at(6, 3),
                           completed_at=_at(6, 9), ce_hours_earned=Decimal("2.00"),
                           status="completed"),
                Enrollment(user_id=users["B"], course_id=course.id, enrolled_at=_at(6, 4)),
                Enrollment(user_id=users["E"], course_id=course.id, enrolled_at=_at(6, 5)),
                Enrollment(user_id=users["J"], course_id=course.id, enrolled_at=_at(5, 2),
                           completed_at=_at(5, 20), ce_hours_earned=Decimal("1.50"),
                           status="completed"),
            ]
        )  # fmt: skip
        from campus.certificates.models import Certificate

        db.session.add(
            Certificate(
                code="DASH000001", user_id=users["A"], course_id=course.id, status="issued",
                data={"code": "DASH000001"}, ce_hours=Decimal("2.00"), completed_at=_at(6, 9),
                issued_at=_at(6, 9),
            )
        )  # fmt: skip
        guide = Download(slug="guide", title="Neck guide", filename="g.pdf")
        other = Download(slug="other", title="Hip guide", filename="h.pdf")
        db.session.add_all([guide, other])
        db.session.flush()
        db.session.add_all(
            [
                Lead(download_id=guide.id, email=f"l{n}@example.com", name="L", consent_text="ok")
                for n in range(2)
            ]
        )
        db.session.commit()


def test_the_dashboard_figures_match_the_fixture(app):
    _build_fixture(app)
    from campus.admin import dashboard

    with time_machine.travel(NOW, tick=False), app.app_context():
        board = dashboard.build()
    assert (board.active, board.paying, board.comp) == (4, 3, 1)
    assert board.mrr_cents == 3 * 1995
    assert board.new.months[-6:] == [
        "2026-01",
        "2026-02",
        "2026-03",
        "2026-04",
        "2026-05",
        "2026-06",
    ]
    assert board.new.values[-6:] == [1, 1, 2, 0, 1, 1]
    assert board.churned.values[-6:] == [0, 0, 0, 0, 0, 1]
    assert board.enrollments.values[-2:] == [1, 3]
    assert board.completions.values[-2:] == [1, 1]
    assert board.ce_hours.values[-2:] == [1.5, 2.0]
    assert board.ce_hours_total == 3.5
    assert board.leads == [("guide", "Neck guide", 2), ("other", "Hip guide", 0)]
    assert board.certificates_total == 1 and board.certificates.values[-1] == 1


def test_a_revoked_certificate_counts_nowhere_on_the_dashboard(app):
    _build_fixture(app)
    from campus.admin import dashboard
    from campus.certificates.models import Certificate
    from campus.extensions import db

    with time_machine.travel(NOW, tick=False), app.app_context():
        certificate = db.session.scalar(select(Certificate))
        certificate.status, certificate.revoked_at = "revoked", _at(6, 12)
        db.session.commit()
        board = dashboard.build()
    assert board.certificates_total == 0 and board.certificates.values[-1] == 0
    assert board.ce_hours.values[-1] == 0.0 and board.ce_hours_total == 1.5
    assert board.completions.values[-2:] == [1, 0]


def test_active_members_agree_with_the_paid_access_rule(app):
    """The SQL count and the one access function give the same members."""
    _build_fixture(app)
    from campus.accounts.models import User
    from campus.admin import dashboard
    from campus.billing.access import has_paid_access
    from campus.extensions import db

    with time_machine.travel(NOW, tick=False), app.app_context():
        users = db.session.scalars(select(User)).all()
        by_rule = sum(1 for user in users if has_paid_access(_SignedIn(user), NOW))
        assert dashboard.active_members(NOW) == by_rule == 4


class _SignedIn:
    is_authenticated = True

    def __init__(self, user) -> None:
        self.id, self.is_admin = user.id, user.is_admin


def test_the_dashboard_page_shows_the_figures_and_inline_charts(app, client):
    _build_fixture(app)
    with time_machine.travel(NOW, tick=False):  # signed sessions carry their time too
        helpers.sign_in_admin(app, client)
        html = client.get("/admin/").get_data(as_text=True)
    figure = dict(re.findall(r'data-figure="([\w-]+)">([^<]+)<', html))
    assert figure == {
        "active": "4",
        "mrr": "$59.85",
        "new-this-month": "1",
        "ce-hours": "3.5",
        "certificates": "1",
    }
    assert html.count('<svg class="chart"') >= 4
    assert "Neck guide: 2" in html  # the leads bar's tooltip
    assert "June" in html or "Jun" in html


def test_an_empty_site_has_a_calm_dashboard(app, client):
    helpers.sign_in_admin(app, client)
    response = client.get("/admin/")
    assert response.status_code == 200
    assert 'data-figure="mrr">$0.00<' in response.get_data(as_text=True)


def test_months_roll_over_the_year():
    from campus.admin.dashboard import month_keys

    assert month_keys(datetime(2026, 2, 1, tzinfo=UTC), 4) == [
        "2025-11",
        "2025-12",
        "2026-01",
        "2026-02",
    ]
    assert len(month_keys(NOW - timedelta(days=1))) == 12


def test_months_are_the_providers_calendar_months(app, pacific):
    """A month runs from midnight to midnight on the provider's clock (TIME_ZONE), not UTC's."""
    from campus.admin import dashboard
    from campus.extensions import db
    from campus.learning.models import Enrollment
    from tests.learning.helpers import make_course

    with app.app_context():
        course = make_course("evening-course", ce_hours="1")
        for enrolled_at in (
            datetime(2025, 7, 1, 6, 0, tzinfo=UTC),  # June 30, 11 pm in California: before
            datetime(2025, 7, 1, 8, 0, tzinfo=UTC),  # July 1, 1 am: the window's first month
            datetime(2026, 4, 1, 3, 30, tzinfo=UTC),  # March 31, 8:30 pm: March
            datetime(2026, 4, 1, 8, 30, tzinfo=UTC),  # April 1, 1:30 am: April
            datetime(2026, 7, 1, 4, 0, tzinfo=UTC),  # June 30, 9 pm: June, this month
        ):
            user = support.create_user()
            db.session.add(
                Enrollment(user_id=user.id, course_id=course.id, enrolled_at=enrolled_at)
            )
        db.session.commit()
        # 10 pm on June 30 in California, already July in UTC.
        series = dashboard._per_month(
            Enrollment.enrolled_at, datetime(2026, 7, 1, 5, 0, tzinfo=UTC)
        )
    assert series.months[0] == "2025-07" and series.months[-1] == "2026-06"
    counted = dict(zip(series.months, series.values, strict=True))
    assert [counted[month] for month in ("2025-07", "2026-03", "2026-04", "2026-06")] == [1] * 4
    assert series.total == 4


def test_a_completion_counts_in_the_month_its_certificate_prints(app):
    """Completions and hours per month follow the certificate's date, as transcripts do."""
    from campus.admin import dashboard
    from campus.certificates.models import Certificate
    from campus.extensions import db
    from campus.learning import credit
    from campus.learning.models import Enrollment
    from tests.learning.helpers import make_course

    # 11:30 pm on March 31 in New York, the provider's zone when the certificate was issued; the
    # zone is UTC now, where that moment is April 1. The certificate and transcript say March 31.
    moment = datetime(2026, 4, 1, 3, 30, tzinfo=UTC)
    later = datetime(2026, 4, 2, 12, 0, tzinfo=UTC)  # no certificate: dated by its moment
    with app.app_context():
        course = make_course("month-end-course", ce_hours="2")
        for when, printed in ((moment, "2026-03-31"), (later, None)):
            user = support.create_user()
            db.session.add(
                Enrollment(user_id=user.id, course_id=course.id, enrolled_at=when - timedelta(1),
                           completed_at=when, ce_hours_earned=Decimal("2.00"),
                           status="completed")
            )  # fmt: skip
            if printed:
                db.session.add(
                    Certificate(
                        code="DASH-MONTH-END", user_id=user.id, course_id=course.id,
                        status="issued", data={"completion_date": printed},
                        ce_hours=Decimal("2.00"), completed_at=when, issued_at=when,
                    )
                )  # fmt: skip
        db.session.commit()
        with time_machine.travel(NOW, tick=False):
            board = dashboard.build()
            march = credit.earned_hours(
                None, datetime(2026, 3, 1).date(), datetime(2026, 3, 31).date()
            )
    counted = dict(zip(board.completions.months, board.completions.values, strict=True))
    hours = dict(zip(board.ce_hours.months, board.ce_hours.values, strict=True))
    assert march == Decimal("2.00")
    assert (counted["2026-03"], counted["2026-04"]) == (1, 1)
    assert (hours["2026-03"], hours["2026-04"]) == (float(march), 2.0)


def test_a_certificate_being_reissued_still_counts_in_the_total(app, monkeypatch):
    # A reissue clears issued_at until its new PDF is drawn; the completion stands all the while
    # (the transcript, the CE totals and the roster count it), but the total dropped it.
    from campus.admin import dashboard
    from campus.certificates import actions
    from campus.extensions import db
    from tests.certificates.helpers import certificate_of, completed_student

    s = completed_student(app)
    monkeypatch.setattr(actions, "enqueue_after_commit", lambda *args, **kwargs: None)
    with app.app_context():
        assert dashboard.build().certificates_total == 1
        actions.reissue(certificate_of(s.user_id).code, "Name misspelled", actor=None)
        db.session.commit()
        certificate = certificate_of(s.user_id)
        assert certificate.status == "pending" and certificate.issued_at is None
        assert dashboard.build().certificates_total == 1
        # Revoked, then reissued to reinstate it: it counts again only once that lands.
        actions.revoke(certificate.code, "Refunded", actor=None)
        db.session.commit()
        assert dashboard.build().certificates_total == 0
        actions.reissue(certificate.code, "Revoked in error", actor=None)
        db.session.commit()
        assert certificate_of(s.user_id).status == "pending"
        assert dashboard.build().certificates_total == 0

"""Retained CE records are purged when the retention period ends, and not a day before."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import time_machine
from sqlalchemy import func, select, text

from tests import support
from tests.records.helpers import full_member


def _deleted_member(app, client):
    m = full_member(app)
    support.login(client, m.email)
    response = support.post_form(
        client,
        "/account/delete",
        {"password": support.DEFAULT_PASSWORD, "confirmation": "DELETE"},
    )
    assert response.status_code == 302
    with app.app_context():
        from campus.extensions import db
        from campus.records.models import RetentionHold

        hold = db.session.scalars(select(RetentionHold)).one()
        return m, hold.id, hold.purge_after


def _count(table: str, user_id: int) -> int:
    from campus.extensions import db

    return db.session.execute(
        text(f"SELECT count(*) FROM {table} WHERE user_id = :u"), {"u": user_id}
    ).scalar_one()


def test_records_are_purged_after_the_period_and_not_before(app, client):
    m, hold_id, purge_after = _deleted_member(app, client)
    with app.app_context():
        from campus.records.tasks import purge_retained
        from campus.storage import get_storage

        storage = get_storage()
        assert storage.exists(m.storage_key)
    the_day_before = datetime.combine(purge_after - timedelta(days=1), time(23, 0), tzinfo=UTC)
    with time_machine.travel(the_day_before, tick=False), app.app_context():
        assert purge_retained.apply().get() == 0
        assert _count("certificates", m.user_id) == 1
        assert storage.exists(m.storage_key)
    purge_day = datetime.combine(purge_after, time(3, 0), tzinfo=UTC)
    with time_machine.travel(purge_day, tick=False), app.app_context():
        assert purge_retained.apply().get() == 1
        assert purge_retained.apply().get() == 0  # the second run finds nothing left
        from campus.accounts.models import User
        from campus.audit import AuditEntry
        from campus.extensions import db
        from campus.learning.models import QuizAttempt
        from campus.learning.records import CourseEvaluation, SeatTime
        from campus.records.models import RetentionHold

        assert db.session.get(User, m.user_id) is None
        for table in ("certificates", "enrollments", "retention_holds", "data_exports"):
            assert _count(table, m.user_id) == 0, table
        for model in (QuizAttempt, SeatTime, CourseEvaluation, RetentionHold):
            assert db.session.scalar(select(func.count()).select_from(model)) == 0
        assert db.session.scalar(text("SELECT count(*) FROM certificate_codes")) == 0
        assert not storage.exists(m.storage_key)
        [entry] = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "retained_records_purged")
        ).all()
        assert entry.object_id == str(hold_id) and entry.actor_id is None
    # The certificate no longer verifies: the record is gone, as the period allowed.
    assert client.get(f"/verify/{m.code}").status_code == 404


def test_the_period_follows_the_setting_and_runs_from_the_last_activity(app, client):
    app.config["CE_RECORD_RETENTION_YEARS"] = 4
    _m, _hold_id, purge_after = _deleted_member(app, client)
    today = datetime.now(UTC).date()
    assert purge_after == today.replace(year=today.year + 4)


def test_a_leap_day_is_kept_until_the_28th_of_february():
    from datetime import date

    from campus.records.retention import add_years

    assert add_years(date(2028, 2, 29), 6) == date(2034, 2, 28)
    assert add_years(date(2026, 12, 2), 6) == date(2032, 12, 2)


def test_an_admin_sees_the_holds_with_their_purge_date(app, client):
    _m, hold_id, purge_after = _deleted_member(app, client)
    with app.app_context():
        admin = support.create_user(role="admin")
        secret = support.enable_totp(admin.id)
        email = admin.email
    admin_client = app.test_client()
    support.login_with_code(admin_client, email, support.totp_code(secret))
    page = admin_client.get("/admin/retention-holds/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Casey Moreno" in html and str(purge_after) in html and "MT-004512" in html
    assert "/admin/retention-holds/edit" not in html and "/admin/retention-holds/new" not in html
    assert admin_client.get(f"/admin/retention-holds/edit/?id={hold_id}").status_code in (
        302,
        403,
        404,
    )
    student = app.test_client()
    with app.app_context():
        other = support.create_user().email
    support.login(student, other)
    assert student.get("/admin/retention-holds/").status_code in (302, 403, 404)


def test_a_reissue_deletes_the_pdf_of_the_code_it_retires(app, client):
    # The old PDF shows the name or license being corrected, and no code serves it any more.
    from campus.certificates.actions import reissue
    from campus.certificates.services import storage_key
    from campus.extensions import db
    from campus.storage import get_storage

    m = full_member(app)
    with app.app_context():
        assert get_storage().exists(m.storage_key)
        new_code = reissue(m.code, "Name corrected", actor=None).code
        db.session.commit()
        assert not get_storage().exists(m.storage_key)
        assert get_storage().exists(storage_key(new_code))


def test_a_rolled_back_reissue_keeps_the_pdf(app, client):
    from campus.certificates.actions import reissue
    from campus.extensions import db
    from campus.storage import get_storage

    m = full_member(app)
    with app.app_context():
        reissue(m.code, "Name corrected", actor=None)
        db.session.rollback()
        assert get_storage().exists(m.storage_key)


def test_the_purge_deletes_a_pdf_an_earlier_reissue_left_behind(app, client):
    from campus.certificates.actions import reissue
    from campus.extensions import db
    from campus.storage import get_storage

    m = full_member(app)
    with app.app_context():
        old_pdf = get_storage().read(m.storage_key)
        reissue(m.code, "Name corrected", actor=None)
        db.session.commit()
        get_storage().save(m.storage_key, old_pdf, "application/pdf")  # as reissues once left it
    support.login(client, m.email)
    assert (
        support.post_form(
            client,
            "/account/delete",
            {"password": support.DEFAULT_PASSWORD, "confirmation": "DELETE"},
        ).status_code
        == 302
    )
    with app.app_context():
        from campus.records.models import RetentionHold

        purge_after = db.session.scalars(select(RetentionHold)).one().purge_after
    with (
        time_machine.travel(datetime.combine(purge_after, time(12), tzinfo=UTC)),
        app.app_context(),
    ):
        from campus.records.tasks import purge_retained

        assert purge_retained.apply().get() == 1
        assert not get_storage().exists(m.storage_key)


def test_two_purge_runs_at_once_purge_and_log_a_hold_once(app, client, monkeypatch):
    # Two beat processes (or a slow run and the next) reach the same due hold together.
    from campus.audit import AuditEntry
    from campus.extensions import db
    from campus.records import retention

    _m, hold_id, purge_after = _deleted_member(app, client)
    support.hold_in_pairs(monkeypatch, retention, "_delete_files")
    purged: list[bool] = []

    def run() -> None:
        with app.app_context():
            try:
                purged.append(retention.purge_hold(hold_id, today=purge_after))
                db.session.commit()
            except Exception:
                db.session.rollback()
                purged.append(False)

    support.run_together([run, run])

    assert sorted(purged) == [False, True]
    with app.app_context():
        entries = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "retained_records_purged")
        ).all()
        assert len(entries) == 1

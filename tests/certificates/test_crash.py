"""A crash between a certificate's writes leaves nothing behind, on SQLite as on PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from campus.models.base import utcnow
from tests.certificates.helpers import student
from tests.learning.helpers import enroll_directly, make_course


class _Crash(Exception):
    pass


def _completed_enrollment_without_certificate() -> int:
    from campus.extensions import db
    from campus.learning.models import Enrollment

    course = make_course("crash-course")
    user = student()
    enrollment_id = enroll_directly(user.id, course.id)
    enrollment = db.session.get_one(Enrollment, enrollment_id)
    # Completed, evaluated and attested: the certificate is due.
    enrollment.completed_at = enrollment.evaluated_at = utcnow()
    db.session.commit()
    return enrollment_id


def test_a_crash_after_the_certificate_insert_keeps_no_certificate_without_its_code(
    app, monkeypatch
):
    from campus.certificates import services
    from campus.certificates.models import Certificate
    from campus.extensions import db

    with app.app_context():
        enrollment_id = _completed_enrollment_without_certificate()

        def crash(*_args, **_kwargs):
            raise _Crash("the process died here")

        # The certificate row is written inside a SAVEPOINT; its code and event come after it.
        monkeypatch.setattr(services, "record_event", crash)
        with pytest.raises(_Crash):
            services.ensure_pending(enrollment_id)
        db.session.remove()  # the process is gone: its transaction never commits

        assert db.session.scalar(select(func.count()).select_from(Certificate)) == 0
        monkeypatch.undo()
        certificate_id = services.ensure_pending(enrollment_id)
        db.session.commit()
        certificate = db.session.get_one(Certificate, certificate_id)
        assert [c.code for c in certificate.codes] == [certificate.code]


def test_a_savepoint_released_inside_a_transaction_is_undone_by_its_rollback(app):
    from campus.extensions import db
    from campus.mail.models import EmailMessage

    with app.app_context():
        with db.session.begin_nested():
            db.session.add(EmailMessage(to="a@example.com", subject="s", text_body="b"))
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(EmailMessage)) == 0


def test_sqlite_keeps_wal_and_busy_timeout_with_its_own_transactions(app):
    from campus.extensions import db

    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite only")
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            with connection.begin_nested():
                assert connection.connection.dbapi_connection.in_transaction


def test_an_autocommit_connection_still_commits_each_statement(app):
    from campus.extensions import db

    with app.app_context():
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(
                text(
                    'INSERT INTO email_messages ("to", subject, text_body, status, attempts,'
                    " created_at, updated_at) VALUES ('a@example.com', 's', 'b', 'queued', 0,"
                    " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
        with db.engine.connect() as connection:
            count = connection.execute(text("SELECT count(*) FROM email_messages")).scalar()
        assert count == 1

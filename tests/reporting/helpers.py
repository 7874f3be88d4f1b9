"""Factories for the reporting tests: a fake CE Broker, and Florida licensees who complete."""

from __future__ import annotations

from types import SimpleNamespace

from tests.certificates.helpers import certificate_of, complete_course, student
from tests.learning.helpers import make_course
from tests.reporting.fake_cebroker import PROVIDER_ID, UPLOAD_KEY, FakeCEBroker


def configure(app, fake: FakeCEBroker) -> None:
    """Point the app's CE Broker settings at the fake (the next test gets them back unset)."""
    app.config.update(
        CEBROKER_PROVIDER_ID=PROVIDER_ID,
        CEBROKER_UPLOAD_KEY=UPLOAD_KEY,
        CEBROKER_ENDPOINT=fake.endpoint,
    )


def course_with_number(slug: str, number: str | None = "20-123456", **fields):
    """A course (in an app context) whose approvals include its CE Broker course number."""
    from campus.extensions import db
    from campus.learning.models import BoardApproval, Course

    course = make_course(slug, **fields)
    if number:
        row = db.session.get(Course, course.id)
        row.approvals.append(
            BoardApproval(
                board="CE Broker (Florida Board of Massage Therapy)", approval_number=number
            )
        )
        db.session.commit()
    return course


def completion(
    app,
    slug: str = "fl-course",
    *,
    license_number: str = "MA12345",
    state: str = "FL",
    number: str | None = "20-123456",
    full_name: str = "Rosa Delgado",
) -> SimpleNamespace:
    """A Florida licensee who completes a new course (tasks run inline); returns ids."""
    with app.app_context():
        course = course_with_number(slug, number)
        user = student(license_number=license_number, license_state=state, full_name=full_name)
        complete_course(user.id, course)
        certificate = certificate_of(user.id)
        return SimpleNamespace(
            user_id=user.id, email=user.email, certificate_id=certificate.id, code=certificate.code
        )


def reports_of(certificate_id: int):
    """Every report of a certificate (in an app context)."""
    from sqlalchemy import select

    from campus.extensions import db
    from campus.reporting.models import ReportedCompletion

    return list(
        db.session.scalars(
            select(ReportedCompletion).where(ReportedCompletion.certificate_id == certificate_id)
        )
    )


def report_of(certificate_id: int):
    """The only report of a certificate (in an app context)."""
    rows = reports_of(certificate_id)
    assert len(rows) == 1, rows
    return rows[0]


def insert_old_reports(conn, rows: list[dict]) -> None:
    """Insert, as raw rows before a migration, one member and a certificate with one report for
    each row: {"id", and optionally "certificate_status", "revoked_at", "status", "reason"}."""
    from sqlalchemy import text

    now = "2026-11-01 10:00:00"
    conn.execute(
        text(
            "INSERT INTO users (id, email, password_hash, full_name, profession, role, "
            "created_at, updated_at) VALUES (1, 'a@example.com', 'x', 'Pat Lee', "
            "'massage_therapist', 'student', :now, :now)"
        ),
        {"now": now},
    )
    for row in rows:
        conn.execute(
            text(
                "INSERT INTO certificates (id, code, user_id, status, data, ce_hours, "
                "completed_at, attempts, revoked_at, created_at, updated_at) VALUES "
                "(:id, :code, 1, :status, '{}', 2, :now, 1, :revoked, :now, :now)"
            ),
            {
                "id": row["id"],
                "code": f"CE-{row['id']}",
                "status": row.get("certificate_status", "issued"),
                "revoked": row.get("revoked_at"),
                "now": now,
            },
        )
        conn.execute(
            text(
                "INSERT INTO reported_completions (certificate_id, system, jurisdiction, "
                "status, reason, attempts, created_at, updated_at) VALUES (:id, 'cebroker', "
                "'FL', :status, :reason, 1, :now, :now)"
            ),
            {
                "id": row["id"],
                "status": row.get("status", "accepted"),
                "reason": row.get("reason"),
                "now": now,
            },
        )

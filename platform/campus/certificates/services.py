"""Certificates: freeze, issue once, revoke, reissue, look up, and sum up for transcripts.

Issuing happens in two transactions (see tasks.issue_certificate): the first inserts the pending
row (ON CONFLICT DO NOTHING on the (user, course) unique constraint, so any number of concurrent
runs create one row); the second locks that row (SELECT ... FOR UPDATE), draws and stores the
PDF, marks it issued and queues the email with a dedupe key, all committed together.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import Insert, and_, exists, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from campus.accounts.models import User
from campus.certificates import pdf
from campus.certificates.codes import new_code, normalize
from campus.certificates.models import Certificate, CertificateCode, CertificateEvent
from campus.certificates.storage import get_storage
from campus.extensions import db
from campus.learning.models import Course, Enrollment
from campus.models.base import utcnow
from campus.templating import format_date


class CertificateError(Exception):
    """A refused certificate operation, with a message for the operator or student."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


# --- frozen data -------------------------------------------------------------------------------


def base_url() -> str:
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/")


def verification_url(code: str) -> str:
    """The public URL printed on the certificate and encoded in its QR code."""
    return f"{base_url()}/verify/{code}"


def freeze(user: User, course: Course, completed_at: datetime, code: str) -> dict:
    """Collect everything a CE board reads on a certificate, as it is right now."""
    config = current_app.config
    completed_on = completed_at.astimezone(UTC).date()
    approvals = [
        {
            "board": a.board,
            "approval_number": a.approval_number,
            "valid_until": a.valid_until.isoformat() if a.valid_until else None,
        }
        for a in course.approvals
        if a.is_valid_on(completed_on)
    ]
    return {
        "code": code,
        "participant_name": user.full_name.strip(),
        "license_number": (user.license_number or "").strip(),
        "license_state": (user.license_state or "").strip(),
        "profession": user.profession_label,
        "course_title": course.title,
        "course_slug": course.slug,
        "course_summary": course.summary,
        "ce_hours": str(Decimal(course.ce_hours).quantize(Decimal("0.01"))),
        "delivery_type": course.delivery_label,
        "completion_date": completed_on.isoformat(),
        "completion_date_text": format_date(completed_on),
        "provider_name": config["PROVIDER_NAME"],
        "provider_address": config["PROVIDER_ADDRESS"],
        "provider_email": config["PROVIDER_EMAIL"],
        "approvals": approvals,
        "signatory_name": config["CERTIFICATE_SIGNATORY_NAME"],
        "signatory_title": config["CERTIFICATE_SIGNATORY_TITLE"],
        "verification_url": verification_url(code),
    }


def _unused_code() -> str:
    """A fresh code that no certificate carries now or ever carried."""
    while True:
        code = new_code()
        taken = db.session.scalar(select(exists().where(CertificateCode.code == code)))
        if not taken:
            return code


def _event(certificate: Certificate, kind: str, detail: str = "", actor: str = "system") -> None:
    db.session.add(
        CertificateEvent(
            certificate_id=certificate.id,
            kind=kind,
            code=certificate.code,
            detail=detail[:4000],
            actor=actor,
        )
    )


# --- issuing -----------------------------------------------------------------------------------


def _insert_ignoring_duplicate(values: dict) -> int | None:
    """Insert a certificate unless the student already has one for the course; return its id."""
    keys = ["user_id", "course_id"]
    dialect = db.session.get_bind().dialect.name
    stmt: Insert
    if dialect == "postgresql":
        stmt = pg_insert(Certificate).values(**values).on_conflict_do_nothing(index_elements=keys)
    elif dialect == "sqlite":
        stmt = (
            sqlite_insert(Certificate).values(**values).on_conflict_do_nothing(index_elements=keys)
        )
    else:  # pragma: no cover - other databases rely on the savepoint in the caller
        stmt = insert(Certificate).values(**values)
    # RETURNING says whether this statement inserted (rowcount is -1 on some drivers).
    return db.session.execute(stmt.returning(Certificate.id)).scalar()


def _id_for(user_id: int, course_id: int) -> int | None:
    return db.session.scalar(
        select(Certificate.id).where(
            Certificate.user_id == user_id, Certificate.course_id == course_id
        )
    )


def ensure_pending(enrollment_id: int) -> int | None:
    """Make sure a completed enrollment has its certificate row; return its id (or None)."""
    enrollment = db.session.get(Enrollment, enrollment_id)
    if enrollment is None or enrollment.completed_at is None:
        return None
    existing = _id_for(enrollment.user_id, enrollment.course_id)
    if existing is not None:
        return existing
    user, course = enrollment.user, enrollment.course
    for _attempt in range(5):
        code = _unused_code()
        values: dict[str, Any] = {
            "code": code,
            "user_id": user.id,
            "course_id": course.id,
            "enrollment_id": enrollment.id,
            "status": "pending",
            "data": freeze(user, course, enrollment.completed_at, code),
            "ce_hours": enrollment.ce_hours_earned or course.ce_hours,
            "completed_at": enrollment.completed_at,
            "attempts": 0,
        }
        try:
            with db.session.begin_nested():
                inserted_id = _insert_ignoring_duplicate(values)
        except IntegrityError:
            continue  # the code was taken a moment ago by another certificate: draw again
        if inserted_id is None:  # another run inserted it first
            return _id_for(user.id, course.id)
        certificate = db.session.get_one(Certificate, inserted_id)
        db.session.add(CertificateCode(code=code, certificate_id=inserted_id))
        _event(certificate, "created", f"Completed {values['data']['completion_date']}")
        db.session.flush()
        return inserted_id
    raise RuntimeError("could not draw an unused certificate code")


def lock(certificate_id: int) -> Certificate | None:
    """Load a certificate and hold its row lock until the transaction ends."""
    if db.session.get_bind().dialect.name == "sqlite":
        # SQLite has no row locks: a no-op write takes the database write lock up front, so two
        # workers cannot both read "pending" and then both issue.
        db.session.execute(
            update(Certificate)
            .where(Certificate.id == certificate_id)
            .values(attempts=Certificate.attempts)
            .execution_options(synchronize_session=False)
        )
    return db.session.scalar(
        select(Certificate)
        .where(Certificate.id == certificate_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def storage_key(code: str) -> str:
    return f"{code}.pdf"


def render(certificate: Certificate, *, revoked: bool = False) -> bytes:
    """Draw a certificate's PDF from its frozen data."""
    return pdf.render_certificate(
        certificate.data,
        revoked=revoked,
        signature_image=current_app.config.get("CERTIFICATE_SIGNATURE_IMAGE"),
    )


def issue(certificate_id: int, before_commit: Callable[[], None] | None = None) -> bool:
    """Draw, store and mark one certificate issued and queue its email; no-op once issued."""
    certificate = lock(certificate_id)
    if certificate is None or certificate.status in ("issued", "revoked"):
        return False
    document = render(certificate)
    key = storage_key(certificate.code)
    get_storage().save(key, document)
    certificate.storage_key = key
    certificate.status = "issued"
    certificate.issued_at = utcnow()
    certificate.attempts += 1
    certificate.last_error = None
    _event(certificate, "issued", f"{len(document)} bytes stored as {key}")
    _queue_ready_email(certificate)
    if before_commit is not None:
        before_commit()
    return True


def _queue_ready_email(certificate: Certificate) -> None:
    from campus.mail.services import queue_email

    user = certificate.user
    queue_email(
        user.email,
        "Your CE certificate is ready",
        "certificate_ready",
        # One email per certificate code: a rerun, a retry or a redelivered task sends nothing.
        dedupe_key=f"certificate-ready:{certificate.code}",
        user=user,
        data=certificate.data,
        hours=pdf.hours_text(certificate.data["ce_hours"]),
        list_url=f"{base_url()}/certificates/",
        pdf_url=f"{base_url()}/certificates/{certificate.code}.pdf",
        verify_url=certificate.data["verification_url"],
    )


def record_failure(certificate_id: int, error: BaseException) -> None:
    """Mark an unfinished certificate failed with the error, for the student and the sweep."""
    certificate = lock(certificate_id)
    if certificate is None or certificate.status in ("issued", "revoked"):
        return
    message = f"{type(error).__name__}: {error}"[:2000]
    certificate.status = "failed"
    certificate.attempts += 1
    certificate.last_error = message
    certificate.updated_at = utcnow()
    _event(certificate, "failed", message)


def sweep_candidates(now: datetime | None = None, limit: int = 1000) -> list[int]:
    """Completed enrollments whose certificate is missing, failed, or stuck pending."""
    now = now or utcnow()
    stale = now - timedelta(seconds=current_app.config["CERTIFICATE_SWEEP_AFTER"])
    query = (
        select(Enrollment.id)
        .outerjoin(
            Certificate,
            and_(
                Certificate.user_id == Enrollment.user_id,
                Certificate.course_id == Enrollment.course_id,
            ),
        )
        .where(
            Enrollment.completed_at.is_not(None),
            or_(
                Certificate.id.is_(None),
                and_(Certificate.status.in_(("failed", "pending")), Certificate.updated_at < stale),
            ),
        )
        .order_by(Enrollment.completed_at)
        .limit(limit)
    )
    return list(db.session.scalars(query))


# --- reading -----------------------------------------------------------------------------------


def certificates_of(user: User) -> list[Certificate]:
    """A student's certificates, newest completion first."""
    return list(
        db.session.scalars(
            select(Certificate)
            .where(Certificate.user_id == user.id)
            .order_by(Certificate.completed_at.desc(), Certificate.id.desc())
        )
    )


def awaiting(user: User) -> list[Enrollment]:
    """Completed enrollments whose certificate row the worker has not created yet."""
    return list(
        db.session.scalars(
            select(Enrollment)
            .outerjoin(
                Certificate,
                and_(
                    Certificate.user_id == Enrollment.user_id,
                    Certificate.course_id == Enrollment.course_id,
                ),
            )
            .where(
                Enrollment.user_id == user.id,
                Enrollment.completed_at.is_not(None),
                Certificate.id.is_(None),
            )
            .options(selectinload(Enrollment.course))
        )
    )


def total_hours(certificates: list[Certificate]) -> Decimal:
    """CE hours of the issued certificates in a list."""
    total = sum((Decimal(c.ce_hours) for c in certificates if c.is_issued), Decimal("0"))
    return total.quantize(Decimal("0.01"))


@dataclass(frozen=True)
class Lookup:
    """What a code points to: the certificate and, for a retired code, that code's record."""

    certificate: Certificate
    code: CertificateCode


def find(code_text: str | None) -> Lookup | None:
    """Find a certificate by any code it has carried; malformed codes find nothing."""
    code = normalize(code_text)
    if code is None:
        return None
    row = db.session.scalar(
        select(CertificateCode)
        .where(CertificateCode.code == code)
        .options(selectinload(CertificateCode.certificate))
    )
    if row is None:
        return None
    return Lookup(row.certificate, row)


def owned(user: User | None, code_text: str | None, *, admins: bool = True) -> Certificate | None:
    """The certificate with this current code if the user owns it (or is an admin), else None."""
    code = normalize(code_text)
    if user is None or not user.is_authenticated or code is None:
        return None
    certificate = db.session.scalar(select(Certificate).where(Certificate.code == code))
    if certificate is None:
        return None
    if certificate.user_id == user.id or (admins and user.is_admin):
        return certificate
    return None


def public(code_text: str | None) -> Lookup | None:
    """A certificate anyone may check: issued or revoked (not one still being prepared)."""
    found = find(code_text)
    if found is None:
        return None
    if found.code.retired_at is None and found.certificate.status not in ("issued", "revoked"):
        return None
    return found


def pdf_bytes(certificate: Certificate, viewer: User) -> bytes | None:
    """The PDF for its owner (issued) or an admin (issued, or revoked and marked as such)."""
    if certificate.is_issued and certificate.storage_key:
        storage = get_storage()
        if storage.exists(certificate.storage_key):
            return storage.read(certificate.storage_key)
        return None
    if certificate.is_revoked and viewer.is_admin:
        return render(certificate, revoked=True)
    return None


# --- revoke and reissue ------------------------------------------------------------------------


def _current(code_text: str) -> Certificate:
    found = find(code_text)
    if found is None:
        raise CertificateError(f"No certificate has the code {code_text!r}.", 404)
    if found.code.retired_at is not None:
        raise CertificateError(
            f"{found.code.code} was replaced by {found.certificate.code}; use that code.", 409
        )
    certificate = lock(found.certificate.id)
    assert certificate is not None
    return certificate


def revoke(code_text: str, reason: str, actor: str = "cli") -> Certificate:
    """Revoke an issued certificate with a reason; the verify page then says so."""
    reason = (reason or "").strip()
    if not reason:
        raise CertificateError("Give a reason for the revocation.")
    certificate = _current(code_text)
    if certificate.status == "revoked":
        raise CertificateError(f"{certificate.code} is already revoked.", 409)
    if certificate.status != "issued":
        raise CertificateError(f"{certificate.code} is {certificate.status}, not issued.", 409)
    certificate.status = "revoked"
    certificate.revoked_at = utcnow()
    certificate.revoked_reason = reason
    _event(certificate, "revoked", reason, actor)
    return certificate


def reissue(code_text: str, reason: str, actor: str = "cli") -> Certificate:
    """Give a certificate a new code and fresh data; the old code's page points to the new one."""
    from campus.certificates.tasks import issue_certificate
    from campus.jobs import enqueue_after_commit

    reason = (reason or "").strip()
    if not reason:
        raise CertificateError("Give a reason for the reissue.")
    certificate = _current(code_text)
    if certificate.status == "pending":
        raise CertificateError(f"{certificate.code} is still being issued; try again shortly.", 409)
    old_code = certificate.code
    now = utcnow()
    old_row = db.session.scalars(
        select(CertificateCode).where(CertificateCode.code == old_code)
    ).one()
    old_row.retired_at = now
    old_row.retired_reason = reason
    code = _unused_code()
    user = certificate.user
    course = db.session.get(Course, certificate.course_id) if certificate.course_id else None
    if course is not None:
        data = freeze(user, course, certificate.completed_at, code)
    else:  # the course left the catalog: keep what was printed, under the new code
        data = dict(certificate.data, code=code, verification_url=verification_url(code))
    certificate.code = code
    certificate.data = data
    certificate.status = "pending"
    certificate.storage_key = None
    certificate.issued_at = None
    certificate.revoked_at = None
    certificate.revoked_reason = None
    certificate.last_error = None
    db.session.add(CertificateCode(code=code, certificate_id=certificate.id, created_at=now))
    _event(certificate, "reissued", f"{old_code} -> {code}: {reason}", actor)
    db.session.flush()
    if certificate.enrollment_id is not None:
        enqueue_after_commit(issue_certificate, certificate.enrollment_id)
    else:
        issue(certificate.id)
    return certificate


# --- transcripts -------------------------------------------------------------------------------


def parse_range(start_text: str | None, end_text: str | None, today: date) -> tuple[date, date]:
    """Validate a transcript range (YYYY-MM-DD); default: this calendar year to today."""
    try:
        start = date.fromisoformat(start_text) if start_text else date(today.year, 1, 1)
        end = date.fromisoformat(end_text) if end_text else today
    except (ValueError, TypeError):
        raise CertificateError("Enter dates as YYYY-MM-DD, for example 2026-01-31.") from None
    if start > end:
        raise CertificateError("The start date must be on or before the end date.")
    if start.year < 2000 or end > today + timedelta(days=366):
        raise CertificateError("Choose dates between the year 2000 and next year.")
    return start, end


def transcript_certificates(user: User, start: date, end: date) -> list[Certificate]:
    """Issued certificates completed within a range (both days included, UTC)."""
    low = datetime.combine(start, time.min, tzinfo=UTC)
    high = datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC)
    return list(
        db.session.scalars(
            select(Certificate)
            .where(
                Certificate.user_id == user.id,
                Certificate.status == "issued",
                Certificate.completed_at >= low,
                Certificate.completed_at < high,
            )
            .order_by(Certificate.completed_at, Certificate.id)
        )
    )


def _approvals_text(data: dict) -> str:
    return "; ".join(f"{a['board']} {a['approval_number']}" for a in data.get("approvals", []))


def transcript_csv(user: User, start: date, end: date) -> str:
    """The transcript as CSV: one row per certificate, then the total."""
    rows = transcript_certificates(user, start, end)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "completion_date",
            "course_title",
            "ce_hours",
            "delivery_type",
            "approvals",
            "certificate_code",
            "verification_url",
            "participant_name",
            "license_number",
            "license_state",
        ]
    )
    for c in rows:
        d = c.data
        writer.writerow(
            [
                d["completion_date"],
                _csv_safe(d["course_title"]),
                pdf.hours_text(d["ce_hours"]),
                d["delivery_type"],
                _csv_safe(_approvals_text(d)),
                c.code,
                d["verification_url"],
                _csv_safe(d["participant_name"]),
                _csv_safe(d["license_number"]),
                _csv_safe(d["license_state"]),
            ]
        )
    writer.writerow(["total", "", pdf.hours_text(total_hours(rows)), "", "", "", "", "", "", ""])
    return out.getvalue()


def _csv_safe(value: str) -> str:
    # Spreadsheets run cells that start with these as formulas.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def transcript_pdf(user: User, start: date, end: date) -> bytes:
    """The transcript as a printable PDF."""
    rows = transcript_certificates(user, start, end)
    config = current_app.config
    latest = rows[-1].data if rows else {}
    participant = {
        "name": latest.get("participant_name") or user.full_name,
        "license": pdf.license_line(
            latest or {"license_number": user.license_number, "license_state": user.license_state}
        ),
    }
    return pdf.render_transcript(
        participant=participant,
        provider={
            "name": config["PROVIDER_NAME"],
            "address": config["PROVIDER_ADDRESS"],
            "email": config["PROVIDER_EMAIL"],
        },
        rows=[
            {
                "completion_date": c.data["completion_date"],
                "course_title": c.data["course_title"],
                "ce_hours": c.data["ce_hours"],
                "delivery_type": c.data["delivery_type"],
                "code": c.code,
                "approvals": _approvals_text(c.data),
            }
            for c in rows
        ],
        start_text=format_date(start),
        end_text=format_date(end),
        total_hours=total_hours(rows),
        generated_text=format_date(utcnow()),
    )


def count_by_status() -> dict[str, int]:
    """How many certificates are in each status (for operators and benchmarks)."""
    rows = db.session.execute(
        select(Certificate.status, func.count(Certificate.id)).group_by(Certificate.status)
    ).all()
    return {status: count for status, count in rows}

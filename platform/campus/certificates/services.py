"""Certificates: freeze, issue once, look up, and serve to their owners.

Revoking and reissuing are the actions in `actions`; transcripts live in `transcripts`.

Issuing happens in two transactions (see tasks.issue_certificate): the first inserts the pending
row (ON CONFLICT DO NOTHING on the (user, course) unique constraint, so any number of concurrent
runs create one row) and counts the try (`tries`, so one cut off by its worker's death counts);
the second locks that row (SELECT ... FOR UPDATE), draws and stores the PDF, marks it issued and
queues the email with a dedupe key, all committed together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from flask import current_app
from sqlalchemy import and_, exists, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from campus import dates
from campus.accounts.access import acts_as_admin
from campus.accounts.models import User
from campus.certificates import pdf, signatures
from campus.certificates.codes import new_code, normalize
from campus.certificates.models import Certificate, CertificateCode, CertificateEvent, stands
from campus.extensions import db
from campus.learning.models import Course, Enrollment
from campus.learning.progress import course_as_completed
from campus.licenses.choice import license_for_certificate
from campus.licenses.models import License
from campus.models.base import utcnow
from campus.models.writes import insert_if_absent, lock_row
from campus.storage import get_storage
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


def frozen_hours(value: Decimal | str) -> str:
    """CE hours as the certificate's frozen data keeps them: two decimals, as text."""
    return str(Decimal(str(value)).quantize(Decimal("0.01")))


def _hours_earned(enrollment: Enrollment) -> Decimal:
    """The hours a certificate carries: those recorded when the enrollment completed."""
    # The course's hours may have been edited since; the learner earned what it said then.
    # Only an enrollment completed before hours were recorded falls back to the course's.
    if enrollment.ce_hours_earned is not None:
        return Decimal(enrollment.ce_hours_earned)
    return Decimal(enrollment.course.ce_hours)


def participant_fields(user: User, license: License | None) -> dict[str, str]:
    """Who a certificate is for, as it prints them: name, license and profession."""
    return {
        "participant_name": user.full_name.strip(),
        "license_number": (license.number if license else "").strip(),
        "license_state": license.jurisdiction if license else "",
        # Not printed: the license's own profession, which a board is told the hours are for
        # after the member has removed the license (the profile's may be another).
        "license_profession": license.profession if license else "",
        "profession": user.profession_label,
    }


def freeze(
    user: User,
    course: Course,
    completed_at: datetime,
    code: str,
    license: License | None,
    ce_hours: Decimal,
    as_completed: dict | None = None,
) -> dict:
    """Collect everything a CE board reads on a certificate, with the hours it was earned for.

    `as_completed` is the course as the enrollment completed it, when that was recorded: the
    title, delivery, approvals and instructors it prints (the course may be edited since).
    """
    config = current_app.config
    completed_on = dates.local_date(completed_at)
    course_facts = course_as_completed(course, completed_on)
    course_facts.update(
        {key: value for key, value in (as_completed or {}).items() if key in course_facts}
    )
    return {
        "code": code,
        **participant_fields(user, license),
        "course_slug": course.slug,
        "course_summary": course.summary,
        "ce_hours": frozen_hours(ce_hours),
        **course_facts,
        "completion_date": completed_on.isoformat(),
        "completion_date_text": format_date(completed_on),
        "provider_name": config["PROVIDER_NAME"],
        "provider_address": config["PROVIDER_ADDRESS"],
        "provider_email": config["PROVIDER_EMAIL"],
        "signatory_name": config["CERTIFICATE_SIGNATORY_NAME"],
        "signatory_title": config["CERTIFICATE_SIGNATORY_TITLE"],
        # The image itself by its content: a new scan in the settings does not re-sign this one.
        signatures.FIELD: signatures.frozen_key(),
        "verification_url": verification_url(code),
    }


def unused_code() -> str:
    """Draw a fresh code that no certificate carries now or ever carried."""
    while True:
        code = new_code()
        taken = db.session.scalar(select(exists().where(CertificateCode.code == code)))
        if not taken:
            return code


def record_event(
    certificate: Certificate, kind: str, detail: str = "", actor: str = "system"
) -> None:
    """Add a line to a certificate's own history (what the verify page and the admin show)."""
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


def _id_for(user_id: int, course_id: int) -> int | None:
    return db.session.scalar(
        select(Certificate.id).where(
            Certificate.user_id == user_id, Certificate.course_id == course_id
        )
    )


def ensure_pending(enrollment_id: int) -> int | None:
    """Make sure a completed enrollment has its certificate row; return its id (or None)."""
    enrollment = db.session.get(Enrollment, enrollment_id)
    if enrollment is None or enrollment.completed_at is None or enrollment.evaluated_at is None:
        return None  # the certificate waits for completion, the evaluation and attestation
    existing = _id_for(enrollment.user_id, enrollment.course_id)
    if existing is not None:
        return existing
    user, course = enrollment.user, enrollment.course
    license = license_for_certificate(enrollment, dates.local_date(enrollment.completed_at))
    # One value for the printed hours and the column that transcripts and reports read.
    hours = Decimal(frozen_hours(_hours_earned(enrollment)))
    for _attempt in range(5):
        code = unused_code()
        data = freeze(
            user, course, enrollment.completed_at, code, license, hours, enrollment.completed_course
        )
        values = {
            "code": code,
            "user_id": user.id,
            "license_id": license.id if license else None,
            "course_id": course.id,
            "enrollment_id": enrollment.id,
            "status": "pending",
            "data": data,
            "ce_hours": hours,
            "completed_at": enrollment.completed_at,
            "attempts": 0,
        }
        try:
            with db.session.begin_nested():
                inserted_id = insert_if_absent(Certificate, values, ["user_id", "course_id"])
        except IntegrityError:
            continue  # the code was taken a moment ago by another certificate: draw again
        if inserted_id is None:  # another run inserted it first
            return _id_for(user.id, course.id)
        certificate = db.session.get_one(Certificate, inserted_id)
        db.session.add(CertificateCode(code=code, certificate_id=inserted_id))
        record_event(certificate, "created", f"Completed {data['completion_date']}")
        db.session.flush()
        return inserted_id
    raise RuntimeError("could not draw an unused certificate code")


def lock(certificate_id: int) -> Certificate | None:
    """Load a certificate and hold its row lock until the transaction ends."""
    # Two workers cannot both read "pending" and then both issue.
    lock_row(Certificate, certificate_id)
    return db.session.scalar(
        select(Certificate)
        .where(Certificate.id == certificate_id)
        .execution_options(populate_existing=True)
    )


def storage_key(code: str) -> str:
    """The key a certificate's PDF is stored under."""
    return f"certificates/{code}.pdf"


def render(certificate: Certificate, *, revoked: bool = False) -> bytes:
    """Draw a certificate's PDF from its frozen data."""
    return pdf.render_certificate(
        certificate.data,
        revoked=revoked,
        signature_image=signatures.printed(certificate.data),
    )


def issue(certificate_id: int) -> bool:
    """Draw, store and mark one certificate issued and queue its email; no-op once issued."""
    certificate = lock(certificate_id)
    if certificate is None or certificate.status in ("issued", "revoked"):
        return False
    document = render(certificate)
    key = storage_key(certificate.code)
    get_storage().save(key, document, "application/pdf")
    certificate.storage_key = key
    certificate.status = "issued"
    certificate.issued_at = utcnow()
    certificate.attempts += 1
    certificate.cut_off_tries = 0  # drawn: no try is left unfinished
    certificate.last_error = None
    record_event(certificate, "issued", f"{len(document)} bytes stored as {key}")
    _queue_ready_email(certificate)
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


def record_failure(certificate_id: int, error: BaseException, *, counted: bool = True) -> None:
    """Mark an unfinished certificate failed with the error, for the student and the sweep.

    `counted`: tries.start counted this try (and it was committed); one that failed before
    that has no count to take back.
    """
    certificate = lock(certificate_id)
    if certificate is None or certificate.status in ("issued", "revoked"):
        return
    message = f"{type(error).__name__}: {error}"[:2000]
    certificate.status = "failed"
    certificate.attempts += 1
    if counted:
        # The try ended, with an error: it was not cut off (tries.start counted it as if it were).
        certificate.cut_off_tries = max(certificate.cut_off_tries - 1, 0)
    certificate.last_error = message
    certificate.updated_at = utcnow()
    record_event(certificate, "failed", message)


def sweep_candidates(now: datetime | None = None, limit: int = 1000) -> list[int]:
    """Completed enrollments whose certificate is missing, failed, or stuck pending.

    Failing tries never stop it; only one whose drawing killed its worker too often (`tries`)
    is left for an admin.
    """
    now = now or utcnow()
    config = current_app.config
    stale = now - timedelta(seconds=config["CERTIFICATE_SWEEP_AFTER"])
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
            Enrollment.evaluated_at.is_not(None),
            or_(
                Certificate.id.is_(None),
                and_(
                    Certificate.status.in_(("failed", "pending")),
                    Certificate.updated_at < stale,
                    Certificate.cut_off_tries <= config["CERTIFICATE_MAX_CUT_OFF_TRIES"],
                ),
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


def standing_of(user: User) -> list[Certificate]:
    """A student's certificates whose completions stand (`models.stands`), newest first."""
    return list(
        db.session.scalars(
            select(Certificate)
            .where(Certificate.user_id == user.id, stands(Certificate))
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
                Enrollment.evaluated_at.is_not(None),
                Certificate.id.is_(None),
            )
            .options(selectinload(Enrollment.course))
        )
    )


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
    if certificate.user_id == user.id or (admins and acts_as_admin(user)):
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
        try:
            return get_storage().read(certificate.storage_key)
        except FileNotFoundError:
            return None
    if certificate.is_revoked and acts_as_admin(viewer):
        return render(certificate, revoked=True)
    return None

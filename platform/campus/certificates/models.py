"""CE certificates: one per student and course, their codes over time, and what happened to them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import (
    JSON,
    CheckConstraint,
    ColumnElement,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    and_,
    or_,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campus import dates
from campus.accounts.models import User
from campus.extensions import Model
from campus.models.base import IDS_KEPT, TimestampMixin, utcnow

STATUSES = {
    "pending": "Being prepared",
    "issued": "Issued",
    "failed": "Delayed, retrying",
    "revoked": "Revoked",
}


def printed_date_of(data: dict | None, completed_at: datetime) -> date:
    """The completion date frozen data prints; the moment's day now for data without one."""
    try:
        return date.fromisoformat(str((data or {}).get("completion_date")))
    except ValueError:
        return dates.local_date(completed_at)


class Certificate(TimestampMixin, Model):
    """A student's certificate for a course; `data` is what was printed, frozen at issue time."""

    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The current code; earlier codes of a reissued certificate live in certificate_codes.
    code: Mapped[str] = mapped_column(String(32), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # A certificate outlives its course in the catalog: the frozen data says what it was.
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id", ondelete="SET NULL"))
    enrollment_id: Mapped[int | None] = mapped_column(
        ForeignKey("enrollments.id", ondelete="SET NULL")
    )
    # The license it was earned for; the number and state printed on it stay in `data`.
    license_id: Mapped[int | None] = mapped_column(ForeignKey("licenses.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    # Participant, course, provider, approvals, signatory, code and verification URL as printed.
    data: Mapped[dict] = mapped_column(JSON)
    # Copies of two frozen fields as columns so totals and date ranges are plain SQL. ce_hours
    # is the hours earned at completion, set at first issue and kept by a reissue; data's
    # "ce_hours" prints the same value, and transcripts, the API and reports read this one.
    ce_hours: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    completed_at: Mapped[datetime]
    storage_key: Mapped[str | None] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(default=0)
    # Tries at drawing it that never finished (their worker died): each is counted before it
    # draws and taken back when it ends, so only those cut off stay counted.
    cut_off_tries: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    issued_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(Text)

    user: Mapped[User] = relationship()
    codes: Mapped[list[CertificateCode]] = relationship(
        back_populates="certificate", cascade="all, delete-orphan", order_by="CertificateCode.id"
    )
    events: Mapped[list[CertificateEvent]] = relationship(
        back_populates="certificate", cascade="all, delete-orphan", order_by="CertificateEvent.id"
    )

    __table_args__ = (
        # THE rule: however often the task runs, a student has one certificate per course.
        UniqueConstraint("user_id", "course_id"),
        CheckConstraint(
            "status IN ('pending', 'issued', 'failed', 'revoked')", name="status_known"
        ),
        Index("ix_certificates_user_completed", "user_id", "completed_at"),
        IDS_KEPT,
    )

    @property
    def status_label(self) -> str:
        return "Delayed" if self.given_up else STATUSES.get(self.status, self.status)

    @property
    def given_up(self) -> bool:
        """Failed and not tried again until an admin reissues it: drawing it killed its worker."""
        limit = current_app.config["CERTIFICATE_MAX_CUT_OFF_TRIES"]
        return self.status == "failed" and self.cut_off_tries > limit

    @property
    def is_issued(self) -> bool:
        return self.status == "issued"

    @property
    def printed_date(self) -> date:
        """The completion date it prints, frozen at issue on the provider's calendar of then."""
        return printed_date_of(self.data, self.completed_at)

    @property
    def is_revoked(self) -> bool:
        return self.status == "revoked"

    def __repr__(self) -> str:
        return f"<Certificate {self.code} {self.status}>"


class CertificateCode(Model):
    """Every code a certificate has carried; a reissue retires the old code, never deletes it."""

    __tablename__ = "certificate_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    certificate_id: Mapped[int] = mapped_column(
        ForeignKey("certificates.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None]
    retired_reason: Mapped[str | None] = mapped_column(Text)

    certificate: Mapped[Certificate] = relationship(back_populates="codes")


class CertificateEvent(Model):
    """One line of a certificate's history: created, failed, issued, revoked, reissued."""

    __tablename__ = "certificate_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(
        ForeignKey("certificates.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    code: Mapped[str] = mapped_column(String(32))  # the code in force when it happened
    detail: Mapped[str] = mapped_column(Text, default="")
    # "admin <email>": an address may be 320 characters (users.email).
    actor: Mapped[str] = mapped_column(String(330), default="system")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    certificate: Mapped[Certificate] = relationship(back_populates="events")


# --- what a certificate stands for while its reissue is drawn ----------------------------------

_REISSUING = ("pending", "failed")


def _last_verdict(certificate: Any) -> Any:
    """SQL: "issued" or "revoked", whichever of the two the certificate's history last says."""
    return (
        select(CertificateEvent.kind)
        .where(
            CertificateEvent.certificate_id == certificate.id,
            CertificateEvent.kind.in_(("issued", "revoked")),
        )
        .order_by(CertificateEvent.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def stands(certificate: Any) -> ColumnElement[bool]:
    """SQL: a certificate whose completion counts as certified (of Certificate or an alias).

    Issued, or reissued after it was issued and its new PDF not drawn yet (or being retried):
    a reissue corrects a name or license, and the completion stands all the while, as the CE
    Broker roster lists it. One revoked before the reissue stands again only once it lands.
    """
    # Only a reissue takes an issued certificate back to pending (then failed while retried):
    # one whose first issue never landed has no "issued" line and was never certified.
    return or_(
        certificate.status == "issued",
        and_(certificate.status.in_(_REISSUING), _last_verdict(certificate) == "issued"),
    )


def withdrawn(certificate: Any) -> ColumnElement[bool]:
    """SQL: a certificate whose hours count nowhere: revoked, or being reinstated by a reissue.

    A reissue of a revoked certificate reinstates it when it lands; until then the board is
    still due to withdraw it and no total may count it back.
    """
    return or_(
        certificate.status == "revoked",
        and_(certificate.status.in_(_REISSUING), _last_verdict(certificate) == "revoked"),
    )

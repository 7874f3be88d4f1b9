"""What the public reads of a code a reissue retired: replaced, awaited, or revoked."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, exists, func, select

from campus.certificates.models import Certificate, CertificateCode, CertificateEvent
from campus.extensions import db


def awaited_message(certificate: Certificate) -> str:
    """The replaced code's note on the new certificate still to come, as its holder reads it."""
    if certificate.given_up:
        # Nothing draws it until the staff do: "being prepared" would promise it soon. Its holder
        # reads "Delayed"; the reason (a drawing that kept failing) stays private.
        return (
            "A corrected certificate was ordered but is delayed and not available yet; "
            f"it will have the code {certificate.code}."
        )
    return f"The new certificate is being prepared; it will have the code {certificate.code}."


def awaited_state(certificate: Certificate) -> str:
    """How a replaced code's list names the current code while it is not issued yet."""
    if certificate.given_up:
        return "is delayed and not available yet"
    return "is being prepared"


def _issued_under(certificate: Certificate, code: ColumnElement[bool]) -> bool:
    """Whether the certificate was ever issued under a code the condition picks."""
    query = select(
        exists().where(
            CertificateEvent.certificate_id == certificate.id,
            CertificateEvent.kind == "issued",
            code,
        )
    )
    return bool(db.session.scalar(query))


def current_code_issued(certificate: Certificate) -> bool:
    """Whether the certificate's current code was ever issued (not revoked before its draw)."""
    return _issued_under(certificate, CertificateEvent.code == certificate.code)


def revoked_undrawn(certificate: Certificate) -> bool:
    """Whether the certificate was revoked under a code that was never issued."""
    # Its reissue was revoked before it was drawn: the current code names no certificate a
    # verifier could be shown, so an old code's page names it only as revoked.
    return certificate.status == "revoked" and not current_code_issued(certificate)


def replacement_issued(certificate: Certificate, row: CertificateCode) -> bool:
    """Whether a code issued after this retired one exists: the certificate that replaced it."""
    if certificate.status == "issued":
        return True  # its current code, newer than any it retired, was issued
    # Being reissued again, or revoked: one of the codes since was issued (a "failed" reissue
    # never was, nor one revoked before it was drawn).
    later = select(CertificateCode.code).where(
        CertificateCode.certificate_id == certificate.id, CertificateCode.id > row.id
    )
    return _issued_under(certificate, CertificateEvent.code.in_(later))


def revoked_unreplaced(certificate: Certificate, row: CertificateCode) -> bool:
    """Whether a retired code reads plainly as revoked: no certificate ever replaced it."""
    # Its reissue was revoked before it was drawn: the code that reissue gave was never
    # issued, so "replaced by" would name a certificate that never existed.
    return (
        row.retired_at is not None
        and certificate.is_revoked
        and not replacement_issued(certificate, row)
    )


def revoked_on(certificate: Certificate, row: CertificateCode) -> datetime | None:
    """When a code no certificate replaced stopped being valid: its first revocation since issue."""
    # A revoked code reinstated by a reissue, and that reissue revoked before it was drawn: the
    # certificate's revoked_at is the second revocation's, though this code was revoked at the
    # first (withdrawn all along in between), which is what a verifier must be told.
    last_issued = (
        select(func.max(CertificateEvent.id))
        .where(
            CertificateEvent.certificate_id == certificate.id,
            CertificateEvent.kind == "issued",
            CertificateEvent.code == row.code,
        )
        .scalar_subquery()
    )
    query = (
        select(CertificateEvent.created_at)
        .where(
            CertificateEvent.certificate_id == certificate.id,
            CertificateEvent.kind == "revoked",
            CertificateEvent.id > last_issued,
        )
        .order_by(CertificateEvent.id)
        .limit(1)
    )
    return db.session.scalar(query) or certificate.revoked_at

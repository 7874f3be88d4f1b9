"""Certificates in the JSON API: the signed-in student's own certificates only."""

from __future__ import annotations

from datetime import date

from flask import abort
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import fields
from werkzeug.wrappers import Response

from campus.api.spec import SIGNED_IN, ErrorSchema, ResponseSchema
from campus.certificates import awaited, services
from campus.certificates.models import Certificate, CertificateCode
from campus.certificates.pdf import hours_text
from campus.errors import json_error
from campus.learning import credit
from campus.templating import format_date

blp = Blueprint(
    "certificates_api",
    __name__,
    description="CE certificates of the signed-in student: status, frozen data and links",
)


class CertificateApprovalSchema(ResponseSchema):
    board = fields.String()
    approval_number = fields.String()
    valid_from = fields.Date(
        allow_none=True,
        metadata={"description": "The approval's first day as printed (null: not recorded)"},
    )
    valid_until = fields.Date(
        allow_none=True, metadata={"description": "Its last day as printed (null: no end)"}
    )


class CertificateSchema(ResponseSchema):
    code = fields.String(metadata={"description": "e.g. CE-7K4M-Q2XP-9HDA-3RTW"})
    status = fields.String(metadata={"description": "pending | issued | failed | revoked"})
    given_up = fields.Boolean(
        metadata={
            "description": "true for a failed certificate that will not be tried again: "
            "drawing it was cut off too many times, and only the provider's reissue starts it "
            "afresh (contact the provider). false otherwise: a failed one is still retried"
        }
    )
    course_title = fields.String(metadata={"description": "The title as approved"})
    ce_hours = fields.Float()
    delivery_type = fields.String()
    completion_date = fields.Date()
    participant_name = fields.String()
    license_number = fields.String()
    license_state = fields.String()
    approvals = fields.List(fields.Nested(CertificateApprovalSchema))
    issued_at = fields.DateTime(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)
    revoked_reason = fields.String(allow_none=True)
    pdf_url = fields.String(allow_none=True)
    verification_url = fields.String()


class CertificateListSchema(ResponseSchema):
    certificates = fields.List(fields.Nested(CertificateSchema))
    total_ce_hours = fields.Float(
        metadata={
            "description": "Sum over the certificates that count: issued ones and ones being "
            "reissued"
        }
    )


def _signed_in_user():
    if not current_user.is_authenticated:
        abort(401, "Sign in to see your certificates.")
    return current_user._get_current_object()


def _approval(printed: dict) -> dict:
    """An approval as the certificate printed it; one frozen without its dates has them null."""
    days = {k: printed.get(k) for k in ("valid_from", "valid_until")}
    return {
        "board": printed["board"],
        "approval_number": printed["approval_number"],
        **{k: date.fromisoformat(v) if v else None for k, v in days.items()},
    }


def _as_dict(certificate) -> dict:
    data = certificate.data
    return {
        "code": certificate.code,
        "status": certificate.status,
        "given_up": certificate.given_up,
        "course_title": data["course_title"],
        "ce_hours": float(hours_text(certificate.ce_hours)),
        "delivery_type": data["delivery_type"],
        "completion_date": date.fromisoformat(data["completion_date"]),
        "participant_name": data["participant_name"],
        "license_number": data["license_number"],
        "license_state": data["license_state"],
        "approvals": [_approval(a) for a in data.get("approvals", [])],
        "issued_at": certificate.issued_at,
        "revoked_at": certificate.revoked_at,
        "revoked_reason": certificate.revoked_reason,
        "pdf_url": (
            f"{services.base_url()}/certificates/{certificate.code}.pdf"
            if certificate.is_issued
            else None
        ),
        "verification_url": data["verification_url"],
    }


@blp.get("/certificates")
@blp.doc(security=SIGNED_IN)
@blp.response(200, CertificateListSchema)
@blp.alt_response(401, schema=ErrorSchema, description="Not signed in, or a bad token")
def list_certificates():
    """List the signed-in student's certificates with the total of CE hours."""
    user = _signed_in_user()
    certificates = services.certificates_of(user)
    return {
        "certificates": [_as_dict(c) for c in certificates],
        "total_ce_hours": float(credit.earned_hours(user.id, certified=True)),
    }


def _revoked_undrawn(certificate: Certificate, row: CertificateCode) -> Response:
    """Answer an old code whose certificate was revoked under a code never issued, as revoked."""
    # As the verify pages: "superseded_by" would name a code nothing was ever issued under.
    if awaited.revoked_unreplaced(certificate, row):
        revoked_at = awaited.revoked_on(certificate, row)
        when = f" on {format_date(revoked_at)}" if revoked_at else ""  # as the page dates it
        message = f"This certificate was revoked{when}."
    else:  # an issued certificate replaced it; the one since was revoked before its draw
        revoked_at = certificate.revoked_at
        message = f"This certificate was reissued; the current one, {certificate.code}, is revoked."
    return json_error(
        "revoked", message, 410, revoked_at=revoked_at.isoformat() if revoked_at else None
    )


@blp.get("/certificates/<code>")
@blp.doc(security=SIGNED_IN)
@blp.response(200, CertificateSchema)
@blp.alt_response(401, schema=ErrorSchema, description="Not signed in, or a bad token")
@blp.alt_response(404, schema=ErrorSchema, description="No certificate of yours has that code")
@blp.alt_response(
    410,
    schema=ErrorSchema,
    description="The code was replaced by a reissue: error.code is superseded and "
    "error.superseded_by the certificate's current code. Or the certificate was revoked under "
    "a code never issued (a reissue revoked before it was drawn): error.code is revoked and "
    "error.revoked_at when (date-time, or null), with no superseded_by",
)
def get_certificate(code: str):
    """Show one of the signed-in student's certificates; anyone else's is a 404."""
    user = _signed_in_user()
    certificate = services.owned(user, code, admins=False)
    if certificate is None:
        # As the verify page: an old code of one's own certificate points to the new one.
        found = services.find(code)
        if found and found.code.retired_at is not None and found.certificate.user_id == user.id:
            if awaited.revoked_undrawn(found.certificate):
                return _revoked_undrawn(found.certificate, found.code)
            current = found.certificate.code
            return json_error(
                "superseded",
                f"This certificate was reissued under the code {current}.",
                410,
                superseded_by=current,
            )
        abort(404, "No certificate of yours has that code.")
    return _as_dict(certificate)

"""A credential's documents: the PDF (in the certificates' typesetting) and the signed badge."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

from reportlab.pdfgen.canvas import Canvas

from campus import dates
from campus.certificates import pdf, revocations, signing
from campus.certificates.credentials import CONTEXTS, issuer_profile
from campus.certificates.services import base_url
from campus.programs.models import Credential
from campus.urls import public_url


def render_pdf(credential: Credential) -> bytes:
    """Draw the credential (US Letter, landscape) from its frozen data; return the PDF bytes."""
    data = credential.data
    pdf.register_fonts()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=pdf.PAGE, pageCompression=1, initialFontName="CertSerif")
    canvas.setTitle(f"Credential {credential.code}: {data['program_title']}")
    canvas.setAuthor(data["provider_name"])
    pdf._frame(canvas)
    width, _height = pdf.PAGE
    centre = width / 2
    canvas.setFillColor(pdf.BRAND)
    canvas.setFont("CertSerif-Bold", 11)
    canvas.drawCentredString(centre, 548, data["provider_name"].upper())
    canvas.setFillColor(pdf.INK)
    canvas.setFont("CertSerif-Bold", 30)
    canvas.drawCentredString(centre, 500, "Program Credential")
    canvas.setFillColor(pdf.SOFT)
    canvas.setFont("CertSerif-Italic", 12.5)
    canvas.drawCentredString(centre, 462, "This certifies that")
    canvas.setFillColor(pdf.INK)
    # Shrunk, then wrapped, as on a certificate: a long name or title is never cut off.
    pdf.draw_name(canvas, data["holder_name"], centre, baseline=420)
    canvas.setFillColor(pdf.SOFT)
    canvas.setFont("CertSerif-Italic", 12.5)
    canvas.drawCentredString(centre, 380, "has met every requirement of")
    canvas.setFillColor(pdf.INK)
    title = data["program_title"]
    size = pdf.fit(title, "CertSerif-Bold", 20, 1240, 13)
    y = pdf.centered_lines(canvas, title, "CertSerif-Bold", size, 348, 640, size + 5)
    canvas.setFont("CertSerif", 12)
    canvas.drawCentredString(
        centre,
        y - 5,
        f"Earned on {data['earned_date_text']}  ·  valid until {data['valid_until_text']}",
    )
    canvas.setFillColor(pdf.SOFT)
    pdf.centered_lines(canvas, data["standing"], "CertSerif-Italic", 10.5, y - 33, 640, 13)
    pdf.draw_qr(canvas, data["verification_url"], 60, 60, 90)
    canvas.setFillColor(pdf.INK)
    canvas.setFont("CertSerif-Bold", 13)
    canvas.drawRightString(width - 60, 106, credential.code)
    canvas.setFillColor(pdf.SOFT)
    canvas.setFont("CertSerif", 8.5)
    canvas.drawRightString(width - 60, 87, "Scan or visit to verify (validity shown live):")
    canvas.setFillColor(pdf.INK)
    canvas.drawRightString(width - 60, 75, data["verification_url"])
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _last_moment(day: date) -> datetime:
    """The last second of a credential's last valid day on the provider's calendar."""
    return dates.day_start(day + timedelta(days=1)) - timedelta(seconds=1)


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def badge(credential: Credential) -> dict:
    """Build the Open Badges 3.0 credential, with its validUntil, from the frozen data."""
    data = credential.data
    until = _last_moment(credential.valid_until)
    # Valid from when it was earned, as its page and period say: a credential the sweep issued
    # days late was not "not yet valid" on those days.
    return {
        "@context": CONTEXTS,
        "id": data["verification_url"],
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": issuer_profile(data),
        "validFrom": _iso(credential.earned_at),
        "validUntil": _iso(until),
        "name": data["program_title"],
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityHash": data["holder_name"],
                    "identityType": "name",
                    "hashed": False,
                }
            ],
            "achievement": {
                "id": f"{base_url()}/programs/{data['program_slug']}#achievement",
                "type": ["Achievement"],
                "achievementType": "Certification"
                if data.get("accrediting_body")
                else "Certificate",
                "name": data["program_title"],
                "description": data["standing"],
                "criteria": {"narrative": data["criteria"]},
                "humanCode": credential.code,
            },
        },
        # A badge saved while valid still verifies after a revocation: this says where to look.
        "credentialStatus": revocations.status_entry(list_url(credential.code)),
    }


def list_url(code: str) -> str:
    """Where the revocation of the badge under this credential code is listed."""
    return public_url("programs.revocation_list", code=code)


def revocation_list(credential: Credential) -> dict:
    """The 1EdTech Revocation List of one credential: its badge while revoked, else nothing."""
    # Expired is not listed: the badge's validUntil and exp already say so.
    revoked = []
    if credential.status == "revoked":
        # The id the badge was signed with: the verification URL frozen at issue.
        signed_id = credential.data.get("verification_url")
        signed_id = signed_id or public_url("programs.verify", code=credential.code)
        revoked.append(revocations.revoked_entry(signed_id))
    return revocations.revocation_list(list_url(credential.code), revoked)


def signed_badge(credential: Credential) -> str:
    """The badge as a VC-JWT with nbf and exp from its validity."""
    document = badge(credential)
    issued = credential.issued_at or credential.earned_at
    until = _last_moment(credential.valid_until)
    claims = {
        "iss": document["issuer"]["id"],
        "jti": document["id"],
        "sub": credential.data["holder_name"],
        "nbf": int(credential.earned_at.timestamp()),
        "iat": int(issued.timestamp()),
        "exp": int(until.timestamp()),
        "vc": document,
    }
    return signing.sign(claims, typ="JWT")

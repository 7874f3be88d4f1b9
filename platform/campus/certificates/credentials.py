"""Open Badges 3.0 credentials for certificates, signed as VC-JWT (Ed25519, EdDSA)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from campus import dates
from campus.certificates import revocations, signing
from campus.certificates.models import Certificate
from campus.certificates.pdf import hours_text
from campus.certificates.public import masked_license
from campus.certificates.services import base_url
from campus.templating import counted

CONTEXTS = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    # Defines the credentialStatus type "1EdTechRevocationList".
    "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json",
]


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _activity_end(certificate: Certificate) -> str:
    """When the course was finished, on the provider's clock with its offset: the printed day.

    Not midnight UTC of the printed date, which west of UTC is the evening before.
    """
    printed = date.fromisoformat(certificate.data["completion_date"])
    moment = dates.local(certificate.completed_at)
    if moment.date() != printed:  # dated under an earlier TIME_ZONE setting: its printed day
        moment = dates.local(dates.day_start(printed))
    return moment.replace(microsecond=0).isoformat()


def issuer_profile(data: dict) -> dict:
    """The issuing provider as an Open Badges Profile."""
    return {
        "id": revocations.issuer_id(),
        "type": ["Profile"],
        "name": data["provider_name"],
        "email": data["provider_email"],
        "url": base_url() + "/",
        "address": {"type": ["Address"], "streetAddress": data["provider_address"]},
    }


def credential(certificate: Certificate) -> dict:
    """Build the OpenBadgeCredential for an issued certificate from its frozen data."""
    data = certificate.data
    credits = float(hours_text(data["ce_hours"]))
    slug = data.get("course_slug") or "course"
    approvals = data.get("approvals", [])
    achievement = {
        "id": f"{base_url()}/courses/{slug}#achievement",
        "type": ["Achievement"],
        "achievementType": "Course",
        "name": data["course_title"],
        "description": data.get("course_summary") or data["course_title"],
        "criteria": {
            "narrative": (
                f'Complete every lesson of "{data["course_title"]}" ({data["delivery_type"]}) '
                "and pass its final quiz at or above the pass mark."
            )
        },
        "creditsAvailable": credits,
        "fieldOfStudy": "Continuing education",
        "humanCode": data["code"],
    }
    if data.get("instructors"):
        # Who taught and wrote the course, as printed on the certificate's instructor line.
        achievement["creator"] = {
            "id": f"{base_url()}/courses/{slug}#instructors",
            "type": ["Profile"],
            "name": "; ".join(data["instructors"]),
        }
    if approvals:
        achievement["otherIdentifiers"] = [
            {
                "type": "IdentifierEntry",
                "identifier": a["approval_number"],
                "identifierType": "identifier",
            }
            for a in approvals
        ]
        achievement["alignment"] = [
            {
                "type": ["Alignment"],
                "targetName": f"{a['board']} approval {a['approval_number']}",
                "targetUrl": base_url() + "/",
            }
            for a in approvals
        ]
    subject = {
        "type": ["AchievementSubject"],
        "identifier": [
            {
                "type": "IdentityObject",
                "identityHash": data["participant_name"],
                "identityType": "name",
                "hashed": False,
            }
        ],
        "achievement": achievement,
        "creditsEarned": credits,
        "activityEndDate": _activity_end(certificate),
    }
    if data.get("license_number"):
        # Public: anyone holding the code sees this, so only the number's last characters.
        subject["licenseNumber"] = masked_license(data["license_number"])
    issued = certificate.issued_at or certificate.completed_at
    return {
        "@context": CONTEXTS,
        "id": data["verification_url"],
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": issuer_profile(data),
        "validFrom": _iso(issued),
        "name": f"{data['course_title']}: {counted(data['ce_hours'], 'CE hour')}",
        "credentialSubject": subject,
        # A token saved while valid still verifies after a revocation: this says where to look.
        "credentialStatus": revocations.status_entry(
            revocations.certificate_list_url(certificate.code)
        ),
    }


def signed(certificate: Certificate) -> str:
    """The credential as a VC-JWT: the JWT claims of the Open Badges 3.0 JWT proof format."""
    document = credential(certificate)
    issued = certificate.issued_at or certificate.completed_at
    claims = {
        "iss": document["issuer"]["id"],
        "jti": document["id"],
        "sub": certificate.data["participant_name"],
        "nbf": int(issued.timestamp()),
        "iat": int(issued.timestamp()),
        "vc": document,
    }
    return signing.sign(claims, typ="JWT")

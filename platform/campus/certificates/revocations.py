"""The 1EdTech Revocation List Status Method: where a saved credential's revocation is read.

A signed credential names, in `credentialStatus`, the URL of a list of revoked credential ids;
a verifier holding a token signed while the certificate was valid fetches it and finds out.
One list per code, not one for the whole site: a list's ids are verification URLs, and a list
of every revoked code would hand anyone the names behind them (and undo the codes' 80 random
bits). The list names only the credential of the code in its own URL.

A code a reissue replaced is listed once the replacement exists (issued): its credential prints
what the reissue corrected. Until then the completion stands under the old code (transcripts
print it, its page names the code to come), so its credential is still the holder's only one.
A certificate revoked before its replacement was drawn lists such a code as revoked, with no
reason: no replacement of it was ever issued.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import Response, jsonify
from sqlalchemy import select

from campus.certificates.awaited import awaited_state, current_code_issued, replacement_issued
from campus.certificates.models import Certificate, withdrawn
from campus.certificates.services import Lookup, base_url, verification_url
from campus.extensions import db
from campus.urls import public_url

STATUS_TYPE = "1EdTechRevocationList"
# Seconds a verifier or proxy may reuse a list: a revocation reaches everyone within a minute.
MAX_AGE = 60


def issuer_id() -> str:
    """The issuer's id, as its credentials' Profile and their revocation lists name it."""
    return base_url() + "/"


def status_entry(list_url: str) -> dict:
    """The credential's `credentialStatus`: the list to read its revocation from."""
    return {"id": list_url, "type": STATUS_TYPE}


def revoked_entry(credential_id: str, reason: str | None = None) -> dict:
    """One RevokedCredential: the credential's id, and a reason only where it may be public."""
    entry: dict[str, str | bool] = {"id": credential_id, "revoked": True}
    if reason:
        entry["revocationReason"] = reason
    return entry


def revocation_list(list_url: str, revoked: Iterable[dict]) -> dict:
    """The RevocationList at list_url: its id, the issuer's and the revoked credentials."""
    return {"id": list_url, "issuer": issuer_id(), "revokedCredentials": list(revoked)}


def answer(document: dict) -> Response:
    """Send a list as public JSON that caches may keep for a short while."""
    response = jsonify(document)
    response.headers["Cache-Control"] = f"public, max-age={MAX_AGE}"
    return response


def certificate_list_url(code: str) -> str:
    """Where the revocation of the credential under this certificate code is listed."""
    return public_url("certificates.revocation_list", code=code)


def replaced_reason(certificate: Certificate) -> str:
    """Why a replaced code's credential is revoked, naming the code its own page names."""
    # Never the admin's reason for the reissue: it can be private, as a revocation's.
    if certificate.status == "issued" or (
        certificate.status == "revoked" and current_code_issued(certificate)
    ):
        return f"Replaced by the reissued certificate {certificate.code}."
    if certificate.status == "revoked":
        # Its reissue was revoked before it was drawn: no certificate was ever issued under
        # the current code, which the old code's page names (and whose page says revoked).
        return (
            f"Replaced by a reissued certificate; the current one, {certificate.code}, is revoked."
        )
    return (
        f"Replaced by a reissued certificate; the current one, {certificate.code}, "
        f"{awaited_state(certificate)}."
    )


def certificate_list(found: Lookup) -> dict:
    """One code's list: its credential once replaced, or while the certificate is withdrawn."""
    certificate, row = found.certificate, found.code
    code = row.code
    # The id the credential was signed with: the frozen URL for the current code; a code a
    # reissue retired had its data replaced, so its verification URL is built again.
    if code == certificate.code:
        signed_id = certificate.data.get("verification_url") or verification_url(code)
    else:
        signed_id = verification_url(code)
    if row.retired_at is not None and replacement_issued(certificate, row):
        return revocation_list(
            certificate_list_url(code), [revoked_entry(signed_id, replaced_reason(certificate))]
        )
    # Withdrawn covers a revoked certificate being reinstated by a reissue not yet drawn; once
    # that lands, its current code reads as not revoked again.
    query = select(withdrawn(Certificate)).where(Certificate.id == certificate.id)
    revoked = [revoked_entry(signed_id)] if db.session.scalar(query) else []
    return revocation_list(certificate_list_url(code), revoked)

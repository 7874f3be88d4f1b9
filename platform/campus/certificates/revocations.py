"""The 1EdTech Revocation List Status Method: where a saved credential's revocation is read.

A signed credential names, in `credentialStatus`, the URL of a list of revoked credential ids;
a verifier holding a token signed while the certificate was valid fetches it and finds out.
One list per code, not one for the whole site: a list's ids are verification URLs, and a list
of every revoked code would hand anyone the names behind them (and undo the codes' 80 random
bits). The list names only the credential of the code in its own URL.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import Response, jsonify
from sqlalchemy import select

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


def revocation_list(list_url: str, revoked_ids: Iterable[str]) -> dict:
    """The RevocationList at list_url: its id, the issuer's and the revoked credentials' ids."""
    return {
        "id": list_url,
        "issuer": issuer_id(),
        "revokedCredentials": [{"id": each, "revoked": True} for each in revoked_ids],
    }


def answer(document: dict) -> Response:
    """Send a list as public JSON that caches may keep for a short while."""
    response = jsonify(document)
    response.headers["Cache-Control"] = f"public, max-age={MAX_AGE}"
    return response


def certificate_list_url(code: str) -> str:
    """Where the revocation of the credential under this certificate code is listed."""
    return public_url("certificates.revocation_list", code=code)


def certificate_list(found: Lookup) -> dict:
    """The list for one code: its credential while the certificate is withdrawn, else nothing."""
    certificate, code = found.certificate, found.code.code
    # Withdrawn covers a revoked certificate being reinstated by a reissue not yet drawn; once
    # that lands, every code it carried reads as not revoked again.
    query = select(withdrawn(Certificate)).where(Certificate.id == certificate.id)
    revoked: list[str] = []
    if db.session.scalar(query):
        # The id the credential was signed with: the frozen URL for the current code; a code a
        # reissue retired had its data replaced, so its verification URL is built again.
        if code == certificate.code:
            revoked.append(certificate.data.get("verification_url") or verification_url(code))
        else:
            revoked.append(verification_url(code))
    return revocation_list(certificate_list_url(code), revoked)

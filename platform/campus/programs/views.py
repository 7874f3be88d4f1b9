"""Program pages: the list, a program's requirements and progress, and public verification."""

from __future__ import annotations

from flask import render_template
from sqlalchemy import select

from campus.extensions import db, limiter
from campus.programs import bp, codes
from campus.programs.models import Credential
from campus.programs.public import today
from campus.throttling import by_address, setting

_verify_limit = limiter.shared_limit(
    setting("VERIFY_PAGE_RATE_LIMIT"), scope="credential-verify", key_func=by_address
)


@bp.get("/verify/<code>")
@_verify_limit
def verify(code: str):
    """Show anyone whether a credential is valid, expired or revoked."""
    canonical = codes.normalize(code)
    credential = (
        db.session.scalar(select(Credential).where(Credential.code == canonical))
        if canonical
        else None
    )
    if credential is None or credential.status not in ("issued", "revoked"):
        return render_template("programs/not_found.html", code=code), 404
    return render_template(
        "programs/verify.html",
        credential=credential,
        data=credential.data,
        state=credential.status_on(today()),
    )

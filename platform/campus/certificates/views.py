"""Certificate pages: the student's list and downloads, transcripts, and public verification."""

from __future__ import annotations

from io import BytesIO

from flask import Response, abort, after_this_request, jsonify, render_template, request, send_file
from flask_login import current_user, login_required

from campus import dates, storage
from campus.accounts.access import acts_as_admin
from campus.certificates import (
    awaited,
    bp,
    credentials,
    revocations,
    services,
    signing,
    transcripts,
)
from campus.certificates.public import public_license_line
from campus.daterange import DateRangeError, parse_range
from campus.errors import json_error
from campus.extensions import limiter
from campus.learning import credit
from campus.security import any_origin
from campus.throttling import by_address, setting


def _user():
    return current_user._get_current_object() if current_user.is_authenticated else None


def _index(range_error: str | None = None, status: int = 200):
    user = _user()
    certificates = services.certificates_of(user)
    awaiting = services.awaiting(user)
    today = dates.today()
    default_start, default_end = parse_range(None, None, today)
    return render_template(
        "certificates/index.html",
        certificates=certificates,
        total_hours=credit.earned_hours(user.id, certified=True),
        # The certificates that total counts: issued, and those whose reissue is being drawn.
        counted=len(services.standing_of(user)),
        awaiting=awaiting,
        # Reloaded while a certificate may land any minute; one given up waits for the staff.
        waiting=bool(awaiting)
        or any(c.status in ("pending", "failed") and not c.given_up for c in certificates),
        range_error=range_error,
        raw_from=request.args.get("from", default_start.isoformat()),
        raw_to=request.args.get("to", default_end.isoformat()),
        hours_text=services.pdf.hours_text,
    ), status


@bp.get("/certificates/")
@login_required
def index():
    """List the student's certificates with their status, downloads and total CE hours."""
    return _index()


@bp.get("/certificates/<code>.pdf")
@login_required
def pdf(code: str) -> Response:
    """Send a certificate's PDF to its owner or an admin; anyone else gets a 404."""
    user = _user()
    certificate = services.owned(user, code)
    if certificate is None:
        abort(404, "We could not find that certificate.")
    name = f"{certificate.code}.pdf"
    if certificate.is_issued and certificate.storage_key:
        # Streamed from the shared store in chunks, whichever host issued it.
        stored = storage.send(
            certificate.storage_key,
            mimetype="application/pdf",
            download_name=name,
            as_attachment=False,
        )
        if stored is None:
            abort(404, "That certificate has no PDF to download yet.")
        return stored
    document = services.pdf_bytes(certificate, user)
    if document is None:
        abort(404, "That certificate has no PDF to download yet.")
    response = send_file(
        BytesIO(document),
        mimetype="application/pdf",
        download_name=name,
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/certificates/transcript.<fmt>")
@login_required
def transcript(fmt: str):
    """Send the CE transcript for a date range as PDF or CSV."""
    if fmt not in ("pdf", "csv"):
        abort(404)
    user = _user()
    try:
        start, end = parse_range(request.args.get("from"), request.args.get("to"), dates.today())
    except DateRangeError as err:
        return _index(range_error=err.message, status=400)
    name = f"ce-transcript-{start.isoformat()}-to-{end.isoformat()}.{fmt}"
    if fmt == "csv":
        body = transcripts.transcript_csv(user, start, end).encode()
        mimetype = "text/csv"
    else:
        body = transcripts.transcript_pdf(user, start, end)
        mimetype = "application/pdf"
    response = send_file(BytesIO(body), mimetype=mimetype, download_name=name, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _not_found():
    return render_template("certificates/not_found.html", code=request.view_args.get("code")), 404


# One budget per address for the page and its JSON: codes are not there to be enumerated.
_verify_limit = limiter.shared_limit(
    setting("VERIFY_PAGE_RATE_LIMIT"), scope="certificate-verify", key_func=by_address
)


@bp.get("/verify/<code>")
@_verify_limit
def verify(code: str):
    """Show anyone whether a certificate is valid or revoked, with its frozen data."""
    found = services.public(code)
    if found is None:
        return _not_found()
    certificate, code_row = found.certificate, found.code
    viewer = _user()
    return render_template(
        "certificates/verify.html",
        certificate=certificate,
        code_row=code_row,
        data=certificate.data,
        retired=code_row.retired_at is not None,
        # A retired code read as revoked may have been revoked before its reinstatement was.
        revoked_at=awaited.revoked_on(certificate, code_row)
        if certificate.is_revoked and code_row.retired_at is not None
        else certificate.revoked_at,
        # Revoked before any reissue of it was drawn: plainly revoked, naming no replacement.
        replaced=code_row.retired_at is not None
        and not awaited.revoked_unreplaced(certificate, code_row),
        # Its current code was revoked before it was drawn: named, never linked as current.
        revoked_undrawn=awaited.revoked_undrawn(certificate),
        # Why a code was replaced is the admin's free text: only the holder and admins read it
        # (a signed-in page is never cached, so it is not handed on to the public).
        show_reason=viewer is not None
        and (viewer.id == certificate.user_id or acts_as_admin(viewer)),
        hours_text=services.pdf.hours_text,
        license_line=public_license_line,
    )


@bp.get("/verify/<code>.json")
@_verify_limit
def verify_json(code: str):
    """Answer an Open Badges 3.0 credential for a valid certificate, signed as a VC-JWT."""
    # Verifiers in a browser on another site read this with the keys (jwks, open to all too).
    after_this_request(any_origin)
    found = services.public(code)
    if found is None:
        return jsonify(error={"code": "not_found", "message": "No certificate has that code."}), 404
    certificate, code_row = found.certificate, found.code
    if code_row.retired_at is not None and not awaited.revoked_unreplaced(certificate, code_row):
        body: dict[str, str | None] = {
            "code": code_row.code,
            "status": "replaced",
            # That, when and by which code, never why: as a revocation's, the reason can be
            # private; the holder and admins read it on the page.
            "replaced_at": code_row.retired_at.isoformat(),
            "current": services.verification_url(certificate.code) + ".json",
        }
        if awaited.revoked_undrawn(certificate):
            # As its list: the current code was revoked before it was drawn, so it is no
            # certificate to follow; it is named only as revoked.
            body["current"] = None
            body["message"] = (
                f"This certificate was reissued; the current one, {certificate.code}, is revoked."
            )
        elif certificate.status not in ("issued", "revoked"):
            # As the page: the new code answers once the worker has issued it, not before.
            body["current"] = None
            body["next_code"] = certificate.code
            body["message"] = awaited.awaited_message(certificate)
        return jsonify(body)
    if certificate.is_revoked:
        revoked_at = (
            awaited.revoked_on(certificate, code_row)
            if code_row.retired_at is not None
            else certificate.revoked_at
        )
        return jsonify(
            # The code asked about: a retired one here had no replacement ever issued.
            code=code_row.code,
            status="revoked",
            # That and when, never why: the reason can be private; the holder and admins read it.
            revoked_at=revoked_at.isoformat() if revoked_at else None,
        )
    return jsonify(
        code=certificate.code,
        status="valid",
        credential=credentials.credential(certificate),
        vc_jwt=credentials.signed(certificate),
        jwks_url=services.base_url() + "/.well-known/jwks.json",
    )


@bp.get("/verify/<code>/revocations.json")
@_verify_limit
def revocation_list(code: str):
    """Answer the 1EdTech Revocation List a code's credential names, read live."""
    after_this_request(any_origin)
    found = services.public(code)
    if found is None:
        return json_error("not_found", "No certificate has that code.", 404)
    return revocations.answer(revocations.certificate_list(found))


@bp.get("/.well-known/jwks.json")
def jwks():
    """Publish the issuer's public keys so anyone can check a credential offline."""
    response = jsonify(signing.jwks())
    response.headers["Cache-Control"] = "public, max-age=3600"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response

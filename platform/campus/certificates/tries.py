"""Tries at drawing a certificate that its worker's death cut off: counted, and bounded.

A certificate is never given up for failing (the task retries it and the sweep sends it again
for good), but one whose drawing kills its worker (a crash in the PDF library, the OOM killer)
rolls back with it and would kill a worker every sweep, forever. Each try is therefore counted
before it draws, in a transaction of its own, and taken back when it ends with an error
(`services.record_failure`); drawn and stored, nothing is left to try (`services.issue`). Only
tries cut off stay counted.
"""

from __future__ import annotations

import logging

from flask import current_app

from campus.audit import record
from campus.certificates.services import lock, record_event
from campus.models.base import utcnow

log = logging.getLogger(__name__)

_UNFINISHED = ("pending", "failed")


def start(certificate_id: int) -> bool:
    """Count a try at drawing a certificate; False (it is left failed) once too many were cut off.

    The caller commits before drawing. Past CERTIFICATE_MAX_CUT_OFF_TRIES the certificate is
    marked failed with the reason, in its history for the admin, and neither this message nor
    the sweep draws it again until an admin's reissue starts it afresh.
    """
    certificate = lock(certificate_id)
    if certificate is None or certificate.status not in _UNFINISHED:
        return True  # issued or revoked: issuing finds nothing to do
    if certificate.given_up:
        return False  # a late copy of its message changes nothing
    limit = current_app.config["CERTIFICATE_MAX_CUT_OFF_TRIES"]
    certificate.cut_off_tries += 1
    if certificate.cut_off_tries <= limit:
        return True
    message = (
        f"Drawing it was cut off {limit} times (its worker died each time): "
        "not tried again until it is reissued"
    )
    log.error("certificate %s given up: %s", certificate.code, message)
    certificate.status = "failed"
    certificate.last_error = message
    certificate.updated_at = utcnow()
    record_event(certificate, "failed", message)
    # In the audit log too, where admins look for what needs them; no one will retry it.
    record(
        "certificate_given_up", certificate, summary=f"{certificate.code}: {message}", system=True
    )
    return False

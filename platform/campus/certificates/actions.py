"""Certificate actions: revoke and reissue, the one write path for the admin and the CLI.

Each action takes the acting user (None for an operator's command), makes the change with its
line in the certificate's own history, and writes the audit entry in the same transaction.
Actions flush; the admin view or the command commits.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select

from campus.accounts.models import User
from campus.accounts.rules import says_something
from campus.audit import plain, record, snapshot
from campus.certificates.models import (
    Certificate,
    CertificateCode,
    printed_date_of,
    stands,
    withdrawn,
)
from campus.certificates.services import (
    CertificateError,
    find,
    freeze,
    frozen_hours,
    issue,
    lock,
    participant_fields,
    record_event,
    unused_code,
    verification_url,
)
from campus.certificates.signals import certificate_revoked, certificate_stored
from campus.extensions import db
from campus.jobs import enqueue_after_commit
from campus.learning.models import Course, Enrollment
from campus.licenses.choice import license_for_certificate
from campus.licenses.models import License
from campus.mail.services import queue_email
from campus.models.base import utcnow
from campus.storage import delete_after_commit

ISSUE_TASK = "campus.certificates.issue_certificate"

# Printed facts about the course as the learner completed it, which a reissue keeps: an
# approval granted, renewed or re-dated since would pass for one in force at completion;
# the completion day was read on the provider's calendar then, and CE Broker was told that day.
EARNED_FIELDS = (
    "course_title",
    "delivery_type",
    "delivery_key",
    "subject_keys",
    "course_professions",
    "approvals",
    "completion_date",
    "completion_date_text",
    # Who vouched for the hours when they were earned: a later provider or signatory change
    # does not re-sign an old completion. Certificates frozen without them print today's.
    "provider_name",
    "provider_address",
    "provider_email",
    "signatory_name",
    "signatory_title",
    "signature_image",
    "instructors",
)
# Earned fields an older certificate was frozen without and never printed: a reissue leaves
# them out rather than print today's (the course's instructors then were never recorded).
NOT_PRINTED_BEFORE = ("instructors",)


# Who a certificate is for, as printed: what a reissue corrects, and its history keeps.
PARTICIPANT_FIELDS = ("participant_name", "license_number", "license_state", "profession")


def _corrected(old: dict[str, Any], new: dict[str, Any]) -> str:
    """Say what a reissue changed of who the certificate is for: "; name 'A' -> 'B'".

    The old PDF is deleted and the frozen data replaced: the certificate's history is where
    an auditor reads what the board was shown before the correction.
    """
    changes = [
        f"{key.replace('_', ' ')} {old.get(key, '')!r} -> {new.get(key, '')!r}"
        for key in PARTICIPANT_FIELDS
        if old.get(key, "") != new.get(key, "")
    ]
    return f"; printed {', '.join(changes)}" if changes else ""


def _printed_changes(old: dict[str, Any], new: dict[str, Any]) -> tuple[dict, dict]:
    """The printed fields a reissue changed, as they read before and after it (for the log)."""
    keys = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
    return {k: plain(old.get(k)) for k in keys}, {k: plain(new.get(k)) for k in keys}


def _current(code_text: str) -> Certificate:
    found = find(code_text)
    if found is None:
        raise CertificateError(f"No certificate has the code {code_text!r}.", 404)
    if found.code.retired_at is not None:
        raise CertificateError(
            f"{found.code.code} was replaced by {found.certificate.code}; use that code.", 409
        )
    certificate = lock(found.certificate.id)
    assert certificate is not None
    if certificate.code != found.code.code:
        # Reissued by someone else between the lookup and the lock: the admin acted on a code
        # that no longer is the certificate's, and would change one they have not seen.
        raise CertificateError(
            f"{found.code.code} was replaced by {certificate.code}; use that code.", 409
        )
    return certificate


def _state(certificate: Certificate) -> dict[str, Any]:
    data = snapshot(certificate)
    data.pop("data", None)  # the frozen certificate text is kept by the certificate itself
    return data


def _history_actor(actor: User | None) -> str:
    """Who the certificate's own history names (it outlives accounts, so as text)."""
    return f"admin {actor.email}" if actor is not None else "cli"


def _audit(
    action: str,
    certificate: Certificate,
    old_code: str,
    reason: str,
    before: dict[str, Any],
    actor: User | None,
    printed: tuple[dict, dict] | None = None,
) -> None:
    summary = f"{old_code}: {action} ({reason})"
    after = _state(certificate)
    if printed is not None:
        # The frozen text is left out of the states, so what it changed is logged on its own:
        # the old PDF is deleted, and an auditor reads here what the board was shown before.
        before = dict(before, printed=printed[0])
        after["printed"] = printed[1]
    record(
        action,
        certificate,
        summary=summary if actor is not None else f"cli: {summary}",
        before=before,
        after=after,
        actor=actor,
    )


def revocable(certificate: Certificate) -> bool:
    """Whether a certificate can be revoked: issued, or issued once and being reissued.

    A reissue being drawn, retried or given up leaves the completion standing (or, after a
    revocation, withdrawn): it must be revocable then too. One whose first issue never landed
    was never certified, and is not.
    """
    if certificate.status in ("issued", "revoked"):
        return certificate.status == "issued"
    query = select(or_(stands(Certificate), withdrawn(Certificate))).where(
        Certificate.id == certificate.id
    )
    return bool(db.session.scalar(query))


def revoke(code_text: str, reason: str, *, actor: User | None) -> Certificate:
    """Revoke a certificate with a reason (the verify page then says so), and log it.

    Revoking one whose reissue is not drawn yet cancels that reissue: revoked, the issuing
    task (which locks the row as this does) finds nothing to issue, whenever it runs.
    """
    reason = (reason or "").strip()
    if not says_something(reason):
        raise CertificateError("Give a reason for the revocation.")
    certificate = _current(code_text)
    if certificate.status == "revoked":
        raise CertificateError(f"{certificate.code} is already revoked.", 409)
    if not revocable(certificate):
        raise CertificateError(f"{certificate.code} is {certificate.status}, not issued.", 409)
    # A reissue reinstating a revoked certificate, cancelled before it was drawn: the member
    # was told of the revocation and never of the reinstatement (only a drawn one emails).
    reinstating = bool(
        db.session.scalar(select(withdrawn(Certificate)).where(Certificate.id == certificate.id))
    )
    before = _state(certificate)
    certificate.status = "revoked"
    certificate.revoked_at = utcnow()
    certificate.revoked_reason = reason
    # Nothing is left to draw: a reissue given up (or retried) no longer waits for anyone.
    certificate.last_error = None
    certificate.cut_off_tries = 0
    record_event(certificate, "revoked", reason, _history_actor(actor))
    db.session.flush()
    _audit("revoke", certificate, certificate.code, reason, before, actor)
    if not reinstating:  # it still stands revoked as the member was told: no second notice
        _email_revoked(certificate, reason)
    certificate_revoked.send(None, certificate_id=certificate.id, actor=actor)
    return certificate


def _email_revoked(certificate: Certificate, reason: str) -> None:
    # Keyed by the revocation's moment: once per revocation, however often the caller retries.
    revoked_at = certificate.revoked_at or utcnow()
    queue_email(
        certificate.user.email,
        "Your certificate has been revoked",
        "certificate_revoked",
        dedupe_key=f"certificate:revoked:{certificate.id}:{revoked_at.isoformat()}",
        user=certificate.user,
        data=certificate.data,
        code=certificate.code,
        reason=reason,
        verify_url=verification_url(certificate.code),
    )


def reissue(code_text: str, reason: str, *, actor: User | None) -> Certificate:
    """Give a certificate a new code and fresh data (the old code points to it), and log it.

    A reissue corrects who the certificate is for (name, license) and where it is verified; the
    course's title, delivery type, approvals, the completion date, the CE hours earned, the
    provider, the signatory and the instructors stay as first issued.
    """
    reason = (reason or "").strip()
    if not says_something(reason):
        raise CertificateError("Give a reason for the reissue.")
    certificate = _current(code_text)
    if certificate.status == "pending":
        raise CertificateError(f"{certificate.code} is still being issued; try again shortly.", 409)
    before = _state(certificate)
    printed_before = dict(certificate.data)
    old_code = certificate.code
    now = utcnow()
    old_row = db.session.scalar(select(CertificateCode).where(CertificateCode.code == old_code))
    assert old_row is not None  # every current code has its row
    old_row.retired_at = now
    old_row.retired_reason = reason
    code = unused_code()
    user = certificate.user
    course = db.session.get(Course, certificate.course_id) if certificate.course_id else None
    license = None
    if certificate.license_id is not None:
        license = db.session.get(License, certificate.license_id)
    elif not certificate.data.get("license_number") and certificate.enrollment_id is not None:
        # Issued with no license on file: print (and report) the one the member has added since.
        enrollment = db.session.get(Enrollment, certificate.enrollment_id)
        if enrollment is not None:
            # The day it prints, as at issue: the moment read on today's calendar can be a
            # day away (the provider's time zone changed) and fit another license's approval.
            day = printed_date_of(certificate.data, certificate.completed_at)
            license = license_for_certificate(enrollment, day)
            certificate.license_id = license.id if license else None
    if course is not None:
        data = freeze(user, course, certificate.completed_at, code, license, certificate.ce_hours)
        # What was earned does not change with later edits to the course: the hours (the
        # column, which transcripts and reports read), the title and delivery it was approved
        # and taken under, the approvals it was taken under and who signed it stay as first
        # issued.
        for key in EARNED_FIELDS:
            if key in certificate.data:
                data[key] = certificate.data[key]
            elif key in NOT_PRINTED_BEFORE:
                data.pop(key, None)
    else:
        # The course left the catalog: keep what was printed of it, under the new code, but
        # print who it is for as they are now (correcting that is what a reissue is for).
        data = dict(
            certificate.data,
            **participant_fields(user, license),
            code=code,
            verification_url=verification_url(code),
            ce_hours=frozen_hours(certificate.ce_hours),
        )
    if license is None:  # the license was removed: keep the one printed before
        for key in ("license_number", "license_state", "license_profession"):
            data[key] = certificate.data.get(key, "")
    if certificate.storage_key:
        # The old PDF (the name or license being corrected) is served under no code any more.
        delete_after_commit([certificate.storage_key])
    certificate.code = code
    certificate.data = data
    certificate.status = "pending"
    certificate.storage_key = None
    certificate.issued_at = None
    certificate.revoked_at = None
    certificate.revoked_reason = None
    certificate.last_error = None
    certificate.cut_off_tries = 0  # a certificate given up is tried afresh
    db.session.add(CertificateCode(code=code, certificate_id=certificate.id, created_at=now))
    detail = f"{old_code} -> {code}: {reason}" + _corrected(printed_before, data)
    record_event(certificate, "reissued", detail, _history_actor(actor))
    db.session.flush()
    if certificate.enrollment_id is not None:
        enqueue_after_commit(ISSUE_TASK, certificate.enrollment_id)
    elif issue(certificate.id):
        # As the issuing task does: reports queue, and a revoked one's reports stand again.
        certificate_stored.send(None, certificate_id=certificate.id)
    printed = _printed_changes(printed_before, data)
    _audit("reissue", certificate, old_code, reason, before, actor, printed)
    return certificate

"""Issue credentials exactly once, renew them on earned hours, and revoke them.

A credential is unique per (holder, program, period): however often or concurrently the issuing
task runs, one row wins the insert and one run moves it from pending to issued (a conditional
update), so the PDF, the badge and the email happen once.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import cast
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import CursorResult, select, update
from sqlalchemy.exc import IntegrityError

from campus import dates
from campus.accounts.models import PROFESSIONS, User
from campus.accounts.rules import says_something
from campus.extensions import db
from campus.learning import credit
from campus.mail.services import queue_email
from campus.models.base import utcnow
from campus.programs import codes, documents
from campus.programs.eligibility import licensed_since
from campus.programs.exam import latest_credential
from campus.programs.models import Credential, CredentialEvent, Program
from campus.programs.progress import Progress, progress
from campus.programs.standing import standing
from campus.storage import delete_after_commit, delete_on_rollback, get_storage
from campus.templating import counted
from campus.urls import public_url


class CredentialError(Exception):
    """A credential cannot be changed so; the message says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def period_end(start: date, months: int) -> date:
    """The last valid day of a period starting on `start`: the day before the same day later.

    When the last month has no such day (August 31 and six months), the period runs to that
    month's end: else four starting days, August 28 to 31, would all end on February 27.
    """
    following = dates.add_months(start, months)
    if following.day != start.day:
        return following
    return date.fromordinal(following.toordinal() - 1)


def _criteria(program: Program, pass_mark: int | None = None) -> str:
    parts = [f"Complete {counted(len(program.required_courses), 'required course')}"]
    if program.elective_hours:
        parts.append(f"earn {counted(program.elective_hours, 'elective CE hour')}")
    # The mark the holder's sitting froze at its start: one an admin set since was never sat.
    mark = program.exam_pass_mark if pass_mark is None else pass_mark
    parts.append(f"pass the certification exam ({mark}% or better)")
    if program.practical_required:
        parts.append("pass a practical assessment reviewed by an assessor")
    return ", ".join(parts) + "."


def _frozen_data(
    user: User,
    program: Program,
    code: str,
    earned_on: date,
    until: date,
    pass_mark: int | None = None,
) -> dict:
    config = current_app.config
    return {
        "holder_name": user.full_name,
        "profession": PROFESSIONS.get(user.profession, "Other"),
        "program_title": program.title,
        "program_slug": program.slug,
        "accrediting_body": program.accrediting_body,
        "standing": standing(program),
        "criteria": _criteria(program, pass_mark),
        "earned_date_text": f"{earned_on:%B} {earned_on.day}, {earned_on.year}",
        "valid_until_text": f"{until:%B} {until.day}, {until.year}",
        "provider_name": config["PROVIDER_NAME"],
        "provider_address": config["PROVIDER_ADDRESS"],
        "provider_email": config["PROVIDER_EMAIL"],
        "verification_url": public_url("programs.verify", code=code),
        "code": code,
    }


def ensure_pending(user_id: int, program_id: int) -> int | None:
    """Create the credential row once the requirements are met; return its id (None if not due)."""
    user, program = db.session.get(User, user_id), db.session.get(Program, program_id)
    if user is None or program is None:
        return None
    now = utcnow()
    existing = latest_credential(user_id, program_id)
    period = 1
    if existing is not None:
        if existing.status in ("pending", "failed"):
            return existing.id
        # Valid or revoked: nothing to issue. Expired: the next period, once earned anew
        # (progress counts the exam from the lapse, so the old pass does not earn it again).
        if existing.status != "issued" or dates.local_date(now) <= existing.valid_until:
            return None
        period = existing.period + 1
    state = progress(user, program)
    if not state.complete or state.exam.passed is None:
        return None
    # Earned when the last requirement was met, however late this task runs (a lost message
    # recovered by the sweep): never in the future, nor within the period that lapsed.
    earned = min(state.met_at or now, now)
    if program.license_required:
        # The active license is a requirement too: one renewed after the last step (it ran out
        # while a video waited for review) met them all only then.
        earned = licensed_since(user, earned)
    changed = program.requirements_changed_at
    if changed is not None and earned < changed <= now:
        # Met only once an admin lowered what was still missing: earned then, not at the last
        # step taken under rules it did not complete.
        earned = changed
    if existing is not None and dates.local_date(earned) <= existing.valid_until:
        earned = now
    earned_on = dates.local_date(earned)  # validity runs in whole days of the provider's calendar
    until = period_end(earned_on, program.validity_months)
    code = codes.new_code()
    credential = Credential(
        code=code,
        user_id=user_id,
        program_id=program_id,
        period=period,
        status="pending",
        earned_at=earned,
        valid_from=earned_on,
        valid_until=until,
        data=_frozen_data(user, program, code, earned_on, until, state.exam.passed.pass_mark),
    )
    try:
        with db.session.begin_nested():
            db.session.add(credential)
    except IntegrityError:
        # Another run created it a moment ago: that row is the one.
        again = latest_credential(user_id, program_id)
        return again.id if again is not None and again.status == "pending" else None
    return credential.id


def count_try(credential_id: int) -> None:
    """Count a try at issuing a credential still to issue; the caller commits before trying.

    Counted before the PDF is drawn, a try cut off by its worker's death (a crash, the OOM
    killer) counts too: the sweep gives up after CREDENTIAL_SWEEP_MAX_ATTEMPTS of them.
    """
    db.session.execute(
        update(Credential)
        .where(Credential.id == credential_id, Credential.status.in_(("pending", "failed")))
        .values(attempts=Credential.attempts + 1)
        .execution_options(synchronize_session=False)
    )


def issue(credential_id: int) -> bool:
    """Write the PDF and signed badge, then mark the credential issued; False if done already."""
    credential = db.session.get(Credential, credential_id)
    if credential is None or credential.status not in ("pending", "failed"):
        return False
    credential.issued_at = credential.issued_at or utcnow()
    storage = get_storage()
    base = f"programs/credentials/{credential.code}"
    storage.save(base + ".pdf", documents.render_pdf(credential))
    storage.save(base + ".jwt", documents.signed_badge(credential).encode())
    # Only one run moves it from pending: it alone records the event and sends the email.
    result = db.session.execute(
        update(Credential)
        .where(Credential.id == credential.id, Credential.status.in_(("pending", "failed")))
        .values(
            status="issued",
            issued_at=credential.issued_at,
            storage_key=base + ".pdf",
            badge_key=base + ".jwt",
            last_error=None,
        )
        .execution_options(synchronize_session=False)
    )
    if cast(CursorResult, result).rowcount != 1:
        return False
    db.session.refresh(credential)
    db.session.add(CredentialEvent(credential_id=credential.id, kind="issued"))
    queue_email(
        credential.user.email,
        f"Your credential: {credential.data['program_title']}",
        "program_credential_issued",
        dedupe_key=f"program-credential-issued:{credential.id}",
        credential=credential,
        verify_url=credential.data["verification_url"],
        # The program's address now: the one frozen on the credential when it became due may
        # have changed since (an admin's edit while issuing waited or was tried again).
        program_url=public_url("programs.detail", slug=credential.program.slug),
    )
    db.session.flush()
    return True


def record_failure(credential_id: int, error: Exception) -> None:
    """Mark a credential failed with the error, for the retry and the admin to see."""
    credential = db.session.get(Credential, credential_id)
    # The try was counted before it started (count_try): the sweep stops after a bounded number.
    if credential is not None and credential.status in ("pending", "failed"):
        credential.status = "failed"
        credential.last_error = str(error)[:2000]


def out_of_tries(credential_id: int) -> bool:
    """Tell whether a credential failed on its last try: nothing retries it but an admin."""
    credential = db.session.get(Credential, credential_id)
    return credential is not None and credential.given_up


# Days after a period ends in which a check still renews it on hours earned within it: a course
# finished late on the last day is checked after midnight, or a queue delay or a missed nightly
# run comes between; the holder met the rule in time either way.
RENEWAL_GRACE_DAYS = 7


def renewal_due(credential: Credential, today: date) -> bool:
    """Tell whether the holder earned the renewal hours within the current validity period."""
    program = credential.program
    if credential.status != "issued":
        return False
    if today > credential.valid_until + timedelta(days=RENEWAL_GRACE_DAYS):
        return False
    if not program.renewal_hours or program.renewal_hours <= 0:
        return False
    latest = latest_credential(credential.user_id, credential.program_id)
    if latest is not None and latest.period > credential.period:
        # Earned again by the exam within the grace days: renewing this one too would leave the
        # holder two valid credentials of one program.
        return False
    start = credential.renewal_counts_from
    hours = credit.earned_hours(credential.user_id, start, credential.valid_until)
    return hours >= program.renewal_hours


# When the nightly renewal check runs, on beat's clock (the CELERY "timezone", UTC by default).
RENEWAL_CHECK_AT = time(3, 30)


def next_renewal_check(now: datetime | None = None) -> datetime:
    """The moment the next nightly renewal check runs, strictly after now."""
    zone = ZoneInfo(current_app.config["CELERY"].get("timezone") or "UTC")
    moment = (now or utcnow()).astimezone(zone)
    check = datetime.combine(moment.date(), RENEWAL_CHECK_AT, tzinfo=zone)
    if check <= moment:
        check = datetime.combine(moment.date() + timedelta(days=1), RENEWAL_CHECK_AT, tzinfo=zone)
    return check


def awaiting_renewal(state: Progress, now: datetime | None = None) -> bool:
    """Tell whether the candidate's credential lapsed but the next renewal check renews it."""
    # Within the grace days on hours earned in time: no exam is needed, and a sitting started
    # now would spend one of the attempts counted afresh since the lapse for nothing. The check
    # decides on the provider's date when it runs, not today's: once the last grace day's check
    # has run, the next one finds the grace over, and only the exam earns the credential again.
    check_day = dates.local_date(next_renewal_check(now))
    return bool(
        state.exam.lapsed_at and state.credential and renewal_due(state.credential, check_day)
    )


def renew(credential: Credential, today: date) -> bool:
    """Extend a credential by one validity period when the renewal hours are earned."""
    if not renewal_due(credential, today):
        return False
    old_until = credential.valid_until
    start = date.fromordinal(old_until.toordinal() + 1)
    credential.valid_from = start
    credential.valid_until = period_end(start, credential.program.validity_months)
    credential.renewed_at = utcnow()
    credential.data = {
        **credential.data,
        "valid_until_text": f"{credential.valid_until:%B} {credential.valid_until.day}, "
        f"{credential.valid_until.year}",
    }
    db.session.add(
        CredentialEvent(
            credential_id=credential.id,
            kind="renewed",
            detail=f"valid until {old_until.isoformat()} -> {credential.valid_until.isoformat()}",
        )
    )
    # New files under the new period's name, switched to in this transaction: a renewal that
    # never commits (the worker killed, the database away) leaves the holder's PDF and badge
    # those of the period the database still holds, not of a renewal that never happened.
    base = f"programs/credentials/{credential.code}-{credential.valid_until:%Y%m%d}"
    storage = get_storage()
    storage.save(base + ".pdf", documents.render_pdf(credential))
    storage.save(base + ".jwt", documents.signed_badge(credential).encode())
    delete_on_rollback([base + ".pdf", base + ".jwt"])
    delete_after_commit(
        key
        for key in (credential.storage_key, credential.badge_key)
        if key and key not in (base + ".pdf", base + ".jwt")
    )
    credential.storage_key, credential.badge_key = base + ".pdf", base + ".jwt"
    db.session.flush()
    return True


def renewable_ids(
    today: date, user_id: int | None = None, program_id: int | None = None
) -> list[int]:
    """The issued credentials within their period or its grace days (candidates for renewal)."""
    since = today - timedelta(days=RENEWAL_GRACE_DAYS)
    query = select(Credential.id).where(
        Credential.status == "issued", Credential.valid_until >= since
    )
    if user_id is not None:
        query = query.where(Credential.user_id == user_id)
    if program_id is not None:
        query = query.where(Credential.program_id == program_id)
    return list(db.session.scalars(query))


def revoke(credential: Credential, reason: str, actor: str) -> None:
    """Revoke an issued credential: its verify page says so and its badge disappears."""
    reason = (reason or "").strip()
    # Zero-width characters or a lone accent alone would email the holder a blank reason.
    if not says_something(reason):
        raise CredentialError("Give a reason for the revocation.")
    if credential.status == "revoked":
        raise CredentialError("This credential is revoked already.")
    if credential.status != "issued":
        # Never issued, it was never shown to anyone: revoked, its verify page would say a
        # credential existed and was withdrawn, and its holder would be emailed so.
        raise CredentialError("Only an issued credential can be revoked; this one never was.")
    credential.status = "revoked"
    credential.revoked_at = utcnow()
    credential.revoked_reason = reason[:2000]
    db.session.add(
        CredentialEvent(credential_id=credential.id, kind="revoked", detail=reason, actor=actor)
    )
    db.session.flush()

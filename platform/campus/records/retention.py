"""Deleting an account while the CE records the boards require outlive it, then purging them.

Why the user row is anonymised rather than deleted: every CE record (enrollments and through
them progress, quiz papers and attempts, time logs and evaluations; certificates with their codes
and history) hangs from `users.id` with ON DELETE CASCADE, and the certificate's uniqueness is
(user, course). Re-pointing all of that at another table would touch five features' models and
queries; keeping the row as a tombstone (no email, no password, no second factor, no license,
`deleted_at` set so it can never sign in or be linked to billing again) keeps every key and
every existing query correct, and purging is then one DELETE of that row. An account that has
no CE records at all is deleted outright.
"""

from __future__ import annotations

import calendar
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime

from flask import current_app
from sqlalchemy import and_, delete, func, select, update

from campus import dates
from campus.accounts.email_change import earlier_addresses
from campus.accounts.models import LoginChallenge, RecoveryCode, User, UserSession, UserToken
from campus.accounts.tokens import ApiToken
from campus.audit import record
from campus.billing.closing import close_at_stripe, forget_billing
from campus.certificates.models import Certificate, CertificateCode
from campus.certificates.services import awaiting, ensure_pending, storage_key
from campus.content.models import Lead
from campus.directory.models import DirectoryProfile
from campus.extensions import db
from campus.learning.models import Enrollment, LessonProgress, QuizAttempt, QuizPaper
from campus.learning.records import CourseEvaluation, SeatTime
from campus.mail.models import EmailMessage
from campus.mail.services import TOMBSTONE_DOMAIN, queue_email
from campus.models.base import utcnow
from campus.models.writes import lock_row
from campus.programs.models import Credential, ExamSitting, PracticalSubmission
from campus.records import audit_scrub, licensing
from campus.records.models import DataExport, RetentionHold
from campus.reporting.models import ReportedCompletion
from campus.storage import delete_after_commit, get_storage
from campus.templating import counted, format_date
from campus.urls import public_url

UNUSABLE_PASSWORD = "!deleted"  # not an Argon2 hash: no password ever verifies against it


def add_years(day: date, years: int) -> date:
    """The same day `years` later (29 February becomes 28 February)."""
    year = day.year + years
    return day.replace(year=year, day=min(day.day, calendar.monthrange(year, day.month)[1]))


def _ids(query) -> list[int]:
    return list(db.session.scalars(query))


def ce_record_counts(user_id: int) -> dict[str, int]:
    """Count the CE records of a user, table by table."""
    enrollments = select(Enrollment.id).where(Enrollment.user_id == user_id).scalar_subquery()

    def count(model, column) -> int:
        return db.session.scalar(select(func.count()).select_from(model).where(column)) or 0

    return {
        "enrollments": count(Enrollment, Enrollment.user_id == user_id),
        "lesson_progress": count(LessonProgress, LessonProgress.enrollment_id.in_(enrollments)),
        "quiz_papers": count(QuizPaper, QuizPaper.enrollment_id.in_(enrollments)),
        "quiz_attempts": count(QuizAttempt, QuizAttempt.enrollment_id.in_(enrollments)),
        "seat_time": count(SeatTime, SeatTime.enrollment_id.in_(enrollments)),
        "evaluations": count(CourseEvaluation, CourseEvaluation.enrollment_id.in_(enrollments)),
        "certificates": count(Certificate, Certificate.user_id == user_id),
        "credentials": count(Credential, Credential.user_id == user_id),
        "exam_sittings": count(ExamSitting, ExamSitting.user_id == user_id),
        "practical_reviews": count(
            PracticalSubmission,
            and_(PracticalSubmission.user_id == user_id, PracticalSubmission.status != "submitted"),
        ),
    }


def last_activity(user_id: int) -> datetime | None:
    """The newest moment in the user's CE records, from which the retention period runs."""
    enrollments = select(Enrollment.id).where(Enrollment.user_id == user_id).scalar_subquery()
    candidates = [
        select(func.max(Enrollment.enrolled_at)).where(Enrollment.user_id == user_id),
        select(func.max(Enrollment.last_activity_at)).where(Enrollment.user_id == user_id),
        select(func.max(Enrollment.completed_at)).where(Enrollment.user_id == user_id),
        select(func.max(Enrollment.evaluated_at)).where(Enrollment.user_id == user_id),
        select(func.max(QuizAttempt.submitted_at)).where(
            QuizAttempt.enrollment_id.in_(enrollments)
        ),
        select(func.max(SeatTime.last_at)).where(SeatTime.enrollment_id.in_(enrollments)),
        select(func.max(Certificate.completed_at)).where(Certificate.user_id == user_id),
        select(func.max(Credential.earned_at)).where(Credential.user_id == user_id),
        select(func.max(ExamSitting.started_at)).where(ExamSitting.user_id == user_id),
        select(func.max(PracticalSubmission.reviewed_at)).where(
            PracticalSubmission.user_id == user_id
        ),
    ]
    found: list[datetime] = []
    for query in candidates:
        value = db.session.scalar(query)
        if value is not None:
            # SQLite's max() returns text that the column type does not convert back.
            found.append(_as_datetime(value))
    return max(found) if found else None


def _as_datetime(value: datetime | str) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _frozen_identity(user: User) -> dict[str, str]:
    """The participant's name and license as the newest certificate printed them."""
    latest = db.session.scalars(
        select(Certificate)
        .where(Certificate.user_id == user.id)
        .order_by(Certificate.completed_at.desc(), Certificate.id.desc())
        .limit(1)
    ).first()
    data = latest.data if latest is not None else {}
    number, state = licensing.first_license(user)
    return {
        "participant_name": (data.get("participant_name") or user.full_name).strip()[:120],
        "license_number": (data.get("license_number") or number or "")[:60],
        "license_state": (data.get("license_state") or state or "")[:60],
    }


def _forget_sign_in(user: User) -> None:
    """Remove everything that signs the account in: sessions, tokens, codes, second factor."""
    for model in (UserSession, UserToken, RecoveryCode, LoginChallenge, ApiToken):
        db.session.execute(
            delete(model)
            .where(model.user_id == user.id)
            .execution_options(synchronize_session=False)
        )
    user.password_hash = UNUSABLE_PASSWORD
    user.totp_secret = user.totp_pending_secret = None
    user.totp_enabled_at = user.totp_last_step = None


def _forget_marketing(email: str) -> None:
    """Remove download leads (with their marketing consent) and the mail sent to the address."""
    for model, column in ((Lead, Lead.email), (EmailMessage, EmailMessage.to)):
        db.session.execute(
            delete(model).where(column == email).execution_options(synchronize_session=False)
        )


def _forget_public_profile(user_id: int) -> list[str]:
    """Delete the directory profile (its messages go with it) and the practical videos.

    Neither is a record the boards ask a provider to keep: the profile is the member's own
    publicity and the videos are pictures of them; the credential they led to stays, and so
    does a reviewed practical's decision and rubric marks (its video file goes). Returns the
    storage keys whose files must go too.
    """
    keys = [
        key
        for key in db.session.scalars(
            select(DirectoryProfile.photo_key).where(DirectoryProfile.user_id == user_id)
        )
        if key
    ]
    keys += db.session.scalars(
        select(PracticalSubmission.storage_key).where(PracticalSubmission.user_id == user_id)
    )
    db.session.execute(
        delete(DirectoryProfile)
        .where(DirectoryProfile.user_id == user_id)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        delete(PracticalSubmission)
        .where(PracticalSubmission.user_id == user_id, PracticalSubmission.status == "submitted")
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(PracticalSubmission)
        .where(
            PracticalSubmission.user_id == user_id,
            PracticalSubmission.video_removed_at.is_(None),
        )
        .values(video_removed_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return keys


def _certificate_files(user_id: int) -> list[str]:
    """The stored PDFs of a member's certificates, under every code each one has had.

    A reissue deletes the PDF of the code it retires; one reissued before it did so left that
    file, which holds the name and license number printed then.
    """
    current = db.session.scalars(
        select(Certificate.storage_key).where(Certificate.user_id == user_id)
    )
    codes = db.session.scalars(
        select(CertificateCode.code)
        .join(Certificate, Certificate.id == CertificateCode.certificate_id)
        .where(Certificate.user_id == user_id)
    )
    return sorted({key for key in current if key} | {storage_key(code) for code in codes})


def _credential_files(user_id: int) -> list[str]:
    """The stored files of a member's program credentials (PDF and signed badge)."""
    rows = db.session.execute(
        select(Credential.storage_key, Credential.badge_key).where(Credential.user_id == user_id)
    )
    return [key for row in rows for key in row if key]


def forget_exports(user_id: int) -> list[str]:
    """Delete the user's archive rows; return the storage keys whose files must go too."""
    keys = [
        key
        for key in db.session.scalars(
            select(DataExport.storage_key).where(DataExport.user_id == user_id)
        )
        if key
    ]
    db.session.execute(
        delete(DataExport)
        .where(DataExport.user_id == user_id)
        .execution_options(synchronize_session=False)
    )
    return keys


def _delete_files(keys: list[str]) -> None:
    storage = get_storage()
    for key in keys:
        storage.delete(key)


def _freeze_awaited_certificates(user: User) -> None:
    """Freeze the certificates the worker has yet to create, while the account is whole.

    Created after the deletion, one would print the name the hold keeps and no license: the
    licenses are gone by then. The issuing task (queued already, or the sweep) draws it.
    """
    for enrollment in awaiting(user):
        ensure_pending(enrollment.id)


@dataclass(frozen=True)
class Deletion:
    """A deletion in progress: the hold kept (None if nothing was) and what to log."""

    user_id: int
    email: str
    hold: RetentionHold | None
    summary: str
    # The directory profile it removed, as (id, slug): its entries in the log are scrubbed too.
    profiles: tuple[tuple[int, str], ...] = ()
    # The licenses it removed, as (id, number): taken out of the log's entries about them.
    licenses: tuple[tuple[int, str], ...] = ()
    # The addresses the account had before its email changes: gone from the log as well.
    earlier: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """What the log calls the member once their address is gone."""
        return f"deleted member #{self.user_id}"


def delete_account(user: User) -> Deletion:
    """Close billing at Stripe, remove the account's personal data and keep its CE records.

    Stripe goes first (cancel, then delete the customer): if it refuses, PaymentProviderError
    leaves everything as it was. The caller checked the password and second factor; it writes
    the audit entry, then calls `finish_deletion`, which scrubs the address from the log and
    deletes the user row outright when there is no CE record to keep (hold is None).
    """
    email, user_id = user.email, user.id
    earlier = tuple(earlier_addresses(user))
    first_name = user.first_name
    calls = close_at_stripe(user)
    forget_billing(user)
    _forget_sign_in(user)
    for address in (email, *earlier):
        _forget_marketing(address)
    profiles = tuple(
        (profile_id, slug)
        for profile_id, slug in db.session.execute(
            select(DirectoryProfile.id, DirectoryProfile.slug).where(
                DirectoryProfile.user_id == user_id
            )
        )
    )
    # After the commit: a deletion that fails (Stripe was called first, the commit may not
    # go through) keeps the account, and with it its photo, videos and archives.
    delete_after_commit(forget_exports(user_id) + _forget_public_profile(user_id))
    _freeze_awaited_certificates(user)
    counts = ce_record_counts(user_id)
    stripe = "; ".join(calls) or "no customer"
    hold = None
    retention_years = int(current_app.config["CE_RECORD_RETENTION_YEARS"])
    summary = f"deleted member #{user_id} deleted their account; no CE records to keep"
    identity = _frozen_identity(user)
    # With those removed before: their numbers are in the log's entries about them too.
    licenses = tuple(
        sorted(set(licensing.forget_licenses(user)) | set(audit_scrub.earlier_licenses(user_id)))
    )
    if any(counts.values()):
        now = utcnow()
        last = dates.local_date(last_activity(user_id) or now)
        hold = RetentionHold(
            user_id=user_id,
            **identity,
            profession=user.profession,
            deleted_at=now,
            last_activity_on=last,
            purge_after=add_years(last, retention_years),
            retention_years=retention_years,
            kept=json.dumps(counts, sort_keys=True),
        )
        db.session.add(hold)
        user.email = f"deleted-{user_id}-{secrets.token_hex(4)}@{TOMBSTONE_DOMAIN}"
        user.full_name = identity["participant_name"]
        user.email_verified_at = user.last_login_at = None
        user.role = "student"
        user.disabled_at = user.deleted_at = now
        db.session.flush()
        summary = (
            f"deleted member #{user_id} deleted their account; CE records kept until "
            f"{hold.purge_after} (retention hold #{hold.id}: {kept_text(counts)})"
        )
    queue_email(
        email,
        "Your Campus account is deleted",
        "account_deleted",
        # Marks it as mail to someone without an account (mail.services.STRANGERS_MAIL), so the
        # row and the address go at the end of the retention; random, as an id can come again.
        dedupe_key=f"account-deleted:{user_id}:{secrets.token_hex(8)}",
        first_name=first_name,
        hold=hold,
        retention_years=retention_years,
        signup_link=public_url("accounts.signup"),
    )
    return Deletion(
        user_id, email, hold, f"{summary}; Stripe: {stripe}", profiles, licenses, earlier
    )


def finish_deletion(done: Deletion) -> None:
    """Take the address out of the audit log; delete the user row if nothing is kept."""
    account = db.session.get(User, done.user_id)
    since = account.created_at if account is not None else None
    for address in (done.email, *done.earlier):
        audit_scrub.scrub_member(done.user_id, address, done.label, since)
    audit_scrub.scrub_profiles(done.profiles, done.label, since)
    audit_scrub.scrub_licenses(done.user_id, done.licenses, done.label)
    if done.hold is None:
        delete_after_commit(_credential_files(done.user_id))
        user = db.session.get(User, done.user_id)
        db.session.execute(delete(User).where(User.id == done.user_id))
        if user is not None:
            db.session.expunge(user)


# How each kind of kept record is named, one and many.
_KEPT_NAMES = {
    "enrollments": ("enrollment", "enrollments"),
    "lesson_progress": ("lesson completed", "lessons completed"),
    "quiz_papers": ("quiz paper", "quiz papers"),
    "quiz_attempts": ("quiz attempt", "quiz attempts"),
    "seat_time": ("lesson time log", "lesson time logs"),
    "evaluations": ("evaluation", "evaluations"),
    "certificates": ("certificate", "certificates"),
    "credentials": ("program credential", "program credentials"),
    "exam_sittings": ("exam sitting", "exam sittings"),
    "practical_reviews": ("practical review", "practical reviews"),
}


def kept_text(counts: dict[str, int]) -> str:
    """Say what a hold keeps: "1 enrollment, 8 lessons completed, 1 certificate"."""
    parts = []
    for name, number in counts.items():
        if number:
            one, many = _KEPT_NAMES.get(name, (name.replace("_", " "), None))
            parts.append(counted(number, one, many))
    return ", ".join(parts)


# --- purging -------------------------------------------------------------------------------------


def due_holds(today: date | None = None) -> list[int]:
    """The ids of holds whose retention period has ended."""
    today = today or dates.today()
    return _ids(
        select(RetentionHold.id)
        .where(RetentionHold.purge_after <= today)
        .order_by(RetentionHold.purge_after, RetentionHold.id)
    )


def purge_hold(hold_id: int, today: date | None = None) -> bool:
    """Delete a due hold with everything of its learner, certificate files too; tell if done.

    The files go first and the rows after, so a run cut short is finished by the next one.
    """
    today = today or dates.today()
    # Locked to the commit: two runs at once (two beats, a slow run and the next) would both
    # purge it and both log it; the second waits, then finds it gone.
    lock_row(RetentionHold, hold_id)
    hold = db.session.get(RetentionHold, hold_id, populate_existing=True)
    if hold is None or hold.purge_after > today:
        return False
    user_id = hold.user_id
    keys = _certificate_files(user_id) + _credential_files(user_id) + forget_exports(user_id)
    _delete_files(keys)
    summary = (
        f"purged the CE records of retention hold #{hold.id} (account deleted "
        f"{format_date(hold.deleted_at, '%Y-%m-%d')}, kept until {hold.purge_after}); "
        f"{len(keys)} file(s) removed"
    )
    reports = db.session.execute(
        select(ReportedCompletion.id, ReportedCompletion.sent, ReportedCompletion.superseded)
        .join(Certificate, Certificate.id == ReportedCompletion.certificate_id)
        .where(Certificate.user_id == user_id)
    )
    names = (hold.participant_name, hold.license_number)
    label = f"deleted member #{user_id}"
    audit_scrub.scrub_reports(tuple(map(tuple, reports)), names, label)
    audit_scrub.scrub_certificates(user_id, label)
    # Every CE record, and the hold itself, cascades from the user row.
    db.session.execute(delete(User).where(User.id == user_id))
    db.session.expunge_all()
    record(
        "retained_records_purged",
        object_type="RetentionHold",
        object_id=hold_id,
        summary=summary,
        system=True,
    )
    return True

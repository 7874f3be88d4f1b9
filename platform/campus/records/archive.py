"""The member's data archive: one ZIP with everything Campus holds about them.

Each part is a plain file a person can open (JSON, PDF) and the README inside says what each
one is. Built by the worker from the database and the certificate storage, never from a request.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import select

from campus import dates
from campus.accounts.email_change import earlier_addresses
from campus.accounts.models import User
from campus.billing.closing import payments_summary
from campus.certificates import services as certificates
from campus.certificates.models import Certificate
from campus.certificates.transcripts import transcript_pdf
from campus.content.models import Lead
from campus.extensions import db
from campus.learning.models import Enrollment, LessonProgress, QuizAttempt
from campus.learning.records import CourseEvaluation, SeatTime
from campus.models.base import utcnow
from campus.records import licensing, practice
from campus.storage import get_storage

README = """Your data from {site}, as of {when} (UTC).

profile.json          your account: name, email, profession, dates
licenses.json         the professional licenses on your account
enrollments.json      your courses: enrollment, lessons completed, completion, CE hours
quiz_attempts.json    every quiz attempt you submitted, with its score
evaluations.json      your course evaluations and attestations
seat_time.json        time credited on each lesson (the study-time record boards ask for)
certificates.json     your certificates as issued (the data printed on each)
certificates/*.pdf    each issued certificate
transcript.pdf        your CE transcript
payments.json         your membership's billing records (cards are held by Stripe)
consents.json         free downloads you asked for and your marketing email choices
programs.json         your program credentials, exam sittings and practical submissions
directory.json        your practitioner directory profile and its counters (null: none)
security.json         your sign-ins (device, address, when) and API tokens (names, never secrets)
emails.json           the emails we sent you: subject, status and when
"""


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def _json(data: Any) -> bytes:
    return json.dumps(data, indent=2, ensure_ascii=False, default=_plain).encode()


def profile_part(user: User) -> dict[str, Any]:
    """The account's own fields (never its secrets)."""
    return {
        "id": user.id,
        "email": user.email,
        "email_confirmed_at": user.email_verified_at,
        "full_name": user.full_name,
        "profession": user.profession_label,
        "role": user.role,
        "created_at": user.created_at,
        "last_login_at": user.last_login_at,
        "second_factor_enabled": user.totp_enabled,
    }


def _enrollments(user: User) -> list[Enrollment]:
    return list(
        db.session.scalars(
            select(Enrollment).where(Enrollment.user_id == user.id).order_by(Enrollment.id)
        )
    )


def enrollments_part(enrollments: list[Enrollment]) -> list[dict[str, Any]]:
    """Each enrollment with its course, the lessons completed and the completion."""
    ids = [e.id for e in enrollments]
    progress: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    if ids:
        for row in db.session.scalars(
            select(LessonProgress)
            .where(LessonProgress.enrollment_id.in_(ids))
            .order_by(LessonProgress.completed_at)
        ):
            progress[row.enrollment_id].append(
                {"lesson_id": row.lesson_id, "completed_at": row.completed_at}
            )
    return [
        {
            "course": e.course_title,
            "course_slug": e.course.slug,
            "enrolled_at": e.enrolled_at,
            "status": e.status,
            "last_activity_at": e.last_activity_at,
            "completed_at": e.completed_at,
            "ce_hours_earned": e.ce_hours_earned,
            "evaluated_at": e.evaluated_at,
            "lessons_completed": progress[e.id],
        }
        for e in enrollments
    ]


def attempts_part(enrollments: list[Enrollment]) -> list[dict[str, Any]]:
    """Every submitted quiz attempt with its score and the answers given."""
    titles = {e.id: e.course_title for e in enrollments}
    if not titles:
        return []
    rows = db.session.scalars(
        select(QuizAttempt)
        .where(QuizAttempt.enrollment_id.in_(titles))
        .order_by(QuizAttempt.submitted_at, QuizAttempt.id)
    )
    return [
        {
            "course": titles[a.enrollment_id],
            "submitted_at": a.submitted_at,
            "score_percent": a.score_percent,
            "correct": a.correct_count,
            "questions": a.question_count,
            "pass_mark_percent": a.pass_mark_percent,
            "passed": a.passed,
            "answers": a.answers,
        }
        for a in rows
    ]


def evaluations_part(enrollments: list[Enrollment]) -> list[dict[str, Any]]:
    """The course evaluations and the statement attested to."""
    titles = {e.id: e.course_title for e in enrollments}
    if not titles:
        return []
    rows = db.session.scalars(
        select(CourseEvaluation)
        .where(CourseEvaluation.enrollment_id.in_(titles))
        .order_by(CourseEvaluation.submitted_at)
    )
    return [
        {
            "course": titles[ev.enrollment_id],
            "submitted_at": ev.submitted_at,
            "objectives_met": ev.objectives_met,
            "relevance": ev.relevance,
            "presenter": ev.presenter,
            "content_quality": ev.content_quality,
            "minutes_taken": ev.minutes_taken,
            "comments": ev.comments,
            "attestation": ev.attestation,
        }
        for ev in rows
    ]


def seat_time_part(enrollments: list[Enrollment]) -> list[dict[str, Any]]:
    """Per course, the seconds credited on each lesson and the course's total."""
    by_enrollment: dict[int, list[SeatTime]] = {e.id: [] for e in enrollments}
    if by_enrollment:
        for row in db.session.scalars(
            select(SeatTime).where(SeatTime.enrollment_id.in_(by_enrollment)).order_by(SeatTime.id)
        ):
            by_enrollment[row.enrollment_id].append(row)
    return [
        {
            "course": e.course_title,
            "total_seconds": sum(r.seconds for r in by_enrollment[e.id]),
            "lessons": [
                {
                    "lesson": r.lesson.title,
                    "seconds": r.seconds,
                    "first_at": r.first_at,
                    "last_at": r.last_at,
                }
                for r in by_enrollment[e.id]
            ],
        }
        for e in enrollments
    ]


def _certificates(user: User) -> list[Certificate]:
    return list(
        db.session.scalars(
            select(Certificate)
            .where(Certificate.user_id == user.id)
            .order_by(Certificate.completed_at, Certificate.id)
        )
    )


def certificate_pdf(certificate: Certificate) -> bytes | None:
    """The stored PDF of an issued certificate (drawn again from its frozen data if missing)."""
    if not certificate.is_issued:
        return None
    storage = get_storage()
    if certificate.storage_key and storage.exists(certificate.storage_key):
        return storage.read(certificate.storage_key)
    return certificates.render(certificate)


def _transcript_range(
    user: User, certificates: list[Certificate], now: datetime
) -> tuple[date, date]:
    """The days a transcript of every certificate spans (from sign-up when there is none).

    The transcript lists certificates by their printed date: one issued under an earlier
    TIME_ZONE setting may print the day before (or after) its moment's day on today's calendar.
    """
    printed = [c.printed_date for c in certificates]
    first = min(printed) if printed else dates.local_date(user.created_at)
    return first, max([*printed, dates.local_date(now)])


def consents_part(user: User) -> list[dict[str, Any]]:
    """The free downloads asked for with the account's addresses, and the marketing answers."""
    # Its earlier addresses too, as a deletion takes them (unless someone else has one now).
    addresses = [user.email, *earlier_addresses(user)]
    rows = db.session.scalars(select(Lead).where(Lead.email.in_(addresses)).order_by(Lead.id))
    return [
        {
            "download": lead.download.title,
            "name_given": lead.name,
            "asked_at": lead.asked_at,
            "times_asked": lead.requests,
            "marketing_email": lead.marketing,
            "consent_text": lead.consent_text,
            "consented_at": lead.consented_at,
            "unsubscribed_at": lead.unsubscribed_at,
        }
        for lead in rows
    ]


def build_archive(user: User) -> bytes:
    """Build the member's ZIP archive and return its bytes."""
    enrollments = _enrollments(user)
    issued = _certificates(user)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        now = utcnow()
        archive.writestr(
            "README.txt",
            README.format(site=current_app.config["SITE_NAME"], when=f"{now:%Y-%m-%d %H:%M}"),
        )
        archive.writestr("profile.json", _json(profile_part(user)))
        archive.writestr("licenses.json", _json(licensing.licenses_part(user)))
        archive.writestr("enrollments.json", _json(enrollments_part(enrollments)))
        archive.writestr("quiz_attempts.json", _json(attempts_part(enrollments)))
        archive.writestr("evaluations.json", _json(evaluations_part(enrollments)))
        archive.writestr("seat_time.json", _json(seat_time_part(enrollments)))
        listed = []
        for certificate in issued:
            entry: dict[str, Any] = {
                "code": certificate.code,
                "status": certificate.status,
                "issued_at": certificate.issued_at,
                "revoked_at": certificate.revoked_at,
                "printed": certificate.data,
            }
            document = certificate_pdf(certificate)
            if document is not None:
                entry["file"] = f"certificates/{certificate.code}.pdf"
                archive.writestr(entry["file"], document)
            listed.append(entry)
        archive.writestr("certificates.json", _json(listed))
        archive.writestr(
            "transcript.pdf", transcript_pdf(user, *_transcript_range(user, issued, now))
        )
        archive.writestr("payments.json", _json(payments_summary(user)))
        archive.writestr("consents.json", _json(consents_part(user)))
        archive.writestr("programs.json", _json(practice.programs_part(user)))
        archive.writestr("directory.json", _json(practice.directory_part(user)))
        archive.writestr("security.json", _json(practice.security_part(user)))
        archive.writestr("emails.json", _json(practice.emails_part(user)))
    return buffer.getvalue()

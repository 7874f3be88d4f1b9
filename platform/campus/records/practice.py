"""The member's programs, directory profile, sign-ins and emails, as the archive lists them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from campus.accounts.email_change import earlier_addresses
from campus.accounts.models import User, UserSession
from campus.accounts.tokens import ApiToken
from campus.directory import taxonomy
from campus.directory.models import DirectoryProfile
from campus.extensions import db
from campus.mail.models import EmailMessage
from campus.programs.models import Credential, ExamSitting, PracticalSubmission


def programs_part(user: User) -> dict[str, list[dict[str, Any]]]:
    """Program credentials, exam sittings and practical submissions with their reviews."""
    credentials = db.session.scalars(
        select(Credential).where(Credential.user_id == user.id).order_by(Credential.id)
    )
    sittings = db.session.scalars(
        select(ExamSitting).where(ExamSitting.user_id == user.id).order_by(ExamSitting.id)
    )
    practicals = db.session.scalars(
        select(PracticalSubmission)
        .where(PracticalSubmission.user_id == user.id)
        .order_by(PracticalSubmission.id)
    )
    return {
        "credentials": [
            {
                "program": c.program.title,
                "code": c.code,
                "status": c.status,
                "earned_at": c.earned_at,
                "valid_from": c.valid_from,
                "valid_until": c.valid_until,
                "issued_at": c.issued_at,
                "renewed_at": c.renewed_at,
                "revoked_at": c.revoked_at,
                "printed": c.data,
            }
            for c in credentials
        ],
        "exam_sittings": [
            {
                "program": s.program.title,
                "number": s.number,
                "started_at": s.started_at,
                "closed_at": s.closed_at,
                "closed_reason": s.closed_reason,
                "answers": s.answers,
                "pass_mark_percent": s.pass_mark,
                "score_percent": s.score_percent,
                "passed": s.passed,
            }
            for s in sittings
        ],
        # The video itself is not copied (up to hundreds of MB); the member sent it.
        "practicals": [
            {
                "program": p.program.title,
                "filename": p.filename,
                "size_bytes": p.size_bytes,
                "submitted_at": p.created_at,
                "status": p.status,
                "reviewed_at": p.reviewed_at,
                "comments": p.comments,
                "rubric_marks": p.rubric_marks,
                "video_removed_at": p.video_removed_at,
            }
            for p in practicals
        ],
    }


def directory_part(user: User) -> dict[str, Any] | None:
    """The member's directory profile as they wrote it, and its counters (None: no profile).

    Only the count of messages received: each message is the client's, and its text reached
    the member by email.
    """
    profile = db.session.scalar(select(DirectoryProfile).where(DirectoryProfile.user_id == user.id))
    if profile is None:
        return None
    return {
        "address": f"/directory/{profile.slug}",
        "display_name": profile.display_name,
        "practice_name": profile.practice_name,
        "street": profile.street,
        "show_street": profile.show_street,
        "city": profile.city,
        "state": profile.state,
        "zip_code": profile.zip_code,
        "phone": profile.phone,
        "website": profile.website,
        "bio": profile.bio,
        "has_photo": bool(profile.photo_key),
        "specialties": [taxonomy.specialty_label(k) for k in profile.specialty_keys],
        "professions": [taxonomy.profession_label(k) for k in profile.profession_keys],
        "accepting_clients": profile.accepting_clients,
        "contact_enabled": profile.contact_enabled,
        "published_at": profile.published_at,
        "hidden_at": profile.hidden_at,
        "hidden_reason": profile.hidden_reason,
        "search_impressions": profile.impressions,
        "messages_received": profile.messages_received,
    }


def security_part(user: User) -> dict[str, list[dict[str, Any]]]:
    """The account's sign-in sessions (device and address) and API tokens (never a secret)."""
    sessions = db.session.scalars(
        select(UserSession).where(UserSession.user_id == user.id).order_by(UserSession.id)
    )
    tokens = db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)
    )
    return {
        "sessions": [
            {
                "signed_in_at": s.created_at,
                "last_seen_at": s.last_seen_at,
                "expires_at": s.expires_at,
                "ended_at": s.revoked_at,
                "remembered": s.remembered,
                "device": s.user_agent,
                "ip_address": s.ip_address,
            }
            for s in sessions
        ],
        "api_tokens": [
            {
                "name": t.name,
                "scope": t.scope,
                "starts_with": t.hint,
                "created_at": t.created_at,
                "expires_at": t.expires_at,
                "last_used_at": t.last_used_at,
                "revoked_at": t.revoked_at,
            }
            for t in tokens
        ],
    }


def emails_part(user: User) -> list[dict[str, Any]]:
    """The emails sent (or waiting) to the account's addresses: subject, status and when."""
    addresses = [user.email, *earlier_addresses(user)]
    rows = db.session.scalars(
        select(EmailMessage).where(EmailMessage.to.in_(addresses)).order_by(EmailMessage.id)
    )
    # Not the reply-to: on a relayed message it is the client's address, theirs to give.
    return [
        {
            "to": e.to,
            "subject": e.subject,
            "status": e.status,
            "queued_at": e.created_at,
            "sent_at": e.sent_at,
        }
        for e in rows
    ]

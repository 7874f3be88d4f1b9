"""Practical assessments: the candidate's video (checked, stored) and the assessor's review.

A video is accepted only as MP4, QuickTime (MOV) or WebM: the file name's extension and the
first bytes of the file must agree, and it must fit PRACTICAL_MAX_BYTES. It is read from the
request's file in pieces (the limit is enforced while reading, before anything is stored), then
streamed from that file into the certificate storage under programs/practicals/; the database
holds only its key.
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO

from flask import current_app
from sqlalchemy import exists, select
from sqlalchemy.orm import aliased

from campus.accounts.models import User
from campus.accounts.rules import DIRECTION_MARKS, says_something
from campus.extensions import db
from campus.models.base import utcnow
from campus.models.writes import lock_row
from campus.programs.eligibility import eligibility
from campus.programs.models import PracticalSubmission, Program
from campus.storage import get_storage
from campus.templating import file_size

CHUNK = 1024 * 1024
_MB = 1024 * 1024
# extension -> (MIME type, kind the magic bytes must show); the page's file picker offers the same
EXTENSIONS = {
    "mp4": ("video/mp4", "iso"),
    "mov": ("video/quicktime", "iso"),
    "webm": ("video/webm", "webm"),
}


class PracticalError(Exception):
    """The practical cannot be submitted or reviewed; the message says why."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field  # the review form's field the message belongs to, if one


def max_bytes() -> int:
    """The largest video accepted, in bytes."""
    return int(current_app.config["PRACTICAL_MAX_BYTES"])


def limit_text() -> str:
    """The video's size limit as people read it: "200 MB", or "10 KB" under a megabyte."""
    # One wording for the page, the refusal and the too-large answer: whole megabytes alone
    # made a limit under one read "0 MB", and cut 1.5 MB down to "1 MB".
    limit = max_bytes()
    if limit >= _MB and limit % _MB == 0:
        return f"{limit // _MB} MB"
    return file_size(limit)


def _kind_of(head: bytes) -> str | None:
    # ISO base media (MP4, MOV): a box size, then "ftyp" (or an old "moov"/"wide"/"mdat" box).
    if len(head) >= 12 and head[4:8] in (b"ftyp", b"moov", b"wide", b"mdat"):
        return "iso"
    if head.startswith(b"\x1a\x45\xdf\xa3"):  # EBML, the container of WebM
        return "webm"
    return None


@dataclass(frozen=True)
class CheckedVideo:
    """A video that passed the checks: its file, wound back to its start, and its size."""

    stream: IO[bytes]
    size: int
    extension: str
    content_type: str


def read_video(stream: IO[bytes], filename: str) -> CheckedVideo:
    """Check an uploaded video, refusing it when too large or not really MP4, MOV or WebM."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension not in EXTENSIONS:
        raise PracticalError("Upload the video as an MP4, MOV or WebM file.")
    content_type, expected = EXTENSIONS[extension]
    limit = max_bytes()
    # Read through once for the size and the first bytes, keeping nothing: the request's file
    # (on disk past 500 KB) is then saved from its start, so a video is never whole in memory.
    start = stream.tell()
    head = stream.read(16)
    size = len(head)
    while size <= limit:
        piece = stream.read(CHUNK)
        if not piece:
            break
        size += len(piece)
    if size > limit:
        raise PracticalError(f"The video is larger than {limit_text()}.")
    if not size:
        raise PracticalError("The file is empty.")
    if _kind_of(head) != expected:
        raise PracticalError(f"The file is not a real {extension.upper()} video.")
    stream.seek(start)
    return CheckedVideo(stream, size, extension, content_type)


def shown_name(filename: str) -> str:
    """Return the upload's file name fit to store and show: no control characters, at most 200."""
    # A browser sends the name as typed on the candidate's machine; a NUL in it is refused by
    # PostgreSQL (a 500), other control characters only garble the assessor's page, and a
    # direction override shows the assessor another name ("clip<RLO>gnp.mp4" as "clip4pm.png").
    name = "".join(
        ch for ch in filename if unicodedata.category(ch) != "Cc" and not DIRECTION_MARKS.match(ch)
    ).strip()
    return name[-200:]


def may_submit(user: User, program: Program) -> str | None:
    """Say why the candidate cannot submit now, or None when they can."""
    if not program.practical_required:
        return "This program has no practical assessment."
    # As for the exam: a video from someone the program cannot certify would only take an
    # assessor's time.
    allowed = eligibility(user, program)
    if not allowed.ok:
        return " ".join(allowed.reasons)
    latest = db.session.scalar(
        select(PracticalSubmission.status)
        .where(PracticalSubmission.user_id == user.id, PracticalSubmission.program_id == program.id)
        .order_by(PracticalSubmission.id.desc())
        .limit(1)
    )
    if latest == "submitted":
        return "Your video is waiting for review; you can send another if it is returned."
    if latest == "passed":
        return "Your practical has passed."
    return None


def store(user: User, program: Program, video: CheckedVideo, filename: str) -> PracticalSubmission:
    """Store the checked video and record the submission for review."""
    # The candidate's row, locked to the commit (once the video is read, not while it comes
    # in): a second upload at once, a double click or two tabs, waits here, then finds the
    # first waiting for review, as one sent after it would.
    lock_row(User, user.id)
    refusal = may_submit(user, program)
    if refusal:
        raise PracticalError(refusal)
    key = (
        f"programs/practicals/{program.id}/{user.id}/"
        f"{utcnow():%Y%m%d%H%M%S}-{secrets.token_hex(8)}.{video.extension}"
    )
    get_storage().save(key, video.stream, video.content_type)
    submission = PracticalSubmission(
        program_id=program.id,
        user_id=user.id,
        storage_key=key,
        filename=shown_name(filename),
        content_type=video.content_type,
        size_bytes=video.size,
    )
    db.session.add(submission)
    db.session.flush()
    return submission


def earlier_reviews(submission: PracticalSubmission) -> list[PracticalSubmission]:
    """The candidate's reviewed videos of this program sent before this one, newest first."""
    return list(
        db.session.scalars(
            select(PracticalSubmission)
            .where(
                PracticalSubmission.user_id == submission.user_id,
                PracticalSubmission.program_id == submission.program_id,
                PracticalSubmission.id < submission.id,
                PracticalSubmission.status != "submitted",
            )
            .order_by(PracticalSubmission.id.desc())
        )
    )


def rubric_key(program: Program) -> str:
    """A short fingerprint of the program's rubric, as a review form shows it."""
    return hashlib.sha256("\n".join(program.criteria).encode()).hexdigest()[:16]


def review(
    submission: PracticalSubmission,
    reviewer: User,
    marks: dict[str, bool],
    decision: str,
    comments: str,
) -> None:
    """Pass the practical (every rubric criterion met) or return it with comments."""
    # Read again under a row lock held to the commit: two assessors deciding at once would
    # each find it waiting, and the second's verdict would overwrite the first after the
    # candidate was emailed the first (and a credential queued on a pass now "returned").
    lock_row(PracticalSubmission, submission.id)
    db.session.refresh(submission)
    if submission.status != "submitted":
        raise PracticalError("This video has been reviewed already.")
    if reviewer.id == submission.user_id:
        # A credential rests on someone else's judgement of the technique.
        raise PracticalError("Your own practical is reviewed by another assessor.")
    criteria = submission.program.criteria
    marks = {c: bool(marks.get(c)) for c in criteria}
    comments = (comments or "").strip()
    if decision == "pass":
        missing = [c for c, met in marks.items() if not met]
        if missing:
            raise PracticalError("A pass needs every rubric criterion met: " + "; ".join(missing))
    elif decision == "return":
        # Zero-width characters or a lone accent alone would tell the candidate nothing.
        if not says_something(comments):
            raise PracticalError(
                "Say what to improve: a returned video needs comments.", field="comments"
            )
    else:
        raise PracticalError("Choose pass or return.", field="decision")
    submission.status = "passed" if decision == "pass" else "returned"
    submission.rubric_marks = marks
    submission.comments = comments
    submission.reviewer_id = reviewer.id
    submission.reviewer_name = reviewer.full_name
    submission.reviewed_at = utcnow()
    db.session.flush()


def videos_due(now: datetime | None = None) -> list[int]:
    """The reviewed practicals whose video has outlived PRACTICAL_VIDEO_RETENTION_DAYS.

    The final review is the candidate's pass: it ends their videos for the program, the ones
    returned before it too. A video waiting for review, or returned and not yet followed by a
    pass (the candidate may still answer it), is kept.
    """
    days = int(current_app.config["PRACTICAL_VIDEO_RETENTION_DAYS"])
    cutoff = (now or utcnow()) - timedelta(days=days)
    final = aliased(PracticalSubmission)
    passed_since = exists().where(
        final.user_id == PracticalSubmission.user_id,
        final.program_id == PracticalSubmission.program_id,
        final.id >= PracticalSubmission.id,
        final.status == "passed",
        final.reviewed_at <= cutoff,
    )
    return list(
        db.session.scalars(
            select(PracticalSubmission.id)
            .where(
                PracticalSubmission.video_removed_at.is_(None),
                PracticalSubmission.status != "submitted",
                passed_since,
            )
            .order_by(PracticalSubmission.id)
        )
    )


def remove_video(submission_id: int) -> bool:
    """Delete a reviewed practical's video, then mark it removed; the review stays.

    The file goes first: a run cut short after it (a killed worker, a failed commit) leaves
    the video due, and the next run finds the file gone and marks it. Marked first, a file
    that could not go would be left in storage with nothing to remove it again.
    """
    submission = db.session.scalar(
        select(PracticalSubmission).where(PracticalSubmission.id == submission_id).with_for_update()
    )
    if submission is None or submission.video_removed_at is not None:
        return False  # removed already (another run, or the account's deletion)
    get_storage().delete(submission.storage_key)
    submission.video_removed_at = utcnow()
    db.session.flush()
    return True

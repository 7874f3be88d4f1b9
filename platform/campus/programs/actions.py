"""Program actions: every change a candidate, assessor or admin makes, each with its audit entry.

Actions flush; the view, admin page or task that called them commits. Work that follows a
change (issuing the credential, mailing the candidate) is queued to run after that commit.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import IO

from flask import current_app
from sqlalchemy import select

from campus import dates
from campus.accounts.models import User
from campus.audit import record, snapshot
from campus.extensions import db
from campus.jobs import enqueue_after_commit
from campus.learning.keeping import refusal, was_in_force
from campus.learning.models import Course
from campus.learning.services import approval_problem
from campus.mail.services import queue_email
from campus.models.base import utcnow
from campus.models.writes import lock_row
from campus.programs import exam, issuing, practicals, retired
from campus.programs.models import (
    Credential,
    ExamSitting,
    PracticalSubmission,
    Program,
    ProgramCourse,
)
from campus.programs.progress import credential_within_reach, progress
from campus.urls import public_url

ISSUE_TASK = exam.ISSUE_TASK
CHECK_TASK = "campus.programs.check_program"


def _queue_issue(user_id: int, program_id: int) -> None:
    enqueue_after_commit(ISSUE_TASK, user_id, program_id)


def save_program(
    program: Program, *, created: bool, before: dict | None, actor: User | None
) -> None:
    """Log an admin's new or changed program; a change re-checks its candidates once committed."""
    db.session.flush()
    # A course row ticked for deletion in the form stays in the loaded list after the flush:
    # read again, the program is logged (and its requirements compared) as it was saved.
    db.session.expire(program, ["courses"])
    after = snapshot(program)
    if not created:
        requirements_changed(program, before, after)
        after = snapshot(program)
    record(
        "create" if created else "update",
        program,
        before=None if created else before,
        after=after,
        actor=actor,
    )


def _courses(state: dict, kind: str) -> set:
    return {row.get("course_id") for row in state.get("courses", []) if row.get("kind") == kind}


def _hours(state: dict) -> Decimal:
    return Decimal(str(state.get("elective_hours") or 0))


def lowered(before: dict | None, after: dict) -> bool:
    """Tell whether a change of a program's state asks less of some candidate than before.

    Only such a change can complete anyone: a requirement dropped (a required course, the
    practical, the license), fewer elective hours, more courses to earn them in, or more
    professions admitted (none listed admits every profession).
    """
    old = before or {}
    old_professions, new_professions = (
        set(old.get("professions") or ()),
        set(after.get("professions") or ()),
    )
    return (
        bool(_courses(old, "required") - _courses(after, "required"))
        or (bool(old.get("practical_required")) and not after.get("practical_required"))
        or (bool(old.get("license_required")) and not after.get("license_required"))
        or _hours(after) < _hours(old)
        or (_hours(after) > 0 and bool(_courses(after, "elective") - _courses(old, "elective")))
        or (
            bool(old_professions)
            and (not new_professions or bool(new_professions - old_professions))
        )
    )


def requirements_changed(program: Program, before: dict | None, after: dict) -> None:
    """Queue, after the commit, the check of who now meets the program's requirements or renews.

    Nothing else would look at them again: a candidate short of a requirement an admin then
    lowered took their last step before it, and the sweep looks back only so far.
    """
    if lowered(before, after):
        # Whoever this completes met every requirement only now: their credential is dated
        # from it, and the sweep counts it as their latest step should the check be lost. A
        # change asking more completes no one, and moves no date of one whose issuing was lost.
        program.requirements_changed_at = utcnow()
        db.session.flush()
    enqueue_after_commit(CHECK_TASK, program.id)


def start_exam(user: User, program: Program, now: datetime | None = None) -> ExamSitting:
    """Start (or return) the candidate's sitting once the program's rules allow it."""
    state = progress(user, program, now)
    if not state.eligibility.ok:
        raise exam.ExamError(" ".join(state.eligibility.reasons))
    if not state.courses_done:
        raise exam.ExamError("Complete every required course before the exam.")
    if state.exam.open_sitting is None and issuing.awaiting_renewal(state, now):
        raise exam.ExamError(
            "Your credential will be renewed on the CE hours you earned within it at the next "
            "nightly renewal check: you need not pass the exam again."
        )
    sitting, started = exam.start(user, program, now)
    if started:
        record(
            "program_exam_start",
            sitting,
            summary=f"{user.email} started sitting {sitting.number} of {program.title}",
            actor=user,
        )
    return sitting


def save_answers(
    user: User, sitting: ExamSitting, answers: dict[int, int], now: datetime | None = None
) -> None:
    """Keep answers on the candidate's own open sitting (autosave; not audited per click)."""
    if sitting.user_id != user.id:
        raise exam.ExamError("That sitting is not yours.")
    exam.save_answers(sitting, answers, now)


def submit_exam(
    user: User, sitting: ExamSitting, answers: dict[int, int], now: datetime | None = None
) -> None:
    """Submit the candidate's sitting: score it, and queue the credential if that completes it."""
    if sitting.user_id != user.id:
        raise exam.ExamError("That sitting is not yours.")
    if not exam.submit(sitting, answers, now):
        return  # the same submission sent again: scored, logged and queued the first time
    record(
        "program_exam_submit",
        sitting,
        summary=f"{user.email} scored {sitting.score_percent}% on sitting {sitting.number}"
        f" of {sitting.program.title} ({'passed' if sitting.passed else 'failed'})",
        actor=user,
    )
    if sitting.passed:
        _queue_issue(user.id, sitting.program_id)


def close_expired_sitting(sitting_id: int) -> bool:
    """Close a sitting whose deadline passed, scored on what it holds (the worker's sweep)."""
    sitting = db.session.get(ExamSitting, sitting_id)
    return sitting is not None and exam.expire(sitting)


def submit_practical(
    user: User, program: Program, stream: IO[bytes], filename: str
) -> PracticalSubmission:
    """Check and store the candidate's video for review."""
    refusal = practicals.may_submit(user, program)
    if refusal:
        raise practicals.PracticalError(refusal)
    video = practicals.read_video(stream, filename)
    submission = practicals.store(user, program, video, filename)
    record(
        "program_practical_submit",
        submission,
        summary=f"{user.email} sent a practical video for {program.title}",
        actor=user,
    )
    return submission


def review_practical(
    submission: PracticalSubmission,
    reviewer: User,
    marks: dict[str, bool],
    decision: str,
    comments: str,
) -> None:
    """Pass or return a practical; the candidate is emailed either way."""
    # Not the video's file name: the candidate's own words, which their account's deletion must
    # take with it, while this entry is the assessor's and stays.
    before = _state(submission, "filename", "storage_key")
    practicals.review(submission, reviewer, marks, decision, comments)
    record(
        "program_practical_review",
        submission,
        summary=f"{reviewer.email} {submission.status} the practical of {submission.user.email}"
        f" for {submission.program.title}",
        # The rubric's marks and the comments as decided: the verdict's grounds, kept with it.
        before=before,
        after=_state(submission, "filename", "storage_key"),
        actor=reviewer,
    )
    verdict = "passed" if submission.status == "passed" else "returned"
    queue_email(
        submission.user.email,
        f"Your practical assessment was {verdict}",
        "program_practical_reviewed",
        dedupe_key=f"program-practical-reviewed:{submission.id}",
        submission=submission,
        program_url=public_url("programs.detail", slug=submission.program.slug),
        within_reach=credential_within_reach(submission.user, submission.program),
        # On a retired program the email links to its page only where the page still opens to
        # the candidate (other work of theirs goes on there): else the link would be a 404.
        page_opens=submission.program.published
        or retired.has_work_in(submission.user, submission.program),
    )
    if submission.status == "passed":
        _queue_issue(submission.user_id, submission.program_id)


def issue_again(credential: Credential, actor: User | None) -> None:
    """Queue a credential whose issuing failed with a fresh count of tries, and log it."""
    if credential.status != "failed":
        raise issuing.CredentialError("Only a credential whose issuing failed is issued again.")
    if credential.queued_again:  # a second click before a worker took it: not queued twice
        raise issuing.CredentialError("It is queued for issuing already.")
    error = credential.last_error or "an error"
    # The sweep stops at CREDENTIAL_SWEEP_MAX_ATTEMPTS: a fixed cause earns a full set again.
    credential.attempts = 0
    record(
        "program_credential_issue_again",
        credential,
        summary=f"queued {credential.code} for issuing again after: {error}"[:500],
        actor=actor,
    )
    _queue_issue(credential.user_id, credential.program_id)


def revoke_credential(credential: Credential, reason: str, actor: User | None) -> None:
    """Revoke a credential with a reason (admin or operator); it stops showing at once."""
    before = _state(credential, "data")  # not its frozen text: the credential itself keeps it
    issuing.revoke(credential, reason, actor=f"admin {actor.email}" if actor else "cli")
    record(
        "program_credential_revoke",
        credential,
        summary=f"revoked {credential.code} ({credential.data.get('program_title')}): {reason}",
        before=before,
        after=_state(credential, "data"),
        actor=actor,
    )
    # As a certificate's holder is: told by us, with the reason, not by a client who checked.
    queue_email(
        credential.user.email,
        "Your credential has been revoked",
        "program_credential_revoked",
        dedupe_key=f"program-credential-revoked:{credential.id}",  # revoked once, for good
        credential=credential,
        reason=credential.revoked_reason,
        verify_url=public_url("programs.verify", code=credential.code),
        provider_name=current_app.config["PROVIDER_NAME"],
    )


def _state(obj: Credential | PracticalSubmission, *left_out: str) -> dict:
    """An object's columns for its audit entry, without those named."""
    data = snapshot(obj)
    for key in left_out:
        data.pop(key, None)
    return data


def renew_credential(credential_id: int, today) -> bool:
    """Extend a credential whose renewal hours are earned (the worker's renewal check)."""
    # Locked to the commit: the nightly run and the check after each completed course may
    # renew one credential at once; the second waits, then finds its new period not yet earned.
    lock_row(Credential, credential_id)
    credential = db.session.get(Credential, credential_id, populate_existing=True)
    if credential is None:
        return False
    before = credential.valid_until
    if not issuing.renew(credential, today):
        return False
    record(
        "program_credential_renew",
        credential,
        summary=f"renewed {credential.code}: valid until {before} -> {credential.valid_until}",
        system=True,  # run eagerly, it is inside the request of the member who completed a course
    )
    # The PDF they keep and the issuing email still give the old date: say the new one.
    queue_email(
        credential.user.email,
        f"Your credential is renewed: {credential.data.get('program_title', '')}",
        "program_credential_renewed",
        # Once per renewal, however often the nightly run and the course check meet it.
        dedupe_key=f"program-credential-renewed:{credential.id}:{credential.valid_until}",
        credential=credential,
        verify_url=public_url("programs.verify", code=credential.code),
        program_url=public_url("programs.detail", slug=credential.program.slug),
        provider_name=current_app.config["PROVIDER_NAME"],
    )
    return True


def candidates_with_records(program: Program) -> int:
    """How many members hold a sitting, a practical or a credential of this program."""
    members: set[int] = set()
    for model in (ExamSitting, PracticalSubmission, Credential):
        members.update(
            db.session.scalars(
                select(model.user_id).where(model.program_id == program.id).distinct()
            )
        )
    return len(members)


def programs_listing(course_id: int) -> list[str]:
    """The titles of the programs that list the course, required or elective."""
    return list(
        db.session.scalars(
            select(Program.title)
            .join(ProgramCourse, ProgramCourse.program_id == Program.id)
            .where(ProgramCourse.course_id == course_id)
            .order_by(Program.title)
        )
    )


def _needs(program: Program, course: Course) -> bool:
    """Tell whether no candidate could complete the program with the course closed."""
    links = [link for link in program.courses if link.course is not None]
    if any(link.course_id == course.id and link.kind == "required" for link in links):
        return True
    others = [
        link.course.ce_hours
        for link in links
        if link.kind == "elective" and link.course_id != course.id and link.course.is_published
    ]
    return Decimal(program.elective_hours or 0) > sum((Decimal(h) for h in others), Decimal(0))


def check_unpublish(course: Course, before: dict | None = None) -> str | None:
    """Refuse to close a course a published program needs; warn instead when no approval of it
    is in force (lapsed, or not started: its certificates would print none, so it must close).

    `before` is the course's snapshot before the form that closes it: an approval in force
    then still refuses, though the same form moved it out of force.
    """
    programs = db.session.scalars(
        select(Program)
        .join(ProgramCourse, ProgramCourse.program_id == Program.id)
        .where(ProgramCourse.course_id == course.id, Program.published.is_(True))
        .order_by(Program.title)
    )
    titles = ", ".join(p.title for p in programs if _needs(p, course))
    if not titles:
        return None
    if approval_problem(course) is None or _approved(before):
        raise refusal(
            f"{course.title} cannot be unpublished: the published program(s) {titles} need it, "
            "and no candidate could complete them without it. Take it out of the program(s), "
            "or unpublish them first."
        )
    return (
        f"{course.title} is unpublished, as no board approval of it is in force today: no "
        f"candidate can complete {titles} until it is approved and published again, or taken "
        "out of the program(s)."
    )


def _approved(before: dict | None) -> bool:
    """Tell whether a course's snapshot holds a board approval in force today."""
    today = dates.today()
    return any(was_in_force(row, today) for row in (before or {}).get("approvals") or ())

"""What the credential sweep re-issues: credentials left pending or failed, and ones never made.

Issuing is queued by a passed exam, a passed practical and a completed course. When that message
is lost (the broker down at commit, a killed worker on a broker that never redelivers) or the
task gives up after its retries, the work is still in the database: a pending or failed
credential row, or a member whose requirements are all met and who holds no credential. Both
are found here, in bounded batches, and handed back to the issuing task, which is idempotent.
A license brought up to date on file queues nothing: the sweep looks at its holder again.
A change to a program's requirements is checked the same way, for that program's candidates.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from itertools import count
from typing import cast

from flask import current_app
from sqlalchemy import (
    CompoundSelect,
    CursorResult,
    Subquery,
    and_,
    func,
    or_,
    select,
    union_all,
    update,
)

from campus import dates
from campus.accounts.models import User
from campus.extensions import db
from campus.learning.models import Enrollment
from campus.licenses.models import License
from campus.models.base import utcnow
from campus.programs.models import (
    Credential,
    ExamSitting,
    PracticalSubmission,
    Program,
    ProgramCourse,
)
from campus.programs.progress import progress

log = logging.getLogger(__name__)

_PAGE = 200  # candidates read at a time


def stuck_credentials(now: datetime | None = None, limit: int = 200) -> list[tuple[int, int]]:
    """(holder, program) of credentials pending or failed for a while, short of the last try.

    A credential that failed CREDENTIAL_SWEEP_MAX_ATTEMPTS times stays failed, with its error,
    rather than being written and mailed about on every sweep.
    """
    now = now or utcnow()
    config = current_app.config
    stale = now - timedelta(seconds=config["CREDENTIAL_SWEEP_AFTER"])
    rows = db.session.execute(
        select(Credential.user_id, Credential.program_id)
        .where(
            Credential.status.in_(("pending", "failed")),
            Credential.updated_at < stale,
            Credential.attempts < config["CREDENTIAL_SWEEP_MAX_ATTEMPTS"],
        )
        .order_by(Credential.updated_at, Credential.id)
        .limit(limit)
    )
    return [(user_id, program_id) for user_id, program_id in rows]


def give_up_cut_off(now: datetime | None = None) -> int:
    """Mark failed the credentials left pending after their last try; return how many.

    Only a try cut off by its worker's death (a crash, the OOM killer) leaves one pending: out
    of tries it would sit there for good, sent no more and not failed for an admin to issue
    again. The caller commits.
    """
    now = now or utcnow()
    config = current_app.config
    stale = now - timedelta(seconds=config["CREDENTIAL_SWEEP_AFTER"])
    given_up = db.session.execute(
        update(Credential)
        .where(
            Credential.status == "pending",
            Credential.updated_at < stale,
            Credential.attempts >= config["CREDENTIAL_SWEEP_MAX_ATTEMPTS"],
        )
        .values(status="failed", last_error="issuing cut off on every try (its worker died)")
        .execution_options(synchronize_session=False)
    )
    failed = cast(CursorResult, given_up).rowcount
    if failed:
        log.error("gave up %d credentials whose issuing killed its worker every time", failed)
    return failed


def _recent_steps(since: datetime, until: datetime) -> CompoundSelect:
    """(user, program, when) of every step that may have been a program's last, in the window."""
    exams = select(
        ExamSitting.user_id, ExamSitting.program_id, ExamSitting.closed_at.label("at")
    ).where(
        ExamSitting.passed.is_(True),
        ExamSitting.closed_at >= since,
        ExamSitting.closed_at < until,
    )
    practicals = select(
        PracticalSubmission.user_id,
        PracticalSubmission.program_id,
        PracticalSubmission.reviewed_at.label("at"),
    ).where(
        PracticalSubmission.status == "passed",
        PracticalSubmission.reviewed_at >= since,
        PracticalSubmission.reviewed_at < until,
    )
    courses = (
        select(Enrollment.user_id, ProgramCourse.program_id, Enrollment.completed_at.label("at"))
        .join(ProgramCourse, ProgramCourse.course_id == Enrollment.course_id)
        .where(Enrollment.completed_at >= since, Enrollment.completed_at < until)
    )
    # A license entered or renewed on file: a member whose license ran out while their last
    # step waited (a video in the assessors' queue) is due once it is current again, however
    # long after that step, and nothing else would look at them again.
    licenses = (
        select(License.user_id, Program.id, License.updated_at.label("at"))
        .join(Program, Program.license_required.is_(True))
        .where(License.updated_at >= since, License.updated_at < until)
    )
    # A program's requirements changed (an admin's save, an import): every member who passed
    # its exam may meet them now, and the check queued after the save may have been lost.
    edits = (
        select(
            ExamSitting.user_id,
            ExamSitting.program_id,
            Program.requirements_changed_at.label("at"),
        )
        .join(Program, Program.id == ExamSitting.program_id)
        .where(
            _unspent_pass(),
            Program.requirements_changed_at >= since,
            Program.requirements_changed_at < until,
        )
    )
    return union_all(exams, practicals, courses, licenses, edits)


def _unspent_pass():
    """A passed sitting no credential was earned on: a lapsed holder needs a pass since."""
    # Else every holder whose credential ever lapsed would be read again on each sweep for
    # weeks after an edit of the program, while none of them can be due on that old pass.
    spent = (
        select(Credential.id)
        .where(
            Credential.user_id == ExamSitting.user_id,
            Credential.program_id == ExamSitting.program_id,
            Credential.earned_at >= ExamSitting.closed_at,
        )
        .exists()
    )
    return and_(ExamSitting.passed.is_(True), ~spent)


def due_without_credential(now: datetime | None = None, limit: int = 200) -> list[tuple[int, int]]:
    """(member, program) pairs whose every requirement is met and who hold no credential of it.

    Only a member who took a step (an exam or practical passed, a course completed, a license
    entered or changed), or passed the exam of a program changed since, within
    CREDENTIAL_SWEEP_LOOKBACK is looked at, and the query already
    asks for a passed exam and, where the program wants one, a passed practical; `progress`,
    the rule the pages and the issuing task use, decides the rest (courses, elective hours,
    profession and license).
    """
    now = now or utcnow()
    config = current_app.config
    until = now - timedelta(seconds=config["CREDENTIAL_SWEEP_AFTER"])
    since = now - timedelta(seconds=config["CREDENTIAL_SWEEP_LOOKBACK"])
    return _due(_recent_steps(since, until).subquery(), now, limit)


def due_in_program(program_id: int, now: datetime | None = None) -> list[tuple[int, int]]:
    """(member, program) pairs of one program whose every requirement is met and who hold no
    credential of it: after its requirements change, whenever each passed its exam."""
    now = now or utcnow()
    passed = select(
        ExamSitting.user_id, ExamSitting.program_id, ExamSitting.closed_at.label("at")
    ).where(ExamSitting.program_id == program_id, _unspent_pass())
    return _due(passed.subquery(), now, None)


def _due(steps: Subquery, now: datetime, limit: int | None) -> list[tuple[int, int]]:
    """Of the (user, program, at) `steps`, the pairs due a credential, newest step first."""
    user_id, program_id = steps.c.user_id, steps.c.program_id
    # A lapsed credential (issued, past its last day) does not count: the next period is earned
    # anew, and its issuing can be lost like the first one's.
    holds_one = (
        select(Credential.id)
        .where(
            Credential.user_id == user_id,
            Credential.program_id == program_id,
            ~and_(Credential.status == "issued", Credential.valid_until < dates.local_date(now)),
        )
        .exists()
    )
    passed_exam = (
        select(ExamSitting.id)
        .where(
            ExamSitting.user_id == user_id,
            ExamSitting.program_id == program_id,
            ExamSitting.passed.is_(True),
        )
        .exists()
    )
    passed_practical = (
        select(PracticalSubmission.id)
        .where(
            PracticalSubmission.user_id == user_id,
            PracticalSubmission.program_id == program_id,
            PracticalSubmission.status == "passed",
        )
        .exists()
    )
    candidates = (
        select(user_id, program_id)
        .join(Program, Program.id == program_id)
        .where(
            ~holds_one,
            passed_exam,
            or_(Program.practical_required.is_(False), passed_practical),
        )
        .group_by(user_id, program_id)
        # Newest first: a member still short of a requirement falls out of the window in time.
        .order_by(func.max(steps.c.at).desc(), user_id, program_id)
    )
    due: list[tuple[int, int]] = []
    # In pages, until `limit` are due: members still short of a requirement, however many,
    # must not hide one who is due behind them.
    for offset in count(0, _PAGE):
        page = db.session.execute(candidates.offset(offset).limit(_PAGE)).all()
        for member_id, a_program_id in page:
            user, program = db.session.get(User, member_id), db.session.get(Program, a_program_id)
            if user is not None and program is not None and progress(user, program, now).complete:
                due.append((member_id, a_program_id))
                if limit is not None and len(due) >= limit:
                    return due
        if len(page) < _PAGE:
            return due
    return due

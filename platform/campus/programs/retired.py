"""A retired (unpublished) program: who still opens its page, and what retiring it means to them.

Retiring a program stops new starts (of its exam, of a practical video) and takes it out of the
lists; work already in it goes on. A sitting under way is finished, a video waiting is reviewed,
a credential stays its holder's. The page stays open to a candidate with such work, and says so.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from campus.accounts.models import User
from campus.extensions import db
from campus.programs import issuing
from campus.programs.models import Credential, ExamSitting, PracticalSubmission, Program
from campus.programs.progress import Progress
from campus.templating import format_date


def has_work_in(user: User, program: Program) -> bool:
    """Tell whether the member holds a credential, an exam sitting or a waiting video in it."""
    queries = (
        select(Credential.id).where(
            Credential.user_id == user.id, Credential.program_id == program.id
        ),
        select(ExamSitting.id).where(
            ExamSitting.user_id == user.id, ExamSitting.program_id == program.id
        ),
        # A reviewed video alone opens nothing: a return ends it on a retired program, and a
        # pass without the exam earns no credential (its email links to no page).
        select(PracticalSubmission.id).where(
            PracticalSubmission.user_id == user.id,
            PracticalSubmission.program_id == program.id,
            PracticalSubmission.status == "submitted",
        ),
    )
    return any(db.session.scalar(query.limit(1)) is not None for query in queries)


def retirement_note(state: Progress, today: date) -> list[str]:
    """Say, sentence by sentence, what the program's retirement means for this candidate."""
    said = ["This program is retired: it is no longer offered, and nobody can start it now."]
    credential = state.credential
    if credential is not None and credential.status != "issued":
        return said  # being issued, or revoked: the side panel says which, as before
    if credential is not None and credential.status_on(today) == "valid":
        until = format_date(credential.valid_until)
        said.append(
            f"Your credential stays valid until {until}, and its verification page still shows it."
        )
        return said
    if credential is not None and issuing.awaiting_renewal(state):
        return said  # the renewal goes on: the exam section says so
    exam = state.exam
    if exam.open_sitting is not None:
        said.append("You can still finish the exam you started, until its deadline.")
    elif exam.passed is None:
        said.append(
            "Your credential cannot be earned again: no new attempt at its exam can start."
            if credential is not None
            else "Your attempts are kept here, but no new attempt at its exam can start."
        )
    practical = state.practical if state.practical_required else None
    if practical is not None and practical.status == "submitted":
        if exam.passed is not None:
            said.append(
                "Your video will still be reviewed, and a pass counts toward the credential."
            )
        elif exam.open_sitting is not None:
            said.append(
                "Your video will still be reviewed; a pass counts toward the credential if you "
                "pass the exam you started."
            )
        else:
            said.append(
                "Your video will still be reviewed, but as you have not passed its exam, which "
                "can no longer be taken, a pass earns no credential."
            )
    elif exam.passed is not None and not state.practical_passed:
        said.append("No practical video can be sent now, so the credential cannot be completed.")
    return said

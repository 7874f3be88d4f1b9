"""What a signed-in member's home page shows: where to continue, their membership, certificates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from campus.accounts.models import User
from campus.billing import access
from campus.billing.access import MembershipState, comp_outlasting, membership_state
from campus.certificates.models import Certificate
from campus.certificates.services import standing_of
from campus.learning.reports import EnrollmentRow, enrollment_rows

SHOWN_CERTIFICATES = 3


@dataclass(frozen=True)
class MemberHome:
    """The signed-in home page's three parts."""

    resume: EnrollmentRow | None  # the course studied most recently and not finished
    in_progress: int
    completed: int
    membership: MembershipState
    certificates: list[Certificate]  # the newest standing, at most SHOWN_CERTIFICATES
    certificate_count: int
    certificate_hours: Decimal
    comp_until: datetime | None = None  # a comp grant outlasting a paid membership that ends


def _comp_until(state: MembershipState, user: User) -> datetime | None:
    """When a comp grant ends, if it keeps access past the end of a cancelled paid membership."""
    sub = state.subscription
    if sub is None or state.status == "comp" or not state.cancel_at_period_end:
        return None
    ends = state.current_period_end
    return comp_outlasting(user.id, ends) if ends is not None else None


def member_home(user: User) -> MemberHome:
    """Gather what the member's home page shows, in a fixed number of queries."""
    rows = enrollment_rows(user)  # most recent activity first
    unfinished = [r for r in rows if not r.enrollment.is_complete]
    # A certificate being reissued still stands (as on the transcript): counted, not linked.
    issued = standing_of(user)
    membership = membership_state(user)
    return MemberHome(
        resume=unfinished[0] if unfinished else None,
        in_progress=len(unfinished),
        completed=len(rows) - len(unfinished),
        membership=membership,
        certificates=issued[:SHOWN_CERTIFICATES],
        certificate_count=len(issued),
        certificate_hours=sum((c.ce_hours for c in issued), Decimal("0")),
        comp_until=_comp_until(membership, user),
    )


def past_due_notice(user: User) -> dict | None:
    """Describe a failed renewal the member must act on, or None (cancelled ones need nothing)."""
    state = membership_state(user)
    sub = state.subscription
    if sub is None or sub.cancel_at_period_end:
        return None
    if state.status == "unpaid":
        # Stripe stopped retrying but holds the invoice open: paying it restores access.
        return {"has_access": False, "grace_ends": None}
    if state.status != "past_due":
        return None
    since: datetime | None = sub.past_due_since or sub.current_period_end
    grace_ends = access.grace_ends(since) if since else None
    return {"has_access": state.has_access, "grace_ends": grace_ends}

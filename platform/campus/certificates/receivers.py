"""Listen to the courses feature: an evaluated, completed enrollment gets its certificate.

Completion alone is not enough: the learner evaluates the course and attests that they did
it themselves first (campus.learning.evaluation), so the certificate is queued on that.
"""

from __future__ import annotations

from campus.jobs import enqueue_after_commit
from campus.learning.signals import enrollment_evaluated


@enrollment_evaluated.connect
def _issue_on_evaluation(_sender, enrollment_id: int, **_extra) -> None:
    enqueue_after_commit("campus.certificates.issue_certificate", enrollment_id)

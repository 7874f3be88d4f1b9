"""Listen to the courses feature: a completed enrollment gets its certificate from the worker."""

from __future__ import annotations

from campus.jobs import enqueue_after_commit
from campus.learning.signals import enrollment_completed


@enrollment_completed.connect
def _issue_on_completion(_sender, enrollment_id: int, **_extra) -> None:
    enqueue_after_commit("campus.certificates.issue_certificate", enrollment_id)

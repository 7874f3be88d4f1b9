"""Completed courses may finish a program or renew its credential: check the holder after one."""

from __future__ import annotations

from typing import Any

from campus.jobs import enqueue_after_commit
from campus.learning.signals import enrollment_completed


@enrollment_completed.connect
def _check_holder(sender: Any, enrollment_id: int, **extra: Any) -> None:
    enqueue_after_commit("campus.programs.check_enrollment", enrollment_id)

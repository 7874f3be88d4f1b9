"""Signals other features listen to (certificates issue one when an enrollment completes)."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# Sent inside the completing transaction as send(None, enrollment_id=...); receivers that start
# work should use campus.jobs.enqueue_after_commit so nothing runs for a rolled-back completion.
enrollment_completed = _signals.signal("enrollment-completed")

# Sent when a completed enrollment's evaluation and attestation are stored (same contract as
# above); the certificate is queued on this one, not on completion.
enrollment_evaluated = _signals.signal("enrollment-evaluated")

"""Signals other features listen to (billing tells Stripe when a member's email changes)."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# Sent inside the changing transaction as send(None, user_id=...) once a member's new address
# took effect; receivers that start work should use campus.jobs.enqueue_after_commit so nothing
# runs for a rolled-back change.
email_changed = _signals.signal("email-changed")

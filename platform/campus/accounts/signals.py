"""Signals other features listen to (billing tells Stripe a member's new email or name)."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# Sent inside the changing transaction as send(None, user_id=...) once the change took effect;
# receivers that start work should use campus.jobs.enqueue_after_commit so nothing runs for a
# rolled-back change.
email_changed = _signals.signal("email-changed")
name_changed = _signals.signal("name-changed")

"""Signals of the certificates feature."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# Sent by the issuing task as send(None, certificate_id=...) once the PDF is stored and the row
# marked issued, just before that transaction commits. Nothing in Campus listens; it is the
# point where a crash tests whether issuing stays exactly-once.
certificate_stored = _signals.signal("certificate-stored")

# Sent by certificates.actions.revoke as send(None, certificate_id=..., actor=...) inside the
# revoking transaction (actor: the admin, None for a command): the reporting feature marks
# what a board already holds as due to be withdrawn, and logs it as that actor's.
certificate_revoked = _signals.signal("certificate-revoked")

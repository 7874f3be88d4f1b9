"""Listen to the certificates feature: an issued certificate queues its reports, a revoked one
marks what a board already holds as due to be withdrawn."""

from __future__ import annotations

from campus.certificates.signals import certificate_revoked, certificate_stored
from campus.reporting import actions, services


@certificate_stored.connect
def _queue_reports(_sender, certificate_id: int, **_extra) -> None:
    # Sent inside the issuing transaction: the report rows commit (or roll back) with it. A
    # reissue for a license in another state first leaves the old state's board and tells the
    # new one; a reissue after a revocation puts back what the revocation took from the board.
    actions.follow_license_move(certificate_id)
    actions.restore_after_reissue(certificate_id)
    services.queue_for_certificate(certificate_id)
    # A reissue that corrected the license: the board holds the hours under the old number.
    actions.correct_after_reissue(certificate_id)


@certificate_revoked.connect
def _flag_withdrawals(_sender, certificate_id: int, actor=None, **_extra) -> None:
    # Inside the revoking transaction: the flag commits (or rolls back) with the revocation.
    actions.flag_withdrawals(certificate_id, actor=actor)

"""Listen to the certificates feature: an issued certificate queues its reports."""

from __future__ import annotations

from campus.certificates.signals import certificate_stored
from campus.reporting import services


@certificate_stored.connect
def _queue_reports(_sender, certificate_id: int, **_extra) -> None:
    # Sent inside the issuing transaction: the report rows commit (or roll back) with it.
    services.queue_for_certificate(certificate_id)

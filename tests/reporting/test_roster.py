"""The roster file: every completion the board should hold, through a reissue too."""

from __future__ import annotations

from datetime import date

import pytest

from campus.extensions import db
from tests.reporting.helpers import completion, configure


def _roster_licenses() -> list[str]:
    """The license numbers in this year's (and last year's) roster (in an app context)."""
    import xml.etree.ElementTree as ET

    from campus.reporting import reading

    today = date.today()
    roster, _count = reading.roster("cebroker", date(today.year - 1, 1, 1), today)
    return [a.findtext("license") or "" for a in ET.fromstring(roster.content).iter("attendee")]


def _reissue_not_landed(c, reason: str, monkeypatch) -> None:
    """Reissue the certificate with its issuing task not run yet (in an app context)."""
    from campus.certificates import actions

    monkeypatch.setattr(actions, "enqueue_after_commit", lambda *args, **kwargs: None)
    actions.reissue(c.code, reason, actor=None)
    db.session.commit()


@pytest.mark.parametrize("landing", ["pending", "failed"])
def test_a_completion_stays_in_the_roster_while_its_reissue_is_pending(
    app, fake_cebroker, monkeypatch, landing
):
    # The reissue gave the certificate a new code and queued its issuing; until that lands
    # (or while it is retried after a failure) the completion still stands and the board
    # still holds it: the roster must not leave it out.
    from campus.certificates.models import Certificate

    configure(app, fake_cebroker)
    c = completion(app, "fl-roster", license_number="MA4321")
    with app.app_context():
        assert _roster_licenses() == ["MA4321"]
        _reissue_not_landed(c, "Name misspelled", monkeypatch)
        certificate = db.session.get(Certificate, c.certificate_id)
        assert certificate.status == "pending"
        certificate.status = landing
        db.session.commit()
        assert _roster_licenses() == ["MA4321"]


def test_a_revoked_completion_reissued_stays_out_of_the_roster_until_it_lands(
    app, fake_cebroker, monkeypatch
):
    # Revoked, it left the roster (the board is due to withdraw it); a reissue not landed yet
    # has not restored it.
    from campus.certificates import actions

    configure(app, fake_cebroker)
    c = completion(app, "fl-roster-revoked", license_number="MA4321")
    with app.app_context():
        actions.revoke(c.code, "Quiz answers shared", actor=None)
        db.session.commit()
        assert _roster_licenses() == []
        _reissue_not_landed(c, "Revoked in error", monkeypatch)
        assert _roster_licenses() == []

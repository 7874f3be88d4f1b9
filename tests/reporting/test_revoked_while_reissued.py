"""A certificate revoked while its reissue was still drawn: the board withdraws it as any other."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from campus.extensions import db
from tests.reporting.helpers import completion, configure, report_of
from tests.reporting.test_roster import _roster_licenses


def _reissue_left(app, c, state: str, monkeypatch) -> str:
    """Reissue the certificate with its new PDF not drawn (pending, or failed); its new code."""
    from campus.certificates import actions

    with app.app_context():
        with monkeypatch.context() as patch:
            patch.setattr(actions, "enqueue_after_commit", lambda *args, **kwargs: None)
            certificate = actions.reissue(c.code, "Name misspelled", actor=None)
        certificate.status = state
        db.session.commit()
        return certificate.code


@pytest.mark.parametrize("state", ["pending", "failed"])
def test_revoking_a_reissue_not_landed_makes_the_boards_withdrawal_due(
    app, fake_cebroker, monkeypatch, state
):
    from campus.audit import AuditEntry
    from campus.certificates import actions
    from campus.certificates.tasks import issue_certificate
    from campus.learning.models import Enrollment

    configure(app, fake_cebroker)
    c = completion(app, "fl-reissued", license_number="MA4321")  # accepted by the board
    new = _reissue_left(app, c, state, monkeypatch)
    with app.app_context():
        assert _roster_licenses() == ["MA4321"]  # it stands while the reissue is drawn
        actions.revoke(new, "Fraud found", actor=None)
        db.session.commit()
        report = report_of(c.certificate_id)
        assert report.status == "accepted" and report.withdrawal_pending
        assert _roster_licenses() == []
        [entry] = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "withdrawal_due")
        ).all()
        assert entry.summary.startswith(f"{new}: revoked, withdrawal from CE Broker")
        enrollment_id = db.session.scalars(select(Enrollment.id)).one()
        issue_certificate.run(enrollment_id)  # the cancelled reissue's message, late
        db.session.remove()
        assert report_of(c.certificate_id).withdrawal_pending
        assert _roster_licenses() == []
    assert len(fake_cebroker.messages) == 1  # nothing more is sent: withdrawal is by hand

    # Reinstated, as an ordinary revoked certificate is: the board holds it again.
    with app.app_context():
        actions.reissue(new, "Revoked in error", actor=None)
        db.session.commit()
        report = report_of(c.certificate_id)
        assert report.withdrawal_due_at is None and not report.withdrawal_pending
        assert _roster_licenses() == ["MA4321"]

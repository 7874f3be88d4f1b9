"""When a deleted member's records are purged, the log's entries about their reports lose them."""

from __future__ import annotations

import json

from sqlalchemy import select

from campus.audit import AuditEntry
from campus.extensions import db
from tests import support
from tests.reporting.helpers import completion, configure, report_of


def test_the_purge_takes_the_reported_name_and_license_out_of_the_log(app, client, fake_cebroker):
    from campus.certificates import actions
    from campus.records import retention
    from campus.records.models import RetentionHold
    from campus.reporting import actions as reporting_actions

    configure(app, fake_cebroker)
    c = completion(app, license_number="MA77777", full_name="Rosa Quintanilla")
    with app.app_context():
        actions.revoke(c.code, "Quiz answers shared", actor=None)
        db.session.commit()
        report_id = report_of(c.certificate_id).id
        # What the board was sent (name, license) is in the entry's before and after.
        reporting_actions.mark_withdrawn(report_id, actor=None)
        db.session.commit()
    support.login(client, c.email)
    deleted = support.post_form(
        client,
        "/account/delete",
        {"password": support.DEFAULT_PASSWORD, "code": "", "confirmation": "DELETE"},
    )
    assert deleted.status_code == 302
    with app.app_context():
        hold = db.session.scalars(select(RetentionHold)).one()
        assert retention.purge_hold(hold.id, today=hold.purge_after)
        db.session.commit()
        entries = db.session.scalars(select(AuditEntry)).all()
        # The entries stay (the withdrawal was recorded, and when), the person does not.
        assert "withdrawn" in {entry.action for entry in entries}
        kept = json.dumps([[e.summary, e.before, e.after] for e in entries])
        assert "MA77777" not in kept and "Quintanilla" not in kept


def test_the_purge_takes_a_corrected_license_number_out_of_the_log(app, client, fake_cebroker):
    # Accepted under a mistyped number, corrected by a reissue, and that first record withdrawn:
    # the log's correction and withdrawal name the old number, which the purge must take too.
    from campus.certificates import actions
    from campus.licenses.models import License
    from campus.records import retention
    from campus.records.models import RetentionHold
    from campus.reporting import actions as reporting_actions
    from tests.certificates.helpers import certificate_of

    configure(app, fake_cebroker)
    c = completion(app, license_number="MA77777", full_name="Rosa Quintanilla")
    with app.app_context():
        certificate = certificate_of(c.user_id)
        db.session.get(License, certificate.license_id).number = "MA88888"
        db.session.commit()
        actions.reissue(certificate.code, "License number mistyped", actor=None)
        db.session.commit()
    with app.app_context():
        report_id = report_of(c.certificate_id).id
        reporting_actions.mark_withdrawn(report_id, actor=None)
        db.session.commit()
    support.login(client, c.email)
    deleted = support.post_form(
        client,
        "/account/delete",
        {"password": support.DEFAULT_PASSWORD, "code": "", "confirmation": "DELETE"},
    )
    assert deleted.status_code == 302
    with app.app_context():
        hold = db.session.scalars(select(RetentionHold)).one()
        assert retention.purge_hold(hold.id, today=hold.purge_after)
        db.session.commit()
        entries = db.session.scalars(select(AuditEntry)).all()
        assert {"correct", "withdrawn"} <= {entry.action for entry in entries}
        kept = json.dumps([[e.summary, e.before, e.after] for e in entries])
        assert "MA77777" not in kept and "MA88888" not in kept

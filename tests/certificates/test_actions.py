"""Revoking and reissuing from the CLI are audited by the certificates' own actions."""

from __future__ import annotations

from sqlalchemy import select

from campus.audit import AuditEntry
from campus.extensions import db
from tests.certificates.helpers import code_of, completed_student


def _entries(app) -> list[AuditEntry]:
    with app.app_context():
        rows = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        db.session.expunge_all()
        return list(rows)


def test_cli_revoke_and_reissue_leave_operator_audit_entries(app):
    done = completed_student(app)
    code = code_of(app, done.user_id)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["certificates", "reissue", code, "--reason", "Name misspelled"])
    assert result.exit_code == 0, result.output
    new_code = code_of(app, done.user_id)
    result = runner.invoke(args=["certificates", "revoke", new_code, "--reason", "Fraud"])
    assert result.exit_code == 0, result.output
    reissue, revoke = _entries(app)
    assert (reissue.action, reissue.object_type) == ("reissue", "Certificate")
    assert reissue.summary == f"cli: {code}: reissue (Name misspelled)"
    assert reissue.before["code"] == code and reissue.after["code"] == new_code
    assert "data" not in reissue.after  # the frozen text stays with the certificate
    assert revoke.summary == f"cli: {new_code}: revoke (Fraud)"
    assert revoke.before["status"] == "issued" and revoke.after["status"] == "revoked"
    assert reissue.actor_id is None and revoke.actor_email == "system"


def test_a_refused_revoke_logs_nothing(app):
    done = completed_student(app)
    code = code_of(app, done.user_id)
    result = app.test_cli_runner().invoke(args=["certificates", "revoke", code, "--reason", " "])
    assert result.exit_code != 0 and "Give a reason" in result.output
    assert _entries(app) == []


def test_revoking_emails_the_member_once_with_the_reason(app):
    from tests import support

    done = completed_student(app)
    code = code_of(app, done.user_id)
    runner = app.test_cli_runner()
    reason = "Attendance could not be confirmed"
    assert runner.invoke(args=["certificates", "revoke", code, "--reason", reason]).exit_code == 0
    # Revoking again is refused and sends nothing more.
    assert runner.invoke(args=["certificates", "revoke", code, "--reason", reason]).exit_code != 0
    revoked = [
        m for m in support.outbox(app) if m["Subject"] == "Your certificate has been revoked"
    ]
    assert len(revoked) == 1 and revoked[0]["To"] == done.email
    body = support.body_of(revoked[0])
    assert f"Reason: {reason}" in body and code in body

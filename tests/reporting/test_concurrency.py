"""Two admins (or two clicks) resending one report at once queue and log it once."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.learning.test_concurrency import _race
from tests.reporting.helpers import completion, report_of


def test_resends_landing_at_once_queue_and_log_the_report_once(app, monkeypatch):
    from campus import jobs
    from campus.audit import AuditEntry
    from campus.extensions import db
    from campus.reporting import actions
    from campus.reporting.services import SEND_TASK, ReportingError

    c = completion(app)  # no CE Broker account set up: "not_configured", which may be resent
    with app.app_context():
        report_id = report_of(c.certificate_id).id
    sent: list = []
    real_send = jobs.send_task

    def send(celery_app, name, args=(), kwargs=None):
        if name == SEND_TASK:
            sent.append(args)  # kept queued: no worker answers while the race runs
            return
        real_send(celery_app, name, args, kwargs)

    monkeypatch.setattr(jobs, "send_task", send)

    results, errors = _race(app, 4, lambda: actions.resend(report_id, actor=None).status)
    assert results == ["pending"]
    assert len(errors) == 3 and all(isinstance(e, ReportingError) for e in errors)
    assert sent == [(report_id,)]
    with app.app_context():
        entries = db.session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "resend")
        )
        assert entries == 1

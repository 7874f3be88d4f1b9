"""Reports reached from two places at once: admins resending; an answer as the sweep gives up."""

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


def test_an_answer_stored_while_the_sweep_gives_up_leaves_the_report_accepted(app, monkeypatch):
    import threading
    from datetime import timedelta

    from campus.extensions import db
    from campus.models.base import utcnow
    from campus.reporting import sending
    from campus.reporting.adapters import Accepted

    c = completion(app)
    with app.app_context():
        # Its last try, sent long ago: the sweep takes it for a send that will never answer.
        report = report_of(c.certificate_id)
        report.status, report.reason, report.answered_at = "sent", None, None
        report.attempts = sending.max_attempts()
        report.sent_at = report.updated_at = utcnow() - timedelta(hours=2)
        db.session.commit()
        report_id = report.id
    # The sweep has read the report, still unanswered, when the answer comes in and is stored.
    read, answered = threading.Event(), threading.Event()
    real_settle = sending._settle

    def settle(report, status, *args, **kwargs):
        if status == "failed":
            read.set()
            answered.wait(timeout=2)
        return real_settle(report, status, *args, **kwargs)

    monkeypatch.setattr(sending, "_settle", settle)
    errors: list = []

    def in_context(work) -> None:
        with app.app_context():
            try:
                work()
                db.session.commit()
            except Exception as exc:  # asserted on below
                errors.append(exc)
            finally:
                db.session.remove()

    def sweep() -> None:
        in_context(sending.give_up_idle)

    def answer() -> None:
        read.wait(timeout=5)
        in_context(lambda: sending.record_outcome(report_id, Accepted(reference="R-1")))
        answered.set()

    threads = [threading.Thread(target=run) for run in (sweep, answer)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    with app.app_context():
        report = report_of(c.certificate_id)
        assert (report.status, report.reference) == ("accepted", "R-1")

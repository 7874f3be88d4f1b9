"""Every task's retry waits less than the broker's visibility timeout, whatever it is set to."""

from __future__ import annotations

import pytest

from campus.billing import tasks as billing
from campus.certificates import tasks as certificates
from campus.mail import tasks as mail
from campus.programs import tasks as programs
from campus.records import tasks as records
from campus.reporting import tasks as reporting

# Each module's backoff and the tasks that wait by it.
RETRYING = [
    (billing, billing.process_webhook_event),
    (billing, billing.drain_webhook_events),
    (billing, billing.sync_customer_email),
    (billing, billing.deliver_simulated_event),
    (certificates, certificates.issue_certificate),
    (programs, programs.issue_credential),
    (reporting, reporting.send_report),
    (mail, mail.deliver_email),
    (records, records.build_export),
]


@pytest.mark.parametrize(
    ("module", "task"), RETRYING, ids=[task.name for _module, task in RETRYING]
)
def test_no_retry_waits_past_a_shortened_visibility_timeout(app, monkeypatch, module, task):
    # CELERY_VISIBILITY_TIMEOUT set to five minutes: Redis hands a message nobody acknowledged
    # within it to another worker, and a retry waits unacknowledged in the worker that took it.
    # Held longer, the retry would run twice, and a failing run would fork its chain of retries.
    monkeypatch.setattr(billing.random, "uniform", lambda _low, high: high)
    celery = app.extensions["celery"]
    monkeypatch.setitem(celery.conf, "broker_transport_options", {"visibility_timeout": 300})
    with app.app_context():
        waits = [module._backoff(retries) for retries in range(task.max_retries)]
    # With room to run: the wait and the run both count against the timeout.
    assert max(waits) <= 250
    assert waits == sorted(waits) and waits[0] >= 1


def test_retry_waits_are_kept_as_they_were_under_the_default_hour(app, monkeypatch):
    monkeypatch.setattr(billing.random, "uniform", lambda _low, high: high)
    celery = app.extensions["celery"]
    monkeypatch.setitem(celery.conf, "broker_transport_options", {"visibility_timeout": 3600})
    with app.app_context():
        assert [mail._backoff(n) for n in range(9)] == [10 * 2**n for n in range(9)]
        assert billing._backoff(20) == billing.MAX_RETRY_WAIT == 3000
        assert records._backoff(2) == 120

"""The Celery app of the scale-out test's worker and beat machines: the real app, on a queue of
their own, with one probe entry a second for beat.

The suite's own session worker shares the broker: on the queue `CAMPUS_TEST_QUEUE` names, only
these machines see the test's tasks. Beat sends `campus.certificates.sweep_certificates` (cheap,
idempotent) once a second and nothing else, so the test can count the runs the workers saw
against what the one beat sent.
"""

from __future__ import annotations

import os

from workers import app

PROBE = "scale-out-probe"
app.conf.task_default_queue = os.environ["CAMPUS_TEST_QUEUE"]
app.conf.beat_schedule = {
    PROBE: {"task": "campus.certificates.sweep_certificates", "schedule": 1.0},
}

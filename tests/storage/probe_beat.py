"""The Celery app of the scale-out test's beat: the real app with one probe entry a second.

`celery -A tests.storage.probe_beat beat` sends `campus.certificates.sweep_certificates` (cheap,
idempotent) once a second and nothing else, so the test can count the runs the workers see
against what the one beat sent.
"""

from __future__ import annotations

from workers import app

PROBE = "scale-out-probe"
app.conf.beat_schedule = {
    PROBE: {"task": "campus.certificates.sweep_certificates", "schedule": 1.0},
}

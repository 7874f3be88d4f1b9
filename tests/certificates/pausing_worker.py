"""The Celery app of the kill tests' worker: the real worker, plus a pause just before issuing
commits, so a test can kill the process while it holds the row lock with the PDF stored.

Start it with `celery -A tests.certificates.pausing_worker worker` and CERTIFICATE_PAUSE_DIR set
to a folder holding a file named `armed`.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from campus.certificates.signals import certificate_stored
from workers import app  # noqa: F401  (what `celery -A` loads)


def _pause(_sender, **_extra) -> None:
    folder = Path(os.environ["CERTIFICATE_PAUSE_DIR"])
    try:
        # Renaming is atomic: only the first delivery of the task pauses, its redelivery runs on.
        os.rename(folder / "armed", folder / "claimed")
    except FileNotFoundError:
        return
    (folder / "reached.tmp").write_text(str(os.getpid()))
    os.replace(folder / "reached.tmp", folder / "reached")
    while not (folder / "release").exists():  # the test releases it (or kills this process)
        time.sleep(0.05)


certificate_stored.connect(_pause)

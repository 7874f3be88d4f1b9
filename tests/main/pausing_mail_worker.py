"""The Celery app of the mail kill test: the real worker, pausing inside its first delivery,
after the message is claimed and before it is sent, so the test can kill the whole worker.

Start it with `celery -A tests.main.pausing_mail_worker worker` and MAIL_PAUSE_DIR set to a
folder holding a file named `armed`.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from campus.mail import tasks
from workers import app  # noqa: F401  (what `celery -A` loads)

_real_send = tasks._send


def _pausing_send(message, config) -> None:
    folder = Path(os.environ["MAIL_PAUSE_DIR"])
    try:
        os.rename(folder / "armed", folder / "claimed")  # atomic: only the first one pauses
    except FileNotFoundError:
        return _real_send(message, config)
    (folder / "reached.tmp").write_text(str(os.getpid()))
    os.replace(folder / "reached.tmp", folder / "reached")
    while not (folder / "release").exists():  # the test kills this process instead
        time.sleep(0.05)
    return _real_send(message, config)


tasks._send = _pausing_send

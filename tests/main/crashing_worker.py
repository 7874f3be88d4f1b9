"""The Celery app of the poison-message test: the real worker, plus a task that kills the
process running it every time, as a message that crashes its worker (or runs it out of memory)
would.

Start it with `celery -A tests.main.crashing_worker worker --pool=prefork`.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

from workers import app

CRASH_TASK = "tests.main.crash_every_time"


@app.task(name=CRASH_TASK)
def crash_every_time(folder: str) -> None:
    """Note this run in `folder`, then kill the pool process that runs it."""
    runs = Path(folder) / "runs"
    with runs.open("a") as out:
        out.write(f"{os.getpid()}\n")
    os.kill(os.getpid(), signal.SIGKILL)

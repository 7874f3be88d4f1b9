"""Impressions added up in memory per web process and written in one batch every few seconds.

A synchronous UPDATE and commit per search cost more than the rest of the search together
(bench/directory.py); the counts are a practitioner's rough reach, not money, so a process
keeps them for up to DIRECTORY_IMPRESSIONS_FLUSH_SECONDS and writes them all at once, one UPDATE
per distinct increment: with the next search once the interval is up, or, in a process that
serves no other, from a timer (else a quiet process held them for hours). What can be lost:
the counts a process holds when it is killed without warning (SIGKILL, power cut); a normal
stop writes them (atexit), and a failed write keeps them for the next attempt.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable

from flask import current_app
from sqlalchemy import bindparam, update
from sqlalchemy.engine import Engine

from campus.directory.models import DirectoryProfile

log = logging.getLogger(__name__)
_EXTENSION = "campus_directory_impressions"

# updated_at kept as it was: an impression is not a change to the profile.
_ADD = (
    update(DirectoryProfile)
    .where(DirectoryProfile.id.in_(bindparam("ids", expanding=True)))
    .values(
        impressions=DirectoryProfile.impressions + bindparam("n"),
        updated_at=DirectoryProfile.updated_at,
    )
)


class ImpressionBuffer:
    """Counts per profile id, written to the database at most every `interval` seconds."""

    def __init__(
        self,
        engine: Engine,
        interval: float,
        clock: Callable[[], float] = time.monotonic,
        *,
        timer: bool = False,
    ) -> None:
        self.engine = engine
        self.interval = interval
        self.clock = clock
        self.pending: Counter[int] = Counter()
        self.lock = threading.Lock()
        self.last_flush = clock()
        self.timer = timer  # write held counts from a timer too, not only with the next search
        self._scheduled: threading.Timer | None = None

    def add(self, ids: Iterable[int]) -> None:
        """Count one impression for each id; write everything held once the interval is up."""
        with self.lock:
            self.pending.update(ids)
            due = self.clock() - self.last_flush >= self.interval
            if not due and self.timer and self._scheduled is None:
                # Started by the first count held: one timer per interval, never one per search.
                self._scheduled = threading.Timer(self.interval, self._flush_on_time)
                self._scheduled.daemon = True  # a stopping process writes them at exit instead
                self._scheduled.start()
        if due:
            self.flush()

    def _flush_on_time(self) -> None:
        with self.lock:
            self._scheduled = None
        self.flush()

    def flush(self) -> int:
        """Write the held counts (one UPDATE per distinct increment); return the profiles written.

        On an error the counts go back into the buffer for the next attempt, and it is logged.
        """
        with self.lock:
            counts, self.pending = self.pending, Counter()
            self.last_flush = self.clock()
        if not counts:
            return 0
        by_increment: dict[int, list[int]] = {}
        for profile_id, n in counts.items():
            by_increment.setdefault(n, []).append(profile_id)
        try:
            with self.engine.begin() as conn:
                for n, ids in sorted(by_increment.items()):
                    conn.execute(_ADD, {"ids": sorted(ids), "n": n})
        except Exception:
            log.exception("directory impressions not written; kept for the next attempt")
            with self.lock:
                self.pending.update(counts)
            return 0
        return len(counts)


def buffer() -> ImpressionBuffer:
    """This app's buffer, made on first use (in the serving process, after any fork)."""
    extensions = current_app.extensions
    found = extensions.get(_EXTENSION)
    if found is None:
        from campus.extensions import db

        interval = float(current_app.config.get("DIRECTORY_IMPRESSIONS_FLUSH_SECONDS") or 0)
        found = extensions.setdefault(
            _EXTENSION, ImpressionBuffer(db.engine, interval, timer=interval > 0)
        )
        if interval > 0:
            atexit.register(found.flush)  # a normal stop writes what the process holds
    return found


def count(ids: Iterable[int]) -> None:
    """Count one impression for each profile a results page showed."""
    buffer().add(ids)

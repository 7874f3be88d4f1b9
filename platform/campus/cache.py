"""One kind of per-process cache: a bounded, thread-safe LRU whose entries carry a version.

Every per-process cache of the app (article pages, course snapshots, the catalog's stamp, the
download promo, template links) is a `VersionedLRU` registered on the app under a name, so the
same rules hold everywhere:

- an entry is served only for the version it was built from (a content version, a course's
  `updated_at`), so an edit committed in one process is never answered stale by another;
- an entry may also have a maximum age, for values re-read from the database now and then;
- every read and write holds one lock: gunicorn's threads share these caches, and an
  OrderedDict's `get` then `move_to_end` is two steps another thread can come between.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

from flask import Flask, current_app

V = TypeVar("V")

_MISSING: Any = object()
_REGISTRY = "campus.caches"


class VersionedLRU(Generic[V]):
    """A bounded LRU of key -> (version, value), safe to share between threads."""

    def __init__(
        self,
        max_entries: int,
        *,
        max_age: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries = max_entries
        self.max_age = max_age
        self._clock = clock
        self._data: OrderedDict[Hashable, tuple[Hashable, float, V]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, version: Hashable = None, default: Any = None) -> V | Any:
        """Return the value kept for `key` at `version` (else `default`), marking it recent."""
        with self._lock:
            hit = self._data.get(key)
            if hit is None:
                return default
            kept_version, stored_at, value = hit
            if kept_version != version or self._expired(stored_at):
                # A newer version replaces it anyway; dropping it now frees the slot early.
                del self._data[key]
                return default
            self._data.move_to_end(key)
            return value

    def put(self, key: Hashable, value: V, version: Hashable = None) -> V:
        """Keep `value` for `key` at `version`, forgetting the least recently used; return it."""
        stored_at = self._clock() if self.max_age is not None else 0.0
        with self._lock:
            self._data[key] = (version, stored_at, value)
            self._data.move_to_end(key)
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)
        return value

    def get_or_build(self, key: Hashable, version: Hashable, build: Callable[[], V]) -> V:
        """Return the value for `key` at `version`, building and keeping it when missing.

        `build` runs outside the lock: two threads missing together both build, and the
        second result simply replaces the first (both were built from the same version).
        """
        value = self.get(key, version, _MISSING)
        if value is _MISSING:
            value = self.put(key, build(), version)
        return value

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)

    def _expired(self, stored_at: float) -> bool:
        return self.max_age is not None and self._clock() - stored_at >= self.max_age


def app_cache(
    name: str, max_entries: int, *, max_age: float | None = None, app: Flask | None = None
) -> VersionedLRU[Any]:
    """Return the app's cache called `name`, creating it on first use."""
    registry: dict[str, VersionedLRU[Any]] = (app or current_app).extensions.setdefault(
        _REGISTRY, {}
    )
    cache = registry.get(name)
    if cache is None:
        # setdefault: two threads creating the same cache at once end up sharing one.
        cache = registry.setdefault(name, VersionedLRU(max_entries, max_age=max_age))
    return cache


def clear_caches(app: Flask | None = None, prefix: str = "") -> None:
    """Forget every entry of the app's caches whose name starts with `prefix`."""
    for name, cache in list((app or current_app).extensions.get(_REGISTRY, {}).items()):
        if name.startswith(prefix):
            cache.clear()

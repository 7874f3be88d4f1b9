"""The per-process cache every feature uses: versioned, bounded, least recently used, threadsafe."""

from __future__ import annotations

import pytest

from campus.cache import VersionedLRU, app_cache, clear_caches
from tests import support


def test_an_entry_is_served_only_for_the_version_it_was_built_from():
    cache: VersionedLRU[str] = VersionedLRU(4)
    cache.put("page", "old text", version=1)
    assert cache.get("page", 1) == "old text"
    assert cache.get("page", 2) is None
    assert cache.get("page", 1) is None  # the stale entry was dropped, not kept beside the new
    assert len(cache) == 0


def test_the_least_recently_used_entry_is_forgotten_first():
    cache: VersionedLRU[int] = VersionedLRU(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "a" is now the most recent
    cache.put("c", 3)
    assert cache.get("b") is None and cache.get("a") == 1 and cache.get("c") == 3


def test_an_entry_older_than_its_maximum_age_is_read_again():
    now = [100.0]
    cache: VersionedLRU[str] = VersionedLRU(2, max_age=60, clock=lambda: now[0])
    cache.put("promo", "guide")
    now[0] += 59.9
    assert cache.get("promo") == "guide"
    now[0] += 0.1
    assert cache.get("promo", default="missing") == "missing"


def test_get_or_build_builds_once_per_version_and_can_keep_none():
    cache: VersionedLRU[str | None] = VersionedLRU(4)
    calls: list[int] = []

    def build(version: int) -> str | None:
        calls.append(version)
        return None if version == 1 else f"v{version}"

    assert cache.get_or_build("k", 1, lambda: build(1)) is None
    assert cache.get_or_build("k", 1, lambda: build(1)) is None
    assert cache.get_or_build("k", 2, lambda: build(2)) == "v2"
    assert calls == [1, 2]


def test_a_cache_needs_room_for_one_entry():
    with pytest.raises(ValueError):
        VersionedLRU(0)


def test_threads_reading_writing_and_evicting_at_once_never_fail():
    cache: VersionedLRU[int] = VersionedLRU(4)

    def hammer(seed: int) -> None:
        for i in range(4000):
            cache.put((seed * 7 + i) % 9, i, version=i % 2)
            cache.get((seed + i) % 9, version=i % 2)
            cache.get_or_build((seed + 3 * i) % 9, i % 2, lambda i=i: i)

    assert support.hammer_in_threads(hammer) == []
    assert len(cache) <= 4


def test_each_app_has_its_own_named_caches_and_clears_them_by_prefix(app):
    with app.app_context():
        lessons = app_cache("learning.lessons", 8)
        assert app_cache("learning.lessons", 8) is lessons
        lessons.put(1, "lesson list", version="stamp")
        urls = app_cache("templating.urls", 8)
        urls.put("home", "/")
        clear_caches(prefix="learning.")
        assert lessons.get(1, "stamp") is None
        assert urls.get("home") == "/"

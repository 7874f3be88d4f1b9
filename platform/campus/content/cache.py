"""A small per-process cache of article pages, keyed by the content version in the database.

Every ORM change to an article, region, muscle or download gives `content_version` a fresh
random value in the same transaction; a page is cached under the version it was built from, so
once the change commits every process misses and rebuilds. What is cached is only what one kind
of reader may see.

Random, not a count: a database restored from a dump takes the version back to the dump's, and
a count would then climb through the same numbers again, each meeting the pages a process cached
under it before the restore (a page made public after the dump, served whole once more). A
fresh 63-bit value meets no earlier one.
"""

from __future__ import annotations

import secrets
from collections.abc import Hashable
from itertools import chain
from typing import Any, cast

from sqlalchemy import Table, event, insert, select, update
from sqlalchemy.orm import Session

from campus.cache import VersionedLRU, app_cache
from campus.content.models import Article, Category, ContentVersion, Download, Tag
from campus.models.reads import read

MAX_ENTRIES = 512
_WATCHED = (Article, Category, Tag, Download)
_VERSION = select(ContentVersion.version).where(ContentVersion.id == 1)
_TABLE = cast(Table, ContentVersion.__table__)


def current_version() -> int | None:
    """Return the content version, or None when there is none yet (then nothing is cached)."""
    return read(_VERSION).scalar()


def _store() -> VersionedLRU[Any]:
    return app_cache("content", MAX_ENTRIES)


def get(key: tuple, version: Hashable) -> Any:
    """Return the value cached for `key` at content `version` (None if absent or older)."""
    return _store().get(key, version)


def put(key: tuple, value: Any, version: Hashable) -> None:
    """Keep a value built at content `version`, forgetting the least recently used."""
    _store().put(key, value, version)


@event.listens_for(Session, "before_flush")
def _bump_version(session: Session, _context, _instances) -> None:
    changed = chain(session.new, session.dirty, session.deleted)
    if not any(isinstance(obj, _WATCHED) for obj in changed):
        return
    connection = session.connection()
    version = secrets.randbits(63)  # a signed 64-bit column's every positive value
    bumped = connection.execute(update(_TABLE).where(_TABLE.c.id == 1).values(version=version))
    if bumped.rowcount == 0:
        connection.execute(insert(_TABLE).values(id=1, version=version))

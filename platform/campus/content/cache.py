"""A small per-process cache of article pages, keyed by the content version in the database.

Every ORM change to an article, region, muscle or download bumps `content_version` in the same
transaction; a page is cached under the version it was built from, so once the change commits
every process misses and rebuilds. What is cached is only what one kind of reader may see.
"""

from __future__ import annotations

from collections import OrderedDict
from itertools import chain
from typing import Any, cast

from flask import current_app
from sqlalchemy import Table, event, insert, select, update
from sqlalchemy.orm import Session

from campus.content.models import Article, Category, ContentVersion, Download, Tag
from campus.models.reads import read

MAX_ENTRIES = 512
_WATCHED = (Article, Category, Tag, Download)
_VERSION = select(ContentVersion.version).where(ContentVersion.id == 1)
_TABLE = cast(Table, ContentVersion.__table__)


def current_version() -> int | None:
    """Return the content version, or None when there is none yet (then nothing is cached)."""
    return read(_VERSION).scalar()


def _store() -> OrderedDict:
    return current_app.extensions.setdefault("content_cache", OrderedDict())


def get(key: tuple) -> Any:
    """Return a cached value (None if absent), marking it recently used."""
    store = _store()
    value = store.get(key)
    if value is not None:
        store.move_to_end(key)
    return value


def put(key: tuple, value: Any) -> None:
    """Keep a value, forgetting the least recently used beyond MAX_ENTRIES."""
    store = _store()
    store[key] = value
    store.move_to_end(key)
    while len(store) > MAX_ENTRIES:
        store.popitem(last=False)


@event.listens_for(Session, "before_flush")
def _bump_version(session: Session, _context, _instances) -> None:
    changed = chain(session.new, session.dirty, session.deleted)
    if not any(isinstance(obj, _WATCHED) for obj in changed):
        return
    connection = session.connection()
    bumped = connection.execute(
        update(_TABLE).where(_TABLE.c.id == 1).values(version=_TABLE.c.version + 1)
    )
    if bumped.rowcount == 0:
        connection.execute(insert(_TABLE).values(id=1, version=1))

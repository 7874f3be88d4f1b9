"""Stored files no record refers to any more, and the nightly sweep that deletes them.

A change that drops a file (an account deleted, an archive expired, a photo replaced) deletes
the file only once the change commits (storage.delete_after_commit): a rollback must keep it.
A process killed between that commit and the deletion, or storage away for that moment, leaves
a file that no row names: a deleted member's data archive, practical video or credential, kept
with nothing left to remove it. The sweep lists each kind's folder and deletes what no row
refers to. Certificates are not swept: their files are CE records, re-drawn from frozen data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from campus.extensions import db
from campus.models.base import utcnow
from campus.storage import get_storage

# A file is stored before the commit of the row naming it, on whichever machine took the
# request: one younger than this may belong to a change still under way, and is left alone.
ORPHAN_GRACE = timedelta(days=1)


@dataclass(frozen=True)
class Kind:
    """A folder of stored files and how to read the keys the database still refers to."""

    prefix: str
    referenced: Callable[[], set[str]]


def delete_unreferenced(kind: Kind) -> int:
    """Delete the files under the kind's folder, older than ORPHAN_GRACE, no row names; count."""
    storage = get_storage()
    cutoff = utcnow() - ORPHAN_GRACE
    # Listed first, then the rows read: a change committed in between is seen as in use.
    old = [key for key, stored_at in storage.listing(kind.prefix) if stored_at <= cutoff]
    if not old:
        return 0
    in_use = kind.referenced()
    deleted = 0
    for key in old:
        if key not in in_use:
            storage.delete(key)
            deleted += 1
    return deleted


def _keys(*columns, where=None) -> set[str]:
    """Every non-empty key held in these columns (of rows matching `where`)."""
    keys: set[str] = set()
    for column in columns:
        statement = select(column).where(column.is_not(None))
        if where is not None:
            statement = statement.where(where)
        keys.update(key for key in db.session.scalars(statement) if key)
    return keys


def _archives() -> set[str]:
    from campus.records.models import DataExport

    return _keys(DataExport.storage_key)


def _practical_videos() -> set[str]:
    from campus.programs.models import PracticalSubmission

    # A video removed past its retention keeps its key in the row, as a record it was there.
    return _keys(
        PracticalSubmission.storage_key, where=PracticalSubmission.video_removed_at.is_(None)
    )


def _credentials() -> set[str]:
    from campus.programs.models import Credential

    return _keys(Credential.storage_key, Credential.badge_key)


KINDS = (
    Kind("exports/", _archives),
    Kind("programs/practicals/", _practical_videos),
    Kind("programs/credentials/", _credentials),
)


def delete_orphans() -> dict[str, int]:
    """Sweep every kind of member file; the number deleted under each folder."""
    return {kind.prefix: delete_unreferenced(kind) for kind in KINDS}

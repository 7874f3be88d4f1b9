"""Write helpers every feature shares."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from campus.extensions import db


def insert_if_absent(model: Any, values: dict[str, Any], keys: list[str]) -> int | None:
    """Insert a row unless one with the same unique `keys` exists; return the new id or None.

    ON CONFLICT DO NOTHING makes concurrent duplicates (two tabs, a retried request, two
    workers) a no-op in the database itself rather than a race between a SELECT and an INSERT.
    A conflict on any other unique constraint still raises IntegrityError.
    """
    dialect = db.session.get_bind().dialect.name
    stmt: Any
    if dialect == "postgresql":
        stmt = pg_insert(model).values(**values).on_conflict_do_nothing(index_elements=keys)
    elif dialect == "sqlite":
        stmt = sqlite_insert(model).values(**values).on_conflict_do_nothing(index_elements=keys)
    else:  # pragma: no cover - other databases: a savepoint, then look for the duplicate
        try:
            with db.session.begin_nested():
                return db.session.execute(
                    insert(model).values(**values).returning(model.id)
                ).scalar()
        except IntegrityError:
            clash = select(model.id).where(*(getattr(model, k) == values[k] for k in keys))
            if db.session.scalar(clash.limit(1)) is not None:
                return None
            raise
    # RETURNING tells reliably (rowcount is not, for ORM-enabled inserts on every driver).
    return db.session.execute(stmt.returning(model.id)).scalar()


def lock_row(model: Any, row_id: int) -> None:
    """Hold a row's lock until the transaction ends, on every database.

    SQLite ignores FOR UPDATE, and its reads outside a transaction see each commit as it lands:
    two runs would both read the row unchanged, then both change it. A write that changes
    nothing takes the database's write lock first, so the second run waits, then reads the
    first one's commit. (Its timestamp is written back as it was: the row did not change.)
    """
    if db.session.get_bind().dialect.name == "sqlite":
        values: dict[str, Any] = {"id": model.id}
        if hasattr(model, "updated_at"):
            values["updated_at"] = model.updated_at
        db.session.execute(
            update(model)
            .where(model.id == row_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
    else:
        db.session.execute(select(model.id).where(model.id == row_id).with_for_update()).all()


def is_duplicate(error: IntegrityError) -> bool:
    """Tell whether the database refused a row because a unique value is taken.

    Not a missing row it refers to, nor a row others still refer to, nor an empty required
    column: those are integrity errors too, and a message about a duplicate would mislead.
    """
    orig = error.orig
    sqlstate = getattr(orig, "sqlstate", None)  # PostgreSQL (psycopg)
    if sqlstate:
        return sqlstate == "23505"
    name = getattr(orig, "sqlite_errorname", None)  # SQLite
    if name:
        return name in ("SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY")
    return "unique" in str(orig).lower()

"""Declarative base with a constraint naming convention and the timestamp mixin."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, MetaData
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, registry
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# The table arguments of a table whose rows are deleted (by an admin, an account's deletion, a
# sweep or the retention purge): SQLite hands the highest id out again once its row is gone,
# unless the table says AUTOINCREMENT, and the audit log files its entries about a row under
# its id, so a new row would show the deleted one's history as its own. PostgreSQL's
# sequences never hand an id out twice.
IDS_KEPT = {"sqlite_autoincrement": True}


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every backend (SQLite drops the zone otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Base for every model: named constraints so migrations are stable on every backend."""

    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime()},
    )


class TimestampMixin:
    """created_at / updated_at kept by the database layer."""

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def include_name(name: str | None, type_: str, parent_names: dict) -> bool:
    """Tell Alembic's comparison to skip tables kept by hand in migrations (e.g. FTS indexes).

    A feature lists their name prefixes in `metadata.info["unmanaged_table_prefixes"]`.
    """
    if type_ != "table" or not name:
        return True
    prefixes = tuple(Base.metadata.info.get("unmanaged_table_prefixes", ()))
    return not (prefixes and name.startswith(prefixes))

"""search: PostgreSQL keeps each article's tsvectors in its row, not in the TOAST table

Revision ID: 0016_search_inline
Revises: 0015_transcripts
Create Date: 2026-12-02 05:10:00

"""
from alembic import op


revision = "0016_search_inline"
down_revision = "0015_transcripts"
branch_labels = None
depends_on = None

COLUMNS = ("search_full", "search_preview")


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    # A search ranks every match, and an out-of-line tsvector costs several extra page reads
    # per article: MAIN keeps the vectors in the row (the long texts still move out first).
    _set_storage("MAIN")
    # Storage applies to values as they are written. PostgreSQL computes a stored column again
    # only when a column it is built from is updated: setting the title (in both documents)
    # writes each article's vectors anew, in the row.
    op.execute("UPDATE articles SET title = title")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    _set_storage("EXTENDED")


def _set_storage(kind: str) -> None:
    op.execute(
        "ALTER TABLE articles "
        + ", ".join(f"ALTER COLUMN {name} SET STORAGE {kind}" for name in COLUMNS)
    )

"""directory: a deleted profile's id is never given to a new one on SQLite (AUTOINCREMENT)

Revision ID: 0029_profile_ids_kept
Revises: 0028_reports_moved
Create Date: 2026-12-04 14:05:00

"""
from alembic import op


revision = "0029_profile_ids_kept"
down_revision = "0028_reports_moved"
branch_labels = None
depends_on = None


def upgrade():
    # PostgreSQL's sequence never hands an id out twice; SQLite's plain rowid reuses the
    # highest one once its row is deleted, and only a rebuilt table can say AUTOINCREMENT.
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "directory_profiles", recreate="always", table_kwargs={"sqlite_autoincrement": True}
    ):
        pass


def downgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "directory_profiles", recreate="always", table_kwargs={"sqlite_autoincrement": False}
    ):
        pass

"""licenses: a removed license's id is never given to a new one on SQLite (AUTOINCREMENT)

Revision ID: 0034_license_ids_kept
Revises: 0033_user_ids_kept
Create Date: 2026-12-05 02:40:00

"""
from alembic import op


revision = "0034_license_ids_kept"
down_revision = "0033_user_ids_kept"
branch_labels = None
depends_on = None


def upgrade():
    # The audit log files its entries about a license under its id: another member's license
    # given a removed one's id would show that license's history as its own. PostgreSQL's
    # sequence never hands an id out twice; SQLite's plain rowid reuses the highest one once
    # its row is deleted, and only a rebuilt table can say AUTOINCREMENT.
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "licenses", recreate="always", table_kwargs={"sqlite_autoincrement": True}
    ):
        pass


def downgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "licenses", recreate="always", table_kwargs={"sqlite_autoincrement": False}
    ):
        pass

"""accounts: a deleted account's id is never given to a new one on SQLite (AUTOINCREMENT)

Revision ID: 0033_user_ids_kept
Revises: 0032_quiz_paper_pass_mark
Create Date: 2026-12-05 02:30:00

"""
from alembic import op


revision = "0033_user_ids_kept"
down_revision = "0032_quiz_paper_pass_mark"
branch_labels = None
depends_on = None


def upgrade():
    # The audit log files its entries about an account under its id: a new account given a
    # deleted one's id would show that person's history as its own. PostgreSQL's sequence
    # never hands an id out twice; SQLite's plain rowid reuses the highest one once its row
    # is deleted, and only a rebuilt table can say AUTOINCREMENT.
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "users", recreate="always", table_kwargs={"sqlite_autoincrement": True}
    ):
        pass


def downgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "users", recreate="always", table_kwargs={"sqlite_autoincrement": False}
    ):
        pass

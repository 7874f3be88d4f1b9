"""directory: a message counts its relays cut off by their worker's death, so one that kills it ends

Revision ID: 0047_message_cut_off_tries
Revises: 0046_webhook_cut_off_tries
Create Date: 2026-12-05 18:20:00

"""

import sqlalchemy as sa
from alembic import op


revision = "0047_message_cut_off_tries"
down_revision = "0046_webhook_cut_off_tries"
branch_labels = None
depends_on = None


def upgrade():
    # Rebuilt on SQLite: the table keeps its AUTOINCREMENT (0036_record_ids_kept).
    with op.batch_alter_table(
        "directory_messages", table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.add_column(
            sa.Column("cut_off_tries", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade():
    with op.batch_alter_table(
        "directory_messages", table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.drop_column("cut_off_tries")

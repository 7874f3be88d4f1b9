"""records: a data archive counts the tries at building it, so one that kills its worker ends

Revision ID: 0043_export_attempts
Revises: 0042_report_superseded
Create Date: 2026-12-05 17:00:00

"""

import sqlalchemy as sa
from alembic import op


revision = "0043_export_attempts"
down_revision = "0042_report_superseded"
branch_labels = None
depends_on = None


def upgrade():
    # Rebuilt on SQLite: the table keeps its AUTOINCREMENT (0036_record_ids_kept).
    with op.batch_alter_table(
        "data_exports", table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.add_column(
            sa.Column("attempts", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade():
    with op.batch_alter_table(
        "data_exports", table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.drop_column("attempts")

"""reporting: records a board holds under a license number since corrected, to withdraw

Revision ID: 0042_report_superseded
Revises: 0041_report_reference_text
Create Date: 2026-12-05 13:30:00

"""

import sqlalchemy as sa
from alembic import op


revision = "0042_report_superseded"
down_revision = "0041_report_reference_text"
branch_labels = None
depends_on = None


def upgrade():
    # Rebuilt on SQLite: the table keeps its AUTOINCREMENT (0036_record_ids_kept).
    with op.batch_alter_table(
        "reported_completions", table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.add_column(sa.Column("superseded", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column("superseded_due_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade():
    with op.batch_alter_table(
        "reported_completions", table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.drop_column("superseded_due_at")
        batch_op.drop_column("superseded")

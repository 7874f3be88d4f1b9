"""certificates: count the tries cut off by their worker's death, so one that kills it ends

Revision ID: 0045_certificate_cut_off_tries
Revises: 0044_license_current_since
Create Date: 2026-12-05 18:00:00

"""

import sqlalchemy as sa
from alembic import op


revision = "0045_certificate_cut_off_tries"
down_revision = "0044_license_current_since"
branch_labels = None
depends_on = None


def upgrade():
    # Rebuilt on SQLite: the table keeps its AUTOINCREMENT (0036_record_ids_kept).
    with op.batch_alter_table(
        "certificates", table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.add_column(
            sa.Column("cut_off_tries", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade():
    with op.batch_alter_table(
        "certificates", table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.drop_column("cut_off_tries")

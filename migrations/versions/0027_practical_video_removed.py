"""programs: a reviewed practical's video leaves the storage after its retention; the row says when

Revision ID: 0027_practical_video_removed
Revises: 0026_cetime_zones
Create Date: 2026-12-04 11:15:00

"""
import sqlalchemy as sa
from alembic import op


revision = "0027_practical_video_removed"
down_revision = "0026_cetime_zones"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("program_practicals", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("video_removed_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade():
    with op.batch_alter_table("program_practicals", schema=None) as batch_op:
        batch_op.drop_column("video_removed_at")

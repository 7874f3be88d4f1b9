"""reporting: each report keeps what its last send told the tracking system, and when a send
first went unanswered

Revision ID: 0023_report_sent
Revises: 0022_report_failed
Create Date: 2026-12-02 14:00:00

"""
import sqlalchemy as sa
from alembic import op


revision = "0023_report_sent"
down_revision = "0022_report_failed"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("reported_completions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sent", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("unanswered_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("reported_completions", schema=None) as batch_op:
        batch_op.drop_column("unanswered_at")
        batch_op.drop_column("sent")

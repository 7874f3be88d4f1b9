"""learning: a board approval keeps its first day, before which a completion was not approved

Revision ID: 0038_approval_valid_from
Revises: 0037_enrollment_completed_course
Create Date: 2026-12-05 07:30:00

"""
import sqlalchemy as sa
from alembic import op


revision = "0038_approval_valid_from"
down_revision = "0037_enrollment_completed_course"
branch_labels = None
depends_on = None


def upgrade():
    # Approvals so far have none (unknown): they stay in force on every day up to their end.
    with op.batch_alter_table("board_approvals") as batch_op:
        batch_op.add_column(sa.Column("valid_from", sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table("board_approvals") as batch_op:
        batch_op.drop_column("valid_from")

"""learning: a quiz attempt keeps the pass mark it started with

Revision ID: 0032_quiz_paper_pass_mark
Revises: 0031_audit_ip_address
Create Date: 2026-12-04 20:40:00

"""
import sqlalchemy as sa
from alembic import op


revision = "0032_quiz_paper_pass_mark"
down_revision = "0031_audit_ip_address"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("quiz_papers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pass_mark_percent", sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table("quiz_papers", schema=None) as batch_op:
        batch_op.drop_column("pass_mark_percent")

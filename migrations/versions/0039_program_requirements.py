"""programs: when a program's requirements last changed, which dates a credential it completed

Revision ID: 0039_program_requirements
Revises: 0038_approval_valid_from
Create Date: 2026-12-05 07:40:00

"""
import sqlalchemy as sa
from alembic import op


revision = "0039_program_requirements"
down_revision = "0038_approval_valid_from"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("programs") as batch_op:
        batch_op.add_column(
            sa.Column("requirements_changed_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade():
    with op.batch_alter_table("programs") as batch_op:
        batch_op.drop_column("requirements_changed_at")

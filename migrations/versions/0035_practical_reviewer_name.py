"""programs: a practical's verdict keeps its assessor's name after their account is gone

Revision ID: 0035_practical_reviewer_name
Revises: 0034_license_ids_kept
Create Date: 2026-12-05 04:40:00

"""
import sqlalchemy as sa
from alembic import op


revision = "0035_practical_reviewer_name"
down_revision = "0034_license_ids_kept"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("program_practicals") as batch_op:
        batch_op.add_column(sa.Column("reviewer_name", sa.String(length=120), nullable=True))
    # The verdicts given so far: their assessor's name as it is now is the nearest there is.
    op.execute(
        "UPDATE program_practicals SET reviewer_name = (SELECT full_name FROM users "
        "WHERE users.id = program_practicals.reviewer_id) WHERE reviewer_id IS NOT NULL"
    )


def downgrade():
    with op.batch_alter_table("program_practicals") as batch_op:
        batch_op.drop_column("reviewer_name")

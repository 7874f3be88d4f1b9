"""learning: an enrollment keeps the course as completed, for a certificate issued later

Revision ID: 0037_enrollment_completed_course
Revises: 0036_record_ids_kept
Create Date: 2026-12-05 05:40:00

"""
import sqlalchemy as sa
from alembic import op


revision = "0037_enrollment_completed_course"
down_revision = "0036_record_ids_kept"
branch_labels = None
depends_on = None


def upgrade():
    # Completions so far have none: their certificates print the course as it is at issue.
    with op.batch_alter_table("enrollments") as batch_op:
        batch_op.add_column(sa.Column("completed_course", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("enrollments") as batch_op:
        batch_op.drop_column("completed_course")

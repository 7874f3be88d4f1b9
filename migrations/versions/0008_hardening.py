"""longer certificate codes (80 random bits)

Revision ID: 0008_hardening
Revises: 0007_admin
Create Date: 2026-12-01 21:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0008_hardening"
down_revision = "0007_admin"
branch_labels = None
depends_on = None

_TABLES = ("certificates", "certificate_codes", "certificate_events")


def upgrade():
    for table in _TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                "code",
                existing_type=sa.String(length=20),
                type_=sa.String(length=32),
                existing_nullable=False,
            )


def downgrade():
    # Only safe while no code longer than 20 characters has been issued.
    for table in _TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                "code",
                existing_type=sa.String(length=32),
                type_=sa.String(length=20),
                existing_nullable=False,
            )

"""longer certificate codes (80 random bits)

Revision ID: 0009_hardening
Revises: 0008_sessions
Create Date: 2026-12-01 21:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0009_hardening"
down_revision = "0008_sessions"
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

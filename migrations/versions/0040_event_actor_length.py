"""certificates and programs: a history line names an admin by any address an account takes

Revision ID: 0040_event_actor_length
Revises: 0039_program_requirements
Create Date: 2026-12-05 10:20:00

"""
import sqlalchemy as sa
from alembic import op


revision = "0040_event_actor_length"
down_revision = "0039_program_requirements"
branch_labels = None
depends_on = None

# "admin " and an address of up to 320 characters (as users.email holds).
_TABLES = ("certificate_events", "program_credential_events")


def upgrade():
    for table in _TABLES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column(
                "actor", existing_type=sa.String(length=120), type_=sa.String(length=330)
            )


def downgrade():
    for table in _TABLES:
        op.execute(f"UPDATE {table} SET actor = substr(actor, 1, 120) WHERE length(actor) > 120")
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column(
                "actor", existing_type=sa.String(length=330), type_=sa.String(length=120)
            )

"""reporting: a board's receipt id is kept whole, however long

Revision ID: 0041_report_reference_text
Revises: 0040_event_actor_length
Create Date: 2026-12-05 11:15:00

"""
import sqlalchemy as sa
from alembic import op


revision = "0041_report_reference_text"
down_revision = "0040_event_actor_length"
branch_labels = None
depends_on = None


def upgrade():
    # Rebuilt on SQLite: the table keeps its AUTOINCREMENT (0036_record_ids_kept).
    with op.batch_alter_table(
        "reported_completions", table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.alter_column("reference", existing_type=sa.String(length=80), type_=sa.Text())


def downgrade():
    op.execute(
        "UPDATE reported_completions SET reference = substr(reference, 1, 80) "
        "WHERE length(reference) > 80"
    )
    with op.batch_alter_table(
        "reported_completions", table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.alter_column("reference", existing_type=sa.Text(), type_=sa.String(length=80))

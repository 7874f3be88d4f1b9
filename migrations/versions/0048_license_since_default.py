"""licenses: current_since defaults to the moment of the INSERT, for the release before 0044

Revision ID: 0048_license_since_default
Revises: 0047_message_cut_off_tries
Create Date: 2026-12-05 18:30:00

"""

import sqlalchemy as sa
from alembic import op


revision = "0048_license_since_default"
down_revision = "0047_message_cut_off_tries"
branch_labels = None
depends_on = None


def upgrade():
    # Old and new code run side by side while a deploy rolls: the release before 0044 adds a
    # license without naming current_since, and a NOT NULL column with no default refused it.
    # The moment it is entered is what the new code writes too.
    with op.batch_alter_table("licenses", table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.alter_column(
            "current_since",
            existing_type=sa.DateTime(timezone=True),
            existing_nullable=False,
            server_default=sa.func.current_timestamp(),
        )


def downgrade():
    with op.batch_alter_table("licenses", table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.alter_column(
            "current_since",
            existing_type=sa.DateTime(timezone=True),
            existing_nullable=False,
            server_default=None,
        )

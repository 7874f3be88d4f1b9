"""licenses: since when each has been current, so an edit moves no credential's earned date

Revision ID: 0044_license_current_since
Revises: 0043_export_attempts
Create Date: 2026-12-05 17:30:00

"""

import sqlalchemy as sa
from alembic import op


revision = "0044_license_current_since"
down_revision = "0043_export_attempts"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("licenses", table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.add_column(sa.Column("current_since", sa.DateTime(timezone=True), nullable=True))
    # The last change is the latest the site can vouch for; it was what counted until now.
    op.execute("UPDATE licenses SET current_since = updated_at")
    # Old and new code run side by side while a deploy rolls: the release before this one adds
    # a license without naming current_since, so the column defaults to the moment of the
    # INSERT, which is what the new code writes too.
    with op.batch_alter_table("licenses", table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.alter_column(
            "current_since",
            existing_type=sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.func.current_timestamp(),
        )


def downgrade():
    with op.batch_alter_table("licenses", table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.drop_column("current_since")

"""mail claims and unsubscribe links; marketing consent apart from the download

Revision ID: 0011_member
Revises: 0010_cetime
Create Date: 2026-12-01 22:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0011_member"
down_revision = "0010_cetime"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("email_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("unsubscribe_url", sa.String(length=500), nullable=True))
        batch_op.create_index("ix_email_messages_status", ["status"], unique=False)
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("marketing", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.add_column(sa.Column("unsubscribed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.drop_column("unsubscribed_at")
        batch_op.drop_column("marketing")
    with op.batch_alter_table("email_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_email_messages_status")
        batch_op.drop_column("unsubscribe_url")
        batch_op.drop_column("claimed_at")

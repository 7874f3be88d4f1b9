"""billing: count a stored event's claimed tries cut off apart from its failed ones

Revision ID: 0046_webhook_cut_off_tries
Revises: 0045_certificate_cut_off_tries
Create Date: 2026-12-05 18:10:00

"""

import sqlalchemy as sa
from alembic import op


revision = "0046_webhook_cut_off_tries"
down_revision = "0045_certificate_cut_off_tries"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("webhook_events") as batch_op:
        batch_op.add_column(
            sa.Column("cut_off_tries", sa.Integer(), nullable=False, server_default="0")
        )
    # An event a drain holds now has one claimed try unfinished; its earlier tries (failed
    # ones among them, which the old count mixed in) are not known to have been cut off.
    op.execute("UPDATE webhook_events SET cut_off_tries = 1 WHERE status = 'processing'")


def downgrade():
    with op.batch_alter_table("webhook_events") as batch_op:
        batch_op.drop_column("cut_off_tries")

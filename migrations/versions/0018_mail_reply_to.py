"""mail: a Reply-To per message, so a relayed directory message answers its sender

Revision ID: 0018_mail_reply_to
Revises: 0017_directory_units
Create Date: 2026-12-02 06:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0018_mail_reply_to"
down_revision = "0017_directory_units"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("email_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reply_to", sa.String(length=320), nullable=True))


def downgrade():
    with op.batch_alter_table("email_messages", schema=None) as batch_op:
        batch_op.drop_column("reply_to")

"""audit: each entry keeps the client address of the request that made the change

Revision ID: 0031_audit_ip_address
Revises: 0030_content_version_random
Create Date: 2026-12-04 16:45:00

"""
import sqlalchemy as sa
from alembic import op


revision = "0031_audit_ip_address"
down_revision = "0030_content_version_random"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("admin_audit_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ip_address", sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table("admin_audit_entries", schema=None) as batch_op:
        batch_op.drop_column("ip_address")

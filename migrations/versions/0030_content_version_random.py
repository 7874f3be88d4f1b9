"""content: the content version is a random 64-bit number, so a restored dump never repeats one

Revision ID: 0030_content_version_random
Revises: 0029_profile_ids_kept
Create Date: 2026-12-04 14:20:00

"""
import sqlalchemy as sa
from alembic import op


revision = "0030_content_version_random"
down_revision = "0029_profile_ids_kept"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("content_version", schema=None) as batch_op:
        batch_op.alter_column("version", type_=sa.BigInteger(), existing_type=sa.Integer())


def downgrade():
    # A random value may not fit 32 bits; any value works, since caches only compare it.
    op.execute("UPDATE content_version SET version = 0")
    with op.batch_alter_table("content_version", schema=None) as batch_op:
        batch_op.alter_column("version", type_=sa.Integer(), existing_type=sa.BigInteger())

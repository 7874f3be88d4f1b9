"""stored files keyed from the storage root: certificates/..., learning-resources/...

Revision ID: 0014_storage
Revises: 0014_licenses
Create Date: 2026-12-02 01:00:00

Keys used to be relative to a folder per feature (<instance>/certificates/CE-....pdf); one store
(a folder or an S3 bucket) now holds every feature's files under "<feature>/...". Local files
stay where they are: the instance folder is the local store's root.
"""
from alembic import op


revision = "0014_storage"
down_revision = "0014_licenses"
branch_labels = None
depends_on = None

_TABLES = (("certificates", "certificates/"), ("lesson_resources", "learning-resources/"))


def upgrade():
    for table, prefix in _TABLES:
        op.execute(
            f"UPDATE {table} SET storage_key = '{prefix}' || storage_key "
            f"WHERE storage_key IS NOT NULL AND storage_key NOT LIKE '{prefix}%'"
        )


def downgrade():
    for table, prefix in _TABLES:
        op.execute(
            f"UPDATE {table} SET storage_key = substr(storage_key, {len(prefix) + 1}) "
            f"WHERE storage_key LIKE '{prefix}%'"
        )

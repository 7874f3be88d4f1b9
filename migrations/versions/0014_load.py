"""search: stored tsvectors on PostgreSQL, a covering index for the search filters

Revision ID: 0014_load
Revises: 0014_records
Create Date: 2026-12-02 01:10:00

"""
from alembic import op


revision = "0014_load"
down_revision = "0014_records"
branch_labels = None
depends_on = None

# The documents 0004 indexed by expression; now stored once per article and ranked from there.
DOCUMENTS = {
    "preview": "title || ' ' || summary || ' ' || preview_text",
    "full": "title || ' ' || summary || ' ' || full_text",
}


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        # SQLite stores the long texts inline: a search's filters read from this index instead
        # of each article's row. PostgreSQL keeps long texts apart and does not need it.
        with op.batch_alter_table("articles", schema=None) as batch_op:
            batch_op.create_index(
                "ix_articles_search_filter",
                ["status", "visibility", "published_at", "category_id"],
                unique=False,
            )
    if op.get_bind().dialect.name == "postgresql":
        for name, document in DOCUMENTS.items():
            op.execute(f"DROP INDEX IF EXISTS ix_articles_search_{name}")
            op.execute(
                f"ALTER TABLE articles ADD COLUMN search_{name} tsvector "
                f"GENERATED ALWAYS AS (to_tsvector('english'::regconfig, {document})) STORED"
            )
            op.execute(
                f"CREATE INDEX ix_articles_search_{name} ON articles USING gin (search_{name})"
            )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for name, document in DOCUMENTS.items():
            op.execute(f"DROP INDEX IF EXISTS ix_articles_search_{name}")
            op.execute(f"ALTER TABLE articles DROP COLUMN search_{name}")
            op.execute(
                f"CREATE INDEX ix_articles_search_{name} ON articles "
                f"USING gin (to_tsvector('english'::regconfig, {document}))"
            )
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("articles", schema=None) as batch_op:
            batch_op.drop_index("ix_articles_search_filter")

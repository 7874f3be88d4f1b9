"""lessons: a transcript (Markdown and its sanitized HTML) for lessons with a video

Revision ID: 0015_transcripts
Revises: 0014_load
Create Date: 2026-12-02 02:25:00

"""
import sqlalchemy as sa
from alembic import op


revision = "0015_transcripts"
down_revision = "0014_load"
branch_labels = None
depends_on = None


def upgrade():
    # Existing lessons get an empty transcript: published courses stay published; the rule that
    # a lesson with a video needs a transcript is checked when a course is next published.
    with op.batch_alter_table("lessons", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("transcript", sa.Text(), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("transcript_html", sa.Text(), nullable=False, server_default="")
        )
    with op.batch_alter_table("lessons", schema=None) as batch_op:
        batch_op.alter_column("transcript", server_default=None)
        batch_op.alter_column("transcript_html", server_default=None)


def downgrade():
    with op.batch_alter_table("lessons", schema=None) as batch_op:
        batch_op.drop_column("transcript_html")
        batch_op.drop_column("transcript")

"""reporting: a rejection about the provider's side is marked, so the member is not shown it

Revision ID: 0024_report_provider_fault
Revises: 0023_report_sent
Create Date: 2026-12-03 09:00:00

"""
import sqlalchemy as sa
from alembic import op


revision = "0024_report_provider_fault"
down_revision = "0023_report_sent"
branch_labels = None
depends_on = None

reports = sa.table(
    "reported_completions",
    sa.column("status", sa.String),
    sa.column("reason", sa.Text),
    sa.column("provider_fault", sa.Boolean),
)


def upgrade():
    with op.batch_alter_table("reported_completions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("provider_fault", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    # Rejections stored before this revision whose reasons are the provider's: a course
    # without CE Broker's tracking number, a request CE Broker refused before reading it.
    op.get_bind().execute(
        reports.update()
        .where(
            reports.c.status == "rejected",
            sa.or_(
                reports.c.reason.like("The course has no CE Broker course tracking number%"),
                reports.c.reason.like("CE Broker refused the request (HTTP %"),
            ),
        )
        .values(provider_fault=True)
    )


def downgrade():
    with op.batch_alter_table("reported_completions", schema=None) as batch_op:
        batch_op.drop_column("provider_fault")

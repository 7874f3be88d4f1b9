"""content: a lead keeps when it first asked apart from when (if ever) it agreed to marketing

Revision ID: 0025_lead_asked_at
Revises: 0024_report_provider_fault
Create Date: 2026-12-03 14:00:00

"""
import sqlalchemy as sa
from alembic import op


revision = "0025_lead_asked_at"
down_revision = "0024_report_provider_fault"
branch_labels = None
depends_on = None

leads = sa.table(
    "leads",
    sa.column("consent_text", sa.Text),
    sa.column("marketing", sa.Boolean),
    sa.column("consented_at", sa.DateTime(timezone=True)),
    sa.column("asked_at", sa.DateTime(timezone=True)),
)


def upgrade():
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("asked_at", sa.DateTime(timezone=True), nullable=True))
    # Until now consented_at held the first request of a lead that never agreed, and the moment
    # of agreeing for one that did: the best first-request time there is either way.
    op.get_bind().execute(leads.update().values(asked_at=leads.c.consented_at))
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.alter_column("asked_at", existing_type=sa.DateTime(timezone=True), nullable=False)
        batch_op.alter_column(
            "consented_at", existing_type=sa.DateTime(timezone=True), nullable=True
        )
    # A lead that never agreed has no moment of consent (one on the marketing list keeps its
    # date, whatever text it was stored with).
    op.get_bind().execute(
        leads.update()
        .where(leads.c.consent_text == "", leads.c.marketing.is_(False))
        .values(consented_at=None)
    )


def downgrade():
    op.get_bind().execute(
        leads.update()
        .where(leads.c.consented_at.is_(None))
        .values(consented_at=leads.c.asked_at)
    )
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.alter_column(
            "consented_at", existing_type=sa.DateTime(timezone=True), nullable=False
        )
        batch_op.drop_column("asked_at")

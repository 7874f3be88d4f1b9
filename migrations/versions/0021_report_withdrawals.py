"""reporting: a completion revoked after a board received it is due to be withdrawn there

Revision ID: 0021_report_withdrawals
Revises: 0020_totp_sealed
Create Date: 2026-12-02 08:30:00

"""
import sqlalchemy as sa
from alembic import op


revision = "0021_report_withdrawals"
down_revision = "0020_totp_sealed"
branch_labels = None
depends_on = None

reports = sa.table(
    "reported_completions",
    sa.column("certificate_id", sa.Integer),
    sa.column("withdrawal_due_at", sa.DateTime(timezone=True)),
)
certificates = sa.table(
    "certificates",
    sa.column("id", sa.Integer),
    sa.column("status", sa.String),
    sa.column("revoked_at", sa.DateTime(timezone=True)),
)


def upgrade():
    with op.batch_alter_table("reported_completions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("withdrawal_due_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True))
    # Certificates revoked before this revision: their reports are due from the revocation.
    revoked_at = (
        sa.select(certificates.c.revoked_at)
        .where(certificates.c.id == reports.c.certificate_id, certificates.c.status == "revoked")
        .scalar_subquery()
    )
    op.get_bind().execute(
        reports.update()
        .where(
            reports.c.certificate_id.in_(
                sa.select(certificates.c.id).where(certificates.c.status == "revoked")
            )
        )
        .values(withdrawal_due_at=sa.func.coalesce(revoked_at, sa.func.current_timestamp()))
    )


def downgrade():
    with op.batch_alter_table("reported_completions", schema=None) as batch_op:
        batch_op.drop_column("withdrawn_at")
        batch_op.drop_column("withdrawal_due_at")

"""reporting: a report given up on after its tries is "failed", for an admin to resend

Revision ID: 0022_report_failed
Revises: 0021_report_withdrawals
Create Date: 2026-12-03 09:00:00

"""
from alembic import op


revision = "0022_report_failed"
down_revision = "0021_report_withdrawals"
branch_labels = None
depends_on = None

_BEFORE = "status IN ('pending', 'sent', 'accepted', 'rejected', 'not_configured', 'cancelled')"
_AFTER = (
    "status IN ('pending', 'sent', 'accepted', 'rejected', 'not_configured', 'cancelled', "
    "'failed')"
)


def upgrade():
    with op.batch_alter_table("reported_completions", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_reported_completions_status_known"), type_="check")
        batch_op.create_check_constraint("status_known", _AFTER)


def downgrade():
    # A failed report goes back to pending, which the sweep picks up again.
    op.execute("UPDATE reported_completions SET status = 'pending' WHERE status = 'failed'")
    with op.batch_alter_table("reported_completions", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_reported_completions_status_known"), type_="check")
        batch_op.create_check_constraint("status_known", _BEFORE)

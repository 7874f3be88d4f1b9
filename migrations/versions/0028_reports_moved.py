"""reporting: a report per board (system and jurisdiction); one whose license moved away is marked

Revision ID: 0028_reports_moved
Revises: 0027_practical_video_removed
Create Date: 2026-12-04 14:00:00

"""

import sqlalchemy as sa
from alembic import op


revision = "0028_reports_moved"
down_revision = "0027_practical_video_removed"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("reported_completions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("moved_at", sa.DateTime(timezone=True), nullable=True))
        # A certificate reissued for a license in another state of the same system is reported
        # to that state's board too, while the first state's report stays as the record of what
        # that board holds: once per (certificate, system, jurisdiction).
        batch_op.drop_constraint("uq_reported_completions_certificate_id", type_="unique")
        batch_op.create_unique_constraint(
            "uq_reported_completions_certificate_id", ["certificate_id", "system", "jurisdiction"]
        )


reports = sa.table(
    "reported_completions",
    sa.column("id", sa.Integer),
    sa.column("certificate_id", sa.Integer),
    sa.column("system", sa.String),
    sa.column("moved_at", sa.DateTime(timezone=True)),
)


def downgrade():
    # One report per (certificate, system) again: a moved-away report gives way to its
    # certificate's current one.
    current = reports.alias("current")
    op.get_bind().execute(
        reports.delete().where(
            reports.c.moved_at.is_not(None),
            sa.exists().where(
                current.c.certificate_id == reports.c.certificate_id,
                current.c.system == reports.c.system,
                current.c.id != reports.c.id,
            ),
        )
    )
    with op.batch_alter_table("reported_completions", schema=None) as batch_op:
        batch_op.drop_constraint("uq_reported_completions_certificate_id", type_="unique")
        batch_op.create_unique_constraint(
            "uq_reported_completions_certificate_id", ["certificate_id", "system"]
        )
        batch_op.drop_column("moved_at")

"""completions reported to the boards' tracking systems (CE Broker)

Revision ID: 0014_reporting
Revises: 0014_storage
Create Date: 2026-12-02 01:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0014_reporting"
down_revision = "0014_storage"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "reported_completions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("certificate_id", sa.Integer(), nullable=False),
        sa.Column("system", sa.String(length=20), nullable=False),
        sa.Column("jurisdiction", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("reference", sa.String(length=80), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'sent', 'accepted', 'rejected', 'not_configured', 'cancelled')",
            name=op.f("ck_reported_completions_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["certificate_id"],
            ["certificates.id"],
            name=op.f("fk_reported_completions_certificate_id_certificates"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reported_completions")),
        sa.UniqueConstraint(
            "certificate_id", "system", name=op.f("uq_reported_completions_certificate_id")
        ),
    )
    with op.batch_alter_table("reported_completions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reported_completions_certificate_id"), ["certificate_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_reported_completions_status"), ["status"], unique=False
        )


def downgrade():
    with op.batch_alter_table("reported_completions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reported_completions_status"))
        batch_op.drop_index(batch_op.f("ix_reported_completions_certificate_id"))
    op.drop_table("reported_completions")

"""question banks and frozen quiz attempts

Revision ID: 0012_cequiz
Revises: 0011_member
Create Date: 2026-12-01 22:20:00

"""

from alembic import op
import sqlalchemy as sa


revision = "0012_cequiz"
down_revision = "0011_member"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("quizzes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("questions_per_attempt", sa.Integer(), nullable=True))
        batch_op.create_check_constraint(
            "questions_per_attempt_positive",
            "questions_per_attempt IS NULL OR questions_per_attempt >= 1",
        )
    with op.batch_alter_table("quiz_questions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("objective", sa.String(length=200), nullable=False, server_default="")
        )
    op.create_table(
        "quiz_papers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrollment_id", sa.Integer(), nullable=False),
        sa.Column("quiz_id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("layout", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["enrollment_id"],
            ["enrollments.id"],
            name=op.f("fk_quiz_papers_enrollment_id_enrollments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["quiz_id"],
            ["quizzes.id"],
            name=op.f("fk_quiz_papers_quiz_id_quizzes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quiz_papers")),
    )
    with op.batch_alter_table("quiz_papers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quiz_papers_enrollment_id"), ["enrollment_id"])
        batch_op.create_index(batch_op.f("ix_quiz_papers_quiz_id"), ["quiz_id"])
    with op.batch_alter_table("quiz_attempts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("paper_id", sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_quiz_attempts_paper_id"), ["paper_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_quiz_attempts_paper_id_quiz_papers"),
            "quiz_papers",
            ["paper_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade():
    with op.batch_alter_table("quiz_attempts", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_quiz_attempts_paper_id_quiz_papers"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("uq_quiz_attempts_paper_id"), type_="unique")
        batch_op.drop_column("paper_id")
    with op.batch_alter_table("quiz_papers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quiz_papers_quiz_id"))
        batch_op.drop_index(batch_op.f("ix_quiz_papers_enrollment_id"))
    op.drop_table("quiz_papers")
    with op.batch_alter_table("quiz_questions", schema=None) as batch_op:
        batch_op.drop_column("objective")
    with op.batch_alter_table("quizzes", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_quizzes_questions_per_attempt_positive"), type_="check")
        batch_op.drop_column("questions_per_attempt")

"""certification programs: courses, exam, practicals, credentials

Revision ID: 0014_programs
Revises: 0013_api
Create Date: 2026-12-02 00:47:29.348786

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0014_programs"
down_revision = "0013_api"
branch_labels = None
depends_on = None


def upgrade():

    op.create_table(
        "programs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("accrediting_body", sa.String(length=200), nullable=True),
        sa.Column("professions", sa.JSON(), nullable=False),
        sa.Column("license_required", sa.Boolean(), nullable=False),
        sa.Column("elective_hours", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("validity_months", sa.Integer(), nullable=False),
        sa.Column("renewal_hours", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("exam_domain_weights", sa.JSON(), nullable=False),
        sa.Column("exam_question_count", sa.Integer(), nullable=False),
        sa.Column("exam_time_limit_minutes", sa.Integer(), nullable=False),
        sa.Column("exam_pass_mark", sa.Integer(), nullable=False),
        sa.Column("exam_attempts_allowed", sa.Integer(), nullable=False),
        sa.Column("exam_retake_wait_days", sa.Integer(), nullable=False),
        sa.Column("practical_required", sa.Boolean(), nullable=False),
        sa.Column("practical_techniques", sa.Text(), nullable=False),
        sa.Column("rubric", sa.Text(), nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "exam_pass_mark BETWEEN 1 AND 100", name=op.f("ck_programs_pass_mark_percent")
        ),
        sa.CheckConstraint(
            "exam_time_limit_minutes > 0", name=op.f("ck_programs_time_limit_positive")
        ),
        sa.CheckConstraint("validity_months > 0", name=op.f("ck_programs_validity_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programs")),
        sa.UniqueConstraint("slug", name=op.f("uq_programs_slug")),
    )
    with op.batch_alter_table("programs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_programs_published"), ["published"], unique=False)

    op.create_table(
        "program_courses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('required', 'elective')", name=op.f("ck_program_courses_kind_known")
        ),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_program_courses_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["programs.id"],
            name=op.f("fk_program_courses_program_id_programs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_program_courses")),
        sa.UniqueConstraint("program_id", "course_id", name=op.f("uq_program_courses_program_id")),
    )
    with op.batch_alter_table("program_courses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_program_courses_course_id"), ["course_id"], unique=False
        )

    op.create_table(
        "program_credentials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("earned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("storage_key", sa.String(length=200), nullable=True),
        sa.Column("badge_key", sa.String(length=200), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("renewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'issued', 'failed', 'revoked')",
            name=op.f("ck_program_credentials_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["programs.id"],
            name=op.f("fk_program_credentials_program_id_programs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_program_credentials_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_program_credentials")),
        sa.UniqueConstraint("code", name=op.f("uq_program_credentials_code")),
        sa.UniqueConstraint(
            "user_id", "program_id", "period", name=op.f("uq_program_credentials_user_id")
        ),
    )
    with op.batch_alter_table("program_credentials", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_program_credentials_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_program_credentials_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "program_exam_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("domain", sa.String(length=80), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("choices", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["programs.id"],
            name=op.f("fk_program_exam_questions_program_id_programs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_program_exam_questions")),
    )
    with op.batch_alter_table("program_exam_questions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_program_exam_questions_program_id"), ["program_id"], unique=False
        )

    op.create_table(
        "program_exam_sittings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deadline_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_reason", sa.String(length=10), nullable=True),
        sa.Column("layout", sa.JSON(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("pass_mark", sa.Integer(), nullable=False),
        sa.Column("score_percent", sa.Integer(), nullable=True),
        sa.Column("passed", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["programs.id"],
            name=op.f("fk_program_exam_sittings_program_id_programs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_program_exam_sittings_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_program_exam_sittings")),
        sa.UniqueConstraint(
            "user_id", "program_id", "number", name=op.f("uq_program_exam_sittings_user_id")
        ),
    )
    with op.batch_alter_table("program_exam_sittings", schema=None) as batch_op:
        batch_op.create_index(
            "ix_program_exam_sittings_open", ["closed_at", "deadline_at"], unique=False
        )

    op.create_table(
        "program_practicals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("storage_key", sa.String(length=200), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("comments", sa.Text(), nullable=False),
        sa.Column("rubric_marks", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('submitted', 'passed', 'returned')",
            name=op.f("ck_program_practicals_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["programs.id"],
            name=op.f("fk_program_practicals_program_id_programs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"],
            ["users.id"],
            name=op.f("fk_program_practicals_reviewer_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_program_practicals_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_program_practicals")),
    )
    with op.batch_alter_table("program_practicals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_program_practicals_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_program_practicals_user_id"), ["user_id"], unique=False
        )
        batch_op.create_index(
            "ix_program_practicals_user_program", ["user_id", "program_id"], unique=False
        )

    op.create_table(
        "program_credential_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("credential_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["credential_id"],
            ["program_credentials.id"],
            name=op.f("fk_program_credential_events_credential_id_program_credentials"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_program_credential_events")),
    )
    with op.batch_alter_table("program_credential_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_program_credential_events_credential_id"),
            ["credential_id"],
            unique=False,
        )


def downgrade():

    with op.batch_alter_table("program_credential_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_program_credential_events_credential_id"))

    op.drop_table("program_credential_events")
    with op.batch_alter_table("program_practicals", schema=None) as batch_op:
        batch_op.drop_index("ix_program_practicals_user_program")
        batch_op.drop_index(batch_op.f("ix_program_practicals_user_id"))
        batch_op.drop_index(batch_op.f("ix_program_practicals_status"))

    op.drop_table("program_practicals")
    with op.batch_alter_table("program_exam_sittings", schema=None) as batch_op:
        batch_op.drop_index("ix_program_exam_sittings_open")

    op.drop_table("program_exam_sittings")
    with op.batch_alter_table("program_exam_questions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_program_exam_questions_program_id"))

    op.drop_table("program_exam_questions")
    with op.batch_alter_table("program_credentials", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_program_credentials_user_id"))
        batch_op.drop_index(batch_op.f("ix_program_credentials_status"))

    op.drop_table("program_credentials")
    with op.batch_alter_table("program_courses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_program_courses_course_id"))

    op.drop_table("program_courses")
    with op.batch_alter_table("programs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_programs_published"))

    op.drop_table("programs")

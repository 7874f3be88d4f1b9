"""seat time measured on the server; course evaluation and attestation

Revision ID: 0010_cetime
Revises: 0009_hardening
Create Date: 2026-12-01 22:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0010_cetime"
down_revision = "0009_hardening"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("enrollments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seat_beat_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("evaluated_at", sa.DateTime(), nullable=True))
    # Enrollments completed before evaluations existed keep their certificates flowing.
    op.execute("UPDATE enrollments SET evaluated_at = completed_at WHERE completed_at IS NOT NULL")

    op.create_table(
        "lesson_seat_time",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrollment_id", sa.Integer(), nullable=False),
        sa.Column("lesson_id", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Integer(), nullable=False),
        sa.Column("beats", sa.Integer(), nullable=False),
        sa.Column("first_at", sa.DateTime(), nullable=False),
        sa.Column("last_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("seconds >= 0", name=op.f("ck_lesson_seat_time_seconds_not_negative")),
        sa.ForeignKeyConstraint(
            ["enrollment_id"], ["enrollments.id"],
            name=op.f("fk_lesson_seat_time_enrollment_id_enrollments"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["lesson_id"], ["lessons.id"],
            name=op.f("fk_lesson_seat_time_lesson_id_lessons"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lesson_seat_time")),
        sa.UniqueConstraint(
            "enrollment_id", "lesson_id", name=op.f("uq_lesson_seat_time_enrollment_id")
        ),
    )
    op.create_index(
        op.f("ix_lesson_seat_time_lesson_id"), "lesson_seat_time", ["lesson_id"], unique=False
    )

    op.create_table(
        "course_evaluations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrollment_id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("objectives_met", sa.Integer(), nullable=False),
        sa.Column("relevance", sa.Integer(), nullable=False),
        sa.Column("presenter", sa.Integer(), nullable=False),
        sa.Column("content_quality", sa.Integer(), nullable=False),
        sa.Column("minutes_taken", sa.Integer(), nullable=False),
        sa.Column("comments", sa.Text(), nullable=False),
        sa.Column("attestation", sa.String(length=500), nullable=False),
        sa.Column("submitted_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "objectives_met BETWEEN 1 AND 5 AND relevance BETWEEN 1 AND 5 "
            "AND presenter BETWEEN 1 AND 5 AND content_quality BETWEEN 1 AND 5",
            name=op.f("ck_course_evaluations_ratings_range"),
        ),
        sa.CheckConstraint(
            "minutes_taken BETWEEN 1 AND 100000",
            name=op.f("ck_course_evaluations_minutes_taken_range"),
        ),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"],
            name=op.f("fk_course_evaluations_course_id_courses"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["enrollment_id"], ["enrollments.id"],
            name=op.f("fk_course_evaluations_enrollment_id_enrollments"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course_evaluations")),
        sa.UniqueConstraint("enrollment_id", name=op.f("uq_course_evaluations_enrollment_id")),
    )
    op.create_index(
        op.f("ix_course_evaluations_course_id"), "course_evaluations", ["course_id"], unique=False
    )


def downgrade():
    op.drop_index(op.f("ix_course_evaluations_course_id"), table_name="course_evaluations")
    op.drop_table("course_evaluations")
    op.drop_index(op.f("ix_lesson_seat_time_lesson_id"), table_name="lesson_seat_time")
    op.drop_table("lesson_seat_time")
    with op.batch_alter_table("enrollments", schema=None) as batch_op:
        batch_op.drop_column("evaluated_at")
        batch_op.drop_column("seat_beat_at")

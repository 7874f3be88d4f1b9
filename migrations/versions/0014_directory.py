"""practitioner directory: profiles, their specialties and professions, relayed messages

Revision ID: 0014_directory
Revises: 0014_programs
Create Date: 2026-12-02 01:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0014_directory"
down_revision = "0014_programs"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "directory_profiles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("display_name", sa.String(length=120), nullable=False),
        sa.Column("practice_name", sa.String(length=160), nullable=False),
        sa.Column("street", sa.String(length=200), nullable=False),
        sa.Column("city", sa.String(length=100), nullable=False),
        sa.Column("state", sa.String(length=2), nullable=False),
        sa.Column("zip_code", sa.String(length=5), nullable=False),
        sa.Column("show_street", sa.Boolean(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("bio", sa.Text(), nullable=False),
        sa.Column("bio_html", sa.Text(), nullable=False),
        sa.Column("website", sa.String(length=300), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.Column("photo_key", sa.String(length=200), nullable=True),
        sa.Column("accepting_clients", sa.Boolean(), nullable=False),
        sa.Column("contact_enabled", sa.Boolean(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("hidden_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("hidden_reason", sa.Text(), nullable=False),
        sa.Column("listed", sa.Boolean(), nullable=False),
        sa.Column("specialty_mask", sa.BigInteger(), nullable=False),
        sa.Column("profession_mask", sa.Integer(), nullable=False),
        sa.Column("impressions", sa.Integer(), nullable=False),
        sa.Column("messages_received", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_directory_profiles_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directory_profiles")),
        sa.UniqueConstraint("slug", name=op.f("uq_directory_profiles_slug")),
    )
    with op.batch_alter_table("directory_profiles", schema=None) as batch_op:
        batch_op.create_index(
            "ix_directory_profiles_search",
            ["listed", "lat", "lon", "specialty_mask", "profession_mask", "id", "user_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_directory_profiles_user_id"), ["user_id"], unique=True
        )
        batch_op.create_index(
            batch_op.f("ix_directory_profiles_photo_key"), ["photo_key"], unique=False
        )
    op.create_table(
        "directory_profile_specialties",
        sa.Column("profile_id", sa.Integer(), nullable=False),
        sa.Column("specialty", sa.String(length=60), nullable=False),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["directory_profiles.id"],
            name=op.f("fk_directory_profile_specialties_profile_id_directory_profiles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "profile_id", "specialty", name=op.f("pk_directory_profile_specialties")
        ),
    )
    op.create_index(
        "ix_directory_profile_specialties_specialty",
        "directory_profile_specialties",
        ["specialty", "profile_id"],
    )
    op.create_table(
        "directory_profile_professions",
        sa.Column("profile_id", sa.Integer(), nullable=False),
        sa.Column("profession", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["directory_profiles.id"],
            name=op.f("fk_directory_profile_professions_profile_id_directory_profiles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "profile_id", "profession", name=op.f("pk_directory_profile_professions")
        ),
    )
    op.create_index(
        "ix_directory_profile_professions_profession",
        "directory_profile_professions",
        ["profession", "profile_id"],
    )
    op.create_table(
        "directory_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("profile_id", sa.Integer(), nullable=False),
        sa.Column("sender_name", sa.String(length=120), nullable=False),
        sa.Column("sender_email", sa.String(length=320), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("relayed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["directory_profiles.id"],
            name=op.f("fk_directory_messages_profile_id_directory_profiles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directory_messages")),
    )
    with op.batch_alter_table("directory_messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_directory_messages_profile_id"), ["profile_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_directory_messages_created_at"), ["created_at"], unique=False
        )


def downgrade():
    op.drop_table("directory_messages")
    op.drop_index(
        "ix_directory_profile_professions_profession", table_name="directory_profile_professions"
    )
    op.drop_table("directory_profile_professions")
    op.drop_index(
        "ix_directory_profile_specialties_specialty", table_name="directory_profile_specialties"
    )
    op.drop_table("directory_profile_specialties")
    op.drop_table("directory_profiles")

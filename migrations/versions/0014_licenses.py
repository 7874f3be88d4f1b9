"""licenses, renewal rules and reminders; a certificate names its license

Moves every users.license_number / license_state pair into a licenses row (state names become
postal codes where they name a state; other text is kept as it was), links each certificate
whose frozen number matches to that row, then drops the two user columns. The downgrade puts
each user's first license back on the user.

Revision ID: 0014_licenses
Revises: 0013_api
Create Date: 2026-12-02 00:45:00

"""

from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


revision = "0014_licenses"
down_revision = "0013_api"
branch_labels = None
depends_on = None

_STATES = {
    "alabama": "AL",
    "alaska": "AK",
    "arizona": "AZ",
    "arkansas": "AR",
    "california": "CA",
    "colorado": "CO",
    "connecticut": "CT",
    "delaware": "DE",
    "district of columbia": "DC",
    "florida": "FL",
    "georgia": "GA",
    "hawaii": "HI",
    "idaho": "ID",
    "illinois": "IL",
    "indiana": "IN",
    "iowa": "IA",
    "kansas": "KS",
    "kentucky": "KY",
    "louisiana": "LA",
    "maine": "ME",
    "maryland": "MD",
    "massachusetts": "MA",
    "michigan": "MI",
    "minnesota": "MN",
    "mississippi": "MS",
    "missouri": "MO",
    "montana": "MT",
    "nebraska": "NE",
    "nevada": "NV",
    "new hampshire": "NH",
    "new jersey": "NJ",
    "new mexico": "NM",
    "new york": "NY",
    "north carolina": "NC",
    "north dakota": "ND",
    "ohio": "OH",
    "oklahoma": "OK",
    "oregon": "OR",
    "pennsylvania": "PA",
    "puerto rico": "PR",
    "rhode island": "RI",
    "south carolina": "SC",
    "south dakota": "SD",
    "tennessee": "TN",
    "texas": "TX",
    "utah": "UT",
    "vermont": "VT",
    "virginia": "VA",
    "washington": "WA",
    "west virginia": "WV",
    "wisconsin": "WI",
    "wyoming": "WY",
}
_CODES = set(_STATES.values()) | {"NCBTMB", "BOC"}


def _jurisdiction(text):
    value = " ".join((text or "").split())
    if value.upper() in _CODES:
        return value.upper()
    return _STATES.get(value.lower(), value)


def _move_licenses_out_of_users():
    bind = op.get_bind()
    users = sa.table(
        "users",
        sa.column("id", sa.Integer),
        sa.column("profession", sa.String),
        sa.column("license_number", sa.String),
        sa.column("license_state", sa.String),
    )
    licenses = sa.table(
        "licenses",
        sa.column("id", sa.Integer),
        sa.column("user_id", sa.Integer),
        sa.column("profession", sa.String),
        sa.column("jurisdiction", sa.String),
        sa.column("number", sa.String),
        sa.column("reminders", sa.Boolean),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    certificates = sa.table(
        "certificates",
        sa.column("id", sa.Integer),
        sa.column("user_id", sa.Integer),
        sa.column("data", sa.JSON),
        sa.column("license_id", sa.Integer),
    )
    now = datetime.now(timezone.utc)
    rows = bind.execute(
        sa.select(users.c.id, users.c.profession, users.c.license_number, users.c.license_state)
        .where(
            sa.or_(
                sa.func.coalesce(users.c.license_number, "") != "",
                sa.func.coalesce(users.c.license_state, "") != "",
            )
        )
        .order_by(users.c.id)
    ).all()
    for user_id, profession, number, state in rows:
        license_id = bind.execute(
            licenses.insert()
            .values(
                user_id=user_id,
                profession=profession or "other",
                jurisdiction=_jurisdiction(state),
                number=(number or "").strip(),
                reminders=True,
                created_at=now,
                updated_at=now,
            )
            .returning(licenses.c.id)
        ).scalar_one()
        # A certificate printed with this number was earned for this license.
        for cert_id, data in bind.execute(
            sa.select(certificates.c.id, certificates.c.data).where(
                certificates.c.user_id == user_id
            )
        ).all():
            if (data or {}).get("license_number", "").strip() == (number or "").strip():
                bind.execute(
                    certificates.update()
                    .where(certificates.c.id == cert_id)
                    .values(license_id=license_id)
                )


def upgrade():
    op.create_table(
        "licenses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("profession", sa.String(length=40), nullable=False),
        sa.Column("jurisdiction", sa.String(length=60), nullable=False),
        sa.Column("number", sa.String(length=60), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("reminders", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_licenses_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_licenses")),
    )
    with op.batch_alter_table("licenses", schema=None) as batch_op:
        batch_op.create_index(
            "ix_licenses_user_jurisdiction", ["user_id", "jurisdiction"], unique=False
        )
    op.create_table(
        "renewal_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("jurisdiction", sa.String(length=60), nullable=False),
        sa.Column("profession", sa.String(length=40), nullable=False),
        sa.Column("board", sa.String(length=200), nullable=False),
        sa.Column("hours_per_cycle", sa.Numeric(precision=6, scale=2), nullable=False),
        sa.Column("cycle_months", sa.Integer(), nullable=False),
        sa.Column("max_home_study_hours", sa.Numeric(precision=6, scale=2), nullable=True),
        sa.Column("capped_deliveries", sa.JSON(), nullable=False),
        sa.Column("required_subjects", sa.JSON(), nullable=False),
        sa.Column("accepted_approvals", sa.JSON(), nullable=False),
        sa.Column("voluntary", sa.Boolean(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("source_url", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_renewal_rules")),
        sa.UniqueConstraint(
            "jurisdiction", "profession", name=op.f("uq_renewal_rules_jurisdiction")
        ),
    )
    op.create_table(
        "renewal_reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("license_id", sa.Integer(), nullable=False),
        sa.Column("cycle_ends_on", sa.Date(), nullable=False),
        sa.Column("days_before", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["license_id"],
            ["licenses.id"],
            name=op.f("fk_renewal_reminders_license_id_licenses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_renewal_reminders")),
        sa.UniqueConstraint(
            "license_id",
            "cycle_ends_on",
            "days_before",
            name=op.f("uq_renewal_reminders_license_id"),
        ),
    )
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.add_column(sa.Column("license_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_certificates_license_id_licenses"),
            "licenses",
            ["license_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("enrollments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("license_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_enrollments_license_id_licenses"),
            "licenses",
            ["license_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("courses", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("subjects", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )

    _move_licenses_out_of_users()

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("license_state")
        batch_op.drop_column("license_number")


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("license_number", sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column("license_state", sa.String(length=60), nullable=True))
    bind = op.get_bind()
    # Each user's first license goes back on the user row (the older schema held one).
    for user_id, number, jurisdiction in bind.execute(
        sa.text(
            "SELECT user_id, number, jurisdiction FROM licenses l WHERE id = "
            "(SELECT MIN(id) FROM licenses WHERE user_id = l.user_id)"
        )
    ).all():
        bind.execute(
            sa.text(
                "UPDATE users SET license_number = :number, license_state = :state WHERE id = :id"
            ),
            {"number": number or None, "state": jurisdiction or None, "id": user_id},
        )
    with op.batch_alter_table("courses", schema=None) as batch_op:
        batch_op.drop_column("subjects")
    with op.batch_alter_table("enrollments", schema=None) as batch_op:
        batch_op.drop_constraint("fk_enrollments_license_id_licenses", type_="foreignkey")
        batch_op.drop_column("license_id")
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.drop_constraint("fk_certificates_license_id_licenses", type_="foreignkey")
        batch_op.drop_column("license_id")
    op.drop_table("renewal_reminders")
    op.drop_table("renewal_rules")
    with op.batch_alter_table("licenses", schema=None) as batch_op:
        batch_op.drop_index("ix_licenses_user_jurisdiction")
    op.drop_table("licenses")
